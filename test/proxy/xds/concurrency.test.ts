/**
 * `crossmesh proxy -c <ADS bootstrap> --concurrency 2`: the real CLI as a child process (two
 * node:cluster workers, each with its own xDS client), the project's real control plane
 * (controlplane/server.ts XdsServer + SnapshotCache over gRPC on loopback, port 0) and real
 * node:http upstreams. Nothing is stood in.
 *
 * Which worker served a request is read from the kernel, not guessed: each worker proxies over
 * its own pooled upstream connections, so the upstream records the source port of every request
 * and /proc/net/tcp plus /proc/<pid>/fd name the process that owns that socket (Linux only, as
 * this machine and CI are).
 */
import { spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { leaveStaleSocket } from '../e2e/cli-helpers.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import {
  adsBootstrapFile,
  type ControlPlane,
  routedGet as call,
  edsCluster,
  freePort,
  httpGet,
  httpListener,
  lastNack,
  loopback,
  type SpawnedProxy,
  spawnProxy as spawnCli,
  startControlPlane,
  taggedRoutes,
} from './fixtures.js';

/** Requests per round: with connections handed out round robin, each worker gets half. */
const ROUND = 20;

/**
 * A control plane snapshot: listener `ingress` (RDS `main`) at `address`, route tag, EDS cluster
 * `app`, and more listeners with the same routes when `more` names them (name to address).
 */
function snapshot(
  upstreamPort: number,
  cluster: string,
  tag: string,
  address: Record<string, unknown> = loopback(0),
  more: Record<string, Record<string, unknown>> = {},
): Snapshot {
  const app = edsCluster('app', upstreamPort);
  return Snapshot.fromResources({
    [TYPE.cluster]: [app.cluster],
    [TYPE.endpoint]: [app.cla],
    [TYPE.listener]: Object.entries({ ingress: address, ...more }).map(([name, at]) =>
      httpListener(name, 'main', { address: at }),
    ),
    [TYPE.route]: [taggedRoutes('main', cluster, tag)],
  });
}

/** A dynamic bootstrap (YAML) for node `edge` naming the control plane on `cpPort`, admin on port 0. */
function bootstrapFile(cpPort: number): string {
  return adsBootstrapFile(cpPort, { tmpPrefix: 'crossmesh-dyn-conc-' });
}

/** Spawns `crossmesh proxy -c <file> --concurrency 2`, collecting its stderr. */
function spawnProxy(file: string): SpawnedProxy {
  return spawnCli(file, ['--concurrency', '2']);
}

/** Starts `crossmesh proxy --concurrency 2` for node `edge`; it is killed at the end unless it exited. */
function startProxy(closer: Closer, cpPort: number): SpawnedProxy {
  const proxy = spawnProxy(bootstrapFile(cpPort));
  closer.add(() => {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
  });
  return proxy;
}

/** A control plane serving `initial` to node `edge`, and the proxy started from it. */
async function launch(closer: Closer, initial: Snapshot): Promise<ControlPlane & { proxy: SpawnedProxy }> {
  const cp = await startControlPlane(closer, 'edge', initial);
  return { ...cp, proxy: startProxy(closer, cp.port) };
}

/** How many workers logged binding `listener` (each worker logs its own bind). */
function binds(proxy: SpawnedProxy, listener: string): number {
  return (
    proxy.stderr().match(new RegExp(`\\[info\\]\\[config\\] listener ${listener} on `, 'g'))?.length ?? 0
  );
}

/** `ROUND` requests one after another. */
async function round(port: number): Promise<{ status: number; body: string; routes: string }[]> {
  const out = [];
  for (let i = 0; i < ROUND; i++) out.push(await call(port));
  return out;
}

/** An upstream answering `name` that records the source port of every request. */
async function recordingUpstream(closer: Closer, name: string): Promise<{ port: number; from: Set<number> }> {
  const from = new Set<number>();
  const up = await httpUpstream(closer, name, (req, res) => {
    from.add(req.socket.remotePort ?? 0);
    res.end(`${name} ${req.method} ${req.url}`);
  });
  return { port: up.port, from };
}

/**
 * The processes among `pids` that own the TCP sockets from the given local ports to `remotePort`
 * on loopback (the proxy side of its upstream connections).
 */
function owners(localPorts: Iterable<number>, remotePort: number, pids: readonly number[]): Set<number> {
  const wanted = new Set(
    [...localPorts].map((p) => `0100007F:${p.toString(16).toUpperCase().padStart(4, '0')}`),
  );
  const remote = `0100007F:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (wanted.has(cols[1] ?? '') && cols[2] === remote) inodes.add(`socket:[${cols[9]}]`);
  }
  const out = new Set<number>();
  for (const pid of pids) {
    const fds = readdirSync(`/proc/${pid}/fd`);
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) out.add(pid);
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return out;
}

/** GET on the admin: the body. */
async function admin(port: number, path: string): Promise<string> {
  return (await httpGet(port, path)).body;
}

describe('crossmesh proxy --concurrency 2 with dynamic_resources', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('both workers serve what the control plane pushes, both take a route change, a bad push is NACKed and the old config keeps serving, SIGTERM exits 0', async () => {
    // GIVEN two recording upstreams and a control plane on port 0 serving node "edge" (app -> blue, v1)
    const blue = await recordingUpstream(closer, 'blue');
    const green = await recordingUpstream(closer, 'green');
    // WHEN `crossmesh proxy -c <ADS bootstrap> --concurrency 2` starts from it
    const { cache, server, proxy } = await launch(closer, snapshot(blue.port, 'app', 'v1'));
    await expect.poll(proxy.stderr, { timeout: 30_000 }).toMatch(/listening ingress=127\.0\.0\.1:\d+ admin=/);
    const bindLines = () => [
      ...proxy.stderr().matchAll(/\]\[(\d+)\]\[info\]\[config\] listener ingress on 127\.0\.0\.1:(\d+)/g),
    ];
    // (The second worker may bind a moment after the first printed the listening line.)
    await expect.poll(() => bindLines().length, { timeout: 10_000 }).toBe(2);
    const err = proxy.stderr();
    const port = Number(/listening ingress=127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
    const adminPort = Number(/admin=127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
    // THEN the listening line is printed once, with the real port both workers bound
    expect(err.match(/listening /g)?.length).toBe(1);
    const binds = bindLines();
    const pids = [...new Set(binds.map((m) => Number(m[1])))];
    expect(pids).toHaveLength(2);
    expect(new Set(binds.map((m) => Number(m[2])))).toEqual(new Set([port]));
    // AND the control plane sees one ADS stream per worker for the node, both in sync
    await expect
      .poll(() => server.status().nodes.find((n) => n.id === 'edge'), { timeout: 10_000 })
      .toMatchObject({ streams: 2, inSync: true });

    // WHEN requests go through the pushed listener
    const first = await round(port);
    // THEN every one is served by the pushed config, by both workers (the processes owning the
    // upstream connections), and the admin's merged /stats counts each request once
    expect(first.every((r) => r.status === 200 && r.body === 'blue GET /' && r.routes === 'v1')).toBe(true);
    expect(owners(blue.from, blue.port, pids)).toEqual(new Set(pids));
    await expect
      .poll(() => admin(adminPort, '/stats?filter=^http\\.ingress\\.downstream_rq_total$'), { timeout: 5000 })
      .toBe(`http.ingress.downstream_rq_total: ${ROUND}\n`);

    // WHEN the control plane moves app to green and changes the route configuration
    cache.setSnapshot('edge', snapshot(green.port, 'app', 'v2'));
    // THEN every worker applies it: a whole round on fresh connections answers with the new config
    await expect
      .poll(async () => (await round(port)).every((r) => r.body === 'green GET /' && r.routes === 'v2'), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(owners(green.from, green.port, pids)).toEqual(new Set(pids));

    // WHEN it pushes a route configuration naming a cluster that does not exist
    cache.setSnapshot('edge', snapshot(green.port, 'missing', 'v3'));
    // THEN it is NACKed, naming the problem
    await expect.poll(() => lastNack(server, 'edge'), { timeout: 10_000 }).toMatch(/missing/);
    await expect.poll(() => proxy.stderr().match(/NACK RDS/g)?.length ?? 0, { timeout: 10_000 }).toBe(2);
    // AND the last good configuration keeps serving in every worker
    green.from.clear();
    const after = await round(port);
    expect(after.every((r) => r.status === 200 && r.body === 'green GET /' && r.routes === 'v2')).toBe(true);
    expect(owners(green.from, green.port, pids)).toEqual(new Set(pids));

    // WHEN it gets SIGTERM
    proxy.child.kill('SIGTERM');
    // THEN every worker drains and the proxy exits 0
    expect(await proxy.exited).toBe(0);
  }, 90_000);

  test('a pushed pipe listener replaces the stale socket file a killed proxy left, both workers bind it; /quitquitquit stops both', async () => {
    // GIVEN a socket file left behind by a process killed with SIGKILL (nothing accepts on it)
    const up = await recordingUpstream(closer, 'piped');
    const socketPath = join(mkdtempSync(join(tmpdir(), 'crossmesh-dyn-pipe-')), 'ingress.sock');
    await leaveStaleSocket(socketPath);
    expect(lstatSync(socketPath).isSocket()).toBe(true);
    // AND a control plane pushing a listener on that path
    // WHEN two workers start from the control plane
    const { proxy } = await launch(closer, snapshot(up.port, 'app', 'pipe', { pipe: { path: socketPath } }));
    await expect.poll(proxy.stderr, { timeout: 30_000 }).toMatch(/listening ingress=/);
    // THEN both workers bound the path (no NACK), and requests over the socket are served
    await expect.poll(() => binds(proxy, 'ingress'), { timeout: 10_000 }).toBe(2);
    expect(proxy.stderr()).not.toMatch(/NACK/);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    // WHEN the admin (worker 0) is asked to quit
    const adminPort = Number(/admin=127\.0\.0\.1:(\d+)/.exec(proxy.stderr())?.[1]);
    await new Promise<void>((resolve, reject) => {
      request(
        { host: '127.0.0.1', port: adminPort, path: '/quitquitquit', method: 'POST', agent: false },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      )
        .on('error', reject)
        .end();
    });
    // THEN the whole proxy quits, the other worker too, and exits 0
    expect(await proxy.exited).toBe(0);
  }, 60_000);

  test('a pushed listener on a port another process holds: the workers give up and the proxy exits 5 naming it', async () => {
    // GIVEN a control plane pushing a listener on a port an upstream holds
    const up = await recordingUpstream(closer, 'holder');
    // WHEN two workers start from it
    const { proxy } = await launch(closer, snapshot(up.port, 'app', 'taken', loopback(up.port)));
    // THEN the proxy exits 5 and says which address could not be bound
    expect(await proxy.exited).toBe(5);
    expect(proxy.stderr()).toContain('EADDRINUSE');
  }, 60_000);

  test('a pushed pipe listener where another process accepts: its socket is left alone and the proxy exits 5 naming it', async () => {
    // GIVEN a live server of another process on a socket file
    const socketPath = join(mkdtempSync(join(tmpdir(), 'crossmesh-dyn-pipe-')), 'taken.sock');
    const holder = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer((s) => s.end('holder')).listen(${JSON.stringify(socketPath)}, () => console.log('up'))`,
    ]);
    closer.add(() => holder.kill('SIGKILL'));
    await new Promise((r) => holder.stdout.once('data', r));
    // AND a control plane pushing a listener on that path
    const up = await recordingUpstream(closer, 'piped');
    // WHEN two workers start from it
    const { proxy } = await launch(closer, snapshot(up.port, 'app', 'pipe', { pipe: { path: socketPath } }));
    // THEN the proxy exits 5 naming the path, and the other process still serves its socket
    expect(await proxy.exited).toBe(5);
    expect(proxy.stderr()).toContain(socketPath);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath);
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => {
        data += c;
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toBe('holder');
  }, 60_000);

  test('a listener change re-binds in every worker: the kept listener stays on its port and the new one is served by both', async () => {
    // GIVEN two free ports taken from the kernel (pushed listeners name real ports, as control planes do)
    const [first, second] = await Promise.all([freePort(), freePort()]);
    const up = await recordingUpstream(closer, 'up');
    const { cache, proxy } = await launch(closer, snapshot(up.port, 'app', 'one', loopback(first)));
    await expect.poll(proxy.stderr, { timeout: 30_000 }).toMatch(/listening ingress=/);
    await expect.poll(() => binds(proxy, 'ingress'), { timeout: 10_000 }).toBe(2);
    const pids = [
      ...new Set(
        [...proxy.stderr().matchAll(/\]\[(\d+)\]\[info\]\[config\] listener ingress on /g)].map((m) =>
          Number(m[1]),
        ),
      ),
    ];
    // WHEN the control plane adds a second listener (each worker replaces its runtime)
    cache.setSnapshot('edge', snapshot(up.port, 'app', 'two', loopback(first), { second: loopback(second) }));
    await expect.poll(() => binds(proxy, 'second'), { timeout: 10_000 }).toBe(2);
    // THEN both listeners answer with the new state in both workers, the first still on its port
    for (const port of [first, second]) {
      up.from.clear();
      await expect
        .poll(async () => (await round(port)).every((r) => r.status === 200 && r.routes === 'two'), {
          timeout: 10_000,
        })
        .toBe(true);
      expect(owners(up.from, up.port, pids)).toEqual(new Set(pids));
    }
    expect(proxy.stderr()).not.toMatch(/NACK/);
    // WHEN it gets SIGTERM
    proxy.child.kill('SIGTERM');
    // THEN it exits 0
    expect(await proxy.exited).toBe(0);
  }, 60_000);

  test('SIGTERM while the workers wait for their control plane exits 0', async () => {
    // GIVEN a control plane port with nothing on it yet
    const cpPort = await freePort();
    const proxy = startProxy(closer, cpPort);
    await expect.poll(proxy.stderr, { timeout: 30_000 }).toMatch(/reconnecting/);
    // WHEN the primary gets SIGTERM
    proxy.child.kill('SIGTERM');
    // THEN both workers stop waiting and the proxy exits 0
    expect(await proxy.exited).toBe(0);
  }, 60_000);
});
