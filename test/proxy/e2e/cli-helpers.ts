// Shared setup for the tests that run `crossmesh proxy` as a user does: the real CLI
// (bin/crossmesh.js, CROSSMESH_DEV=1 so it runs the TypeScript sources through tsx) as a child
// process, its bootstrap written to a temp file, its bound ports read from its `listening` line.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Closer } from './helpers.js';

/** bin/crossmesh.js of this checkout. */
export const CLI = path.resolve(import.meta.dirname, '../../../bin/crossmesh.js');

/** What {@link plainBootstrapYaml} writes. */
export interface PlainBootstrapOptions {
  /**
   * Routes `/` to the STATIC cluster `up` with one endpoint on loopback at this port.
   * @default - every request gets a direct 200 response and there is no cluster
   */
  readonly upstreamPort?: number;
  /**
   * Adds an admin listener on loopback, port 0.
   * @default false - no admin
   */
  readonly admin?: boolean;
}

/**
 * The plain bootstrap as YAML text: one HTTP listener `ingress` on 127.0.0.1 port 0 (stat prefix
 * `ingress_http`), one catch-all route, the router filter. Tests edit the text itself (a bogus
 * field after `stat_prefix: ingress_http`, another address), so its lines are kept stable.
 */
export function plainBootstrapYaml(options: PlainBootstrapOptions = {}): string {
  const admin =
    options.admin === true
      ? 'admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }\n'
      : '';
  const action =
    options.upstreamPort === undefined ? 'direct_response: { status: 200 }' : 'route: { cluster: up }';
  const clusters =
    options.upstreamPort === undefined
      ? ''
      : `  clusters:
  - name: up
    type: STATIC
    load_assignment:
      cluster_name: up
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${options.upstreamPort} } } }
`;
  return `${admin}static_resources:
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
                ${action}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
${clusters}`;
}

/** Writes `text` to `name` in a fresh temp directory and returns the file's path. */
export function writeBootstrap(text: string, name = 'envoy.yaml'): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'crossmesh-cli-')), name);
  writeFileSync(file, text);
  return file;
}

/** A `crossmesh proxy` child process. */
export interface ProxyChild {
  readonly child: ChildProcess;
  /** The exit code (null when a signal ended it). */
  readonly exit: Promise<number | null>;
  /** Everything the proxy wrote to stderr so far. */
  stderr(): string;
  /** Resolves once `ready(stderr)` holds; rejects when the process exits first. */
  until(ready: (stderr: string) => boolean): Promise<void>;
}

/** Spawns `crossmesh proxy ...args` (killed by `closer` if still running). Stdout is ignored. */
export function spawnProxy(closer: Closer, args: readonly string[]): ProxyChild {
  const child = spawn(process.execPath, [CLI, 'proxy', ...args], {
    env: { ...process.env, CROSSMESH_DEV: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  closer.add(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const until = (ready: (stderr: string) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ready(err)) return;
        child.stderr?.off('data', check);
        resolve();
      };
      child.stderr?.on('data', check);
      check();
      void exit.then((code) => reject(new Error(`proxy exited ${code} before it was ready: ${err}`)));
    });
  return { child, exit, stderr: () => err, until };
}

/** The ports of the proxy's `listening name=host:port ...` line, by name; undefined before it. */
export function listeningPorts(stderr: string): Map<string, number> | undefined {
  const m = /listening (.*)\n/.exec(stderr);
  if (m === null) return undefined;
  const ports = new Map<string, number>();
  for (const part of (m[1] as string).split(' ')) {
    const [name, addr] = part.split('=');
    ports.set(name as string, Number(addr?.split(':').pop()));
  }
  return ports;
}

/** A started `crossmesh proxy` and the ports its `listening` line named. */
export interface RunningProxy extends ProxyChild {
  readonly ports: Map<string, number>;
}

/**
 * Spawns `crossmesh proxy ...args` and resolves once it printed its `listening` line and
 * `ready(stderr)` holds (e.g. every worker has bound); rejects when it exits first.
 */
export async function startProxyCli(
  closer: Closer,
  args: readonly string[],
  ready: (stderr: string) => boolean = () => true,
): Promise<RunningProxy> {
  const proxy = spawnProxy(closer, args);
  await proxy.until((err) => listeningPorts(err) !== undefined && ready(err));
  return { ...proxy, ports: listeningPorts(proxy.stderr()) as Map<string, number> };
}

/**
 * Leaves a socket file at `socketPath` as a proxy killed with SIGKILL does: a child listens on it
 * and is killed, so the file stays and nothing accepts on it.
 */
export async function leaveStaleSocket(socketPath: string): Promise<void> {
  const holder = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`,
  ]);
  await new Promise((r) => holder.stdout.once('data', r));
  holder.kill('SIGKILL');
  await new Promise((r) => holder.on('exit', r));
}
