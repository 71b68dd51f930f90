// `crossmesh proxy` as a user runs it: a real child process (the CLI through tsx), a real upstream,
// real signals. Listener ports are 0; the CLI reports the bound port on stderr. Nothing stood in.
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  leaveStaleSocket,
  plainBootstrapYaml,
  spawnProxy,
  startProxyCli,
  writeBootstrap,
} from './cli-helpers.js';
import { Closer, httpUpstream, request } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** The plain bootstrap routing to `upstreamPort`, in a temp file. */
function config(upstreamPort: number, admin = false): string {
  return writeBootstrap(plainBootstrapYaml({ upstreamPort, admin }));
}

describe('crossmesh proxy CLI', () => {
  test('--mode validate accepts a good config and names the field of a bad one', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const good = config(up.port);
    const bad = readFileSync(good, 'utf8').replace(
      'stat_prefix: ingress_http',
      'stat_prefix: ingress_http\n          bogus_field: 1',
    );
    const badFile = path.join(path.dirname(good), 'bad.yaml');
    writeFileSync(badFile, bad);
    // WHEN
    const okCode = await spawnProxy(closer, ['-c', good, '--mode', 'validate']).exit;
    const no = spawnProxy(closer, ['-c', badFile, '--mode', 'validate']);
    const noCode = await no.exit;
    // THEN
    expect(okCode).toBe(0);
    expect(noCode).toBe(5);
    expect(no.stderr()).toContain('bogus_field');
  });

  test('SIGTERM drains: an in-flight request completes, then the process exits 0', async () => {
    // GIVEN an upstream that takes 400 ms to answer
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late but fine'), 400);
    });
    const proxy = await startProxyCli(closer, ['-c', config(up.port), '--log-level', 'error']);
    const port = proxy.ports.get('ingress') as number;
    // WHEN a request is in flight and SIGTERM arrives
    const inFlight = request(port);
    await new Promise((r) => setTimeout(r, 100));
    proxy.child.kill('SIGTERM');
    // THEN
    const res = await inFlight;
    expect(res.body).toBe('late but fine');
    expect(await proxy.exit).toBe(0);
  });

  test('--concurrency 2 runs two workers on one port; the admin sums both workers’ stats', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const proxy = await startProxyCli(closer, [
      '-c',
      config(up.port, true),
      '--concurrency',
      '2',
      '--log-level',
      'info',
    ]);
    const port = proxy.ports.get('ingress') as number;
    // WHEN
    const results = await Promise.all(Array.from({ length: 20 }, () => request(port)));
    await new Promise((r) => setTimeout(r, 2500));
    const stats = await request(proxy.ports.get('admin') as number, {
      path: '/stats?filter=^http\\.ingress_http\\.downstream_rq_total$',
    });
    proxy.child.kill('SIGTERM');
    // THEN every request is served and counted once, and both workers bound the same port
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(stats.body.trim()).toBe('http.ingress_http.downstream_rq_total: 20');
    expect(await proxy.exit).toBe(0);
    const bound = [
      ...proxy.stderr().matchAll(/\]\[(\d+)\]\[info\]\[config\] listener ingress on 127\.0\.0\.1:(\d+)/g),
    ];
    expect(new Set(bound.map((m) => m[1])).size).toBe(2);
    expect(new Set(bound.map((m) => m[2]))).toEqual(new Set([String(port)]));
  }, 60_000);

  test('--concurrency 2 replaces a stale socket file a killed proxy left at a pipe listener', async () => {
    // GIVEN a socket file left behind by a process killed with SIGKILL (nothing accepts on it)
    const up = await httpUpstream(closer, 'up');
    const file = config(up.port);
    const socketPath = path.join(path.dirname(file), 'ingress.sock');
    await leaveStaleSocket(socketPath);
    expect(lstatSync(socketPath).isSocket()).toBe(true);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        'address: { socket_address: { address: 127.0.0.1, port_value: 0 } }',
        `address: { pipe: { path: ${JSON.stringify(socketPath)} } }`,
      ),
    );
    // WHEN two workers start on it
    const proxy = await startProxyCli(closer, ['-c', file, '--concurrency', '2', '--log-level', 'info']);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ socketPath, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    proxy.child.kill('SIGTERM');
    // THEN the stale file was replaced, both workers bound, and requests are served
    expect(status).toBe(200);
    expect(await proxy.exit).toBe(0);
    expect(proxy.stderr().match(/\[info\]\[config\] listener ingress on /g)?.length).toBe(2);
  }, 60_000);

  test('--concurrency 2 exits 5 naming the listener when its port is taken (no worker left hanging)', async () => {
    // GIVEN a port another server holds
    const up = await httpUpstream(closer, 'up');
    const file = config(up.port);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        'port_value: 0 } }\n    filter_chains',
        `port_value: ${up.port} } }\n    filter_chains`,
      ),
    );
    // WHEN two workers try to bind it
    const proxy = spawnProxy(closer, ['-c', file, '--concurrency', '2']);
    const code = await proxy.exit;
    const err = proxy.stderr();
    // THEN the primary exits with the workers' code and the error names the listener's address
    expect(code).toBe(5);
    expect(err).toContain('static_resources.listeners[0].address.socket_address');
    expect(err).toContain('EADDRINUSE');
  }, 60_000);
});
