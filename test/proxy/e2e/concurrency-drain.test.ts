// `crossmesh proxy --concurrency 2` stopped with SIGTERM the moment its first worker has bound: the
// real CLI as a child process on a static bootstrap (port 0, a direct response, no upstream).
// The second worker may then still be loading its configuration or binding, and a drain
// request the primary sent it then used to be lost (an IPC message with no listener is dropped),
// leaving that worker, and so the proxy, running for good: 2 of 8 tries on a loaded machine. The
// race is timing-bound, so the test tries several times. Nothing is stood in.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Tries: each start and stop takes about a second and a half. */
const TRIES = 5;

function config(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'crossmesh-drain-')), 'envoy.yaml');
  writeFileSync(
    file,
    `static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200 }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`,
  );
  return file;
}

describe('crossmesh proxy --concurrency 2 and SIGTERM', () => {
  test('SIGTERM as soon as the first worker has bound (the other may still be starting) exits 0', async () => {
    const file = config();
    for (let i = 0; i < TRIES; i++) {
      // GIVEN two workers, the first of which has just bound its listener (the other most likely not yet)
      const child = spawn(
        process.execPath,
        [
          path.join(ROOT, 'bin/crossmesh.js'),
          'proxy',
          '-c',
          file,
          '--concurrency',
          '2',
          '--log-level',
          'info',
        ],
        {
          env: { ...process.env, CROSSMESH_DEV: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      closer.add(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let err = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr?.on('data', (d) => {
          err += d;
          if (err.includes('] listener ingress on ')) resolve();
        });
        void exited.then(() => reject(new Error(`exited before listening: ${err}`)));
      });
      // WHEN the primary gets SIGTERM at once
      child.kill('SIGTERM');
      // THEN every worker leaves and the proxy exits 0 (a lost drain request hangs here)
      const code = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r('still running'), 15_000)),
      ]);
      expect(code).toBe(0);
    }
  }, 120_000);
});
