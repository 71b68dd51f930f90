// `crossmesh proxy --concurrency 2` stopped with SIGTERM the moment its first worker has bound: the
// real CLI as a child process on a static bootstrap (port 0, a direct response, no upstream).
// The second worker may then still be loading its configuration or binding, and a drain
// request the primary sent it then used to be lost (an IPC message with no listener is dropped),
// leaving that worker, and so the proxy, running for good: 2 of 8 tries on a loaded machine. The
// race is timing-bound, so the test tries several times. Nothing is stood in.
import { afterEach, describe, expect, test } from 'vitest';
import { plainBootstrapYaml, spawnProxy, writeBootstrap } from './cli-helpers.js';
import { Closer } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** Tries: each start and stop takes about a second and a half. */
const TRIES = 5;

describe('crossmesh proxy --concurrency 2 and SIGTERM', () => {
  test('SIGTERM as soon as the first worker has bound (the other may still be starting) exits 0', async () => {
    const file = writeBootstrap(plainBootstrapYaml());
    for (let i = 0; i < TRIES; i++) {
      // GIVEN two workers, the first of which has just bound its listener (the other most likely not yet)
      const proxy = spawnProxy(closer, ['-c', file, '--concurrency', '2', '--log-level', 'info']);
      await proxy.until((err) => err.includes('] listener ingress on '));
      // WHEN the primary gets SIGTERM at once
      proxy.child.kill('SIGTERM');
      // THEN every worker leaves and the proxy exits 0 (a lost drain request hangs here)
      const code = await Promise.race([
        proxy.exit,
        new Promise((r) => setTimeout(() => r('still running'), 15_000)),
      ]);
      expect(code).toBe(0);
    }
  }, 120_000);
});
