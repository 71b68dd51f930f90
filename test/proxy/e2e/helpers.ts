// Shared helpers for the proxy's end-to-end tests: real upstream servers on port 0, a bootstrap
// builder, raw-socket clients and TLS material generated at test time with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { type ProxyHandle, startProxy } from '../../../proxy/main.js';

/** Things to close after a test. */
export class Closer {
  private readonly items: (() => Promise<unknown> | unknown)[] = [];
  add(fn: () => Promise<unknown> | unknown): void {
    this.items.push(fn);
  }
  async closeAll(): Promise<void> {
    for (const fn of this.items.splice(0).reverse()) await fn();
  }
}

/** What an upstream saw. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly name: string;
}

/** A node:http upstream that answers `name` and records every request. */
export async function httpUpstream(
  closer: Closer,
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<{ port: number; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, name });
      if (handler !== undefined) {
        handler(req, res, body);
        return;
      }
      res.setHeader('x-upstream', name);
      res.end(`${name} ${req.method} ${req.url}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  return { port: await listenLoopback(closer, server), seen };
}

/**
 * Binds `server` to 127.0.0.1 port 0 and returns the port; `closer` closes it, its open
 * connections first (keep-alive clients would otherwise hold `close` open).
 */
export async function listenLoopback(closer: Closer, server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A cluster entry for the bootstrap builder. */
export interface ClusterSpec {
  readonly name: string;
  readonly ports: readonly number[];
  readonly lbPolicy?: string;
  readonly extra?: Record<string, unknown>;
  readonly weights?: readonly number[];
}

/** Builds a bootstrap YAML/JSON object with one HTTP listener (port 0) and the given clusters. */
export function bootstrapJson(options: {
  readonly routeConfig: unknown;
  readonly clusters: readonly ClusterSpec[];
  /** HTTP filters before the router. */
  readonly httpFilters?: readonly Record<string, unknown>[];
  readonly hcm?: Record<string, unknown>;
  readonly listenerExtra?: Record<string, unknown>;
  readonly filterChainExtra?: Record<string, unknown>;
  readonly admin?: boolean;
}): Record<string, unknown> {
  return {
    ...(options.admin === true
      ? { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } } }
      : {}),
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress_http',
                    route_config: options.routeConfig,
                    http_filters: [
                      ...(options.httpFilters ?? []),
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                    ...options.hcm,
                  },
                },
              ],
              ...options.filterChainExtra,
            },
          ],
          ...options.listenerExtra,
        },
      ],
      clusters: options.clusters.map((c) => ({
        name: c.name,
        type: 'STATIC',
        connect_timeout: '1s',
        ...(c.lbPolicy === undefined ? {} : { lb_policy: c.lbPolicy }),
        load_assignment: {
          cluster_name: c.name,
          endpoints: [
            {
              lb_endpoints: c.ports.map((port, i) => ({
                endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
                ...(c.weights === undefined ? {} : { load_balancing_weight: c.weights[i] }),
              })),
            },
          ],
        },
        ...c.extra,
      })),
    },
  };
}

/** Loads a bootstrap object through the real loader and starts the proxy. */
export async function startFromJson(closer: Closer, json: unknown): Promise<ProxyHandle> {
  const bootstrap = loadBootstrap(JSON.stringify(json), { format: 'json', source: 'test' });
  const handle = await startProxy(bootstrap, { logLevel: 'off' });
  closer.add(() => handle.close());
  return handle;
}

/** The bound port of the listener called `ingress`. */
export function ingressPort(handle: ProxyHandle, name = 'ingress'): number {
  const l = handle.listeners.get(name);
  if (l === undefined) throw new Error(`no listener ${name}`);
  return l.port;
}

/** A plain HTTP/1.1 request with node:http (fresh connection each time). */
export function request(
  port: number,
  options: { path?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends raw bytes and collects everything until the server closes (or `waitMs` passes). */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  waitMs = 2000,
): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closed });
    }, waitMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => {
      data += d.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data, closed });
    });
  });
}

/** TLS material generated with the openssl CLI: a CA, and a server certificate for the names. */
export interface TlsMaterial {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** Generates a CA and a server certificate (SAN = `names`) in a temp dir; needs `openssl`. */
export function makeCerts(names: readonly string[], cn = names[0] ?? 'localhost'): TlsMaterial {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crossmesh-tls-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=crossmesh test CA',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/CN=${cn}`,
  ]);
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=${san}\n`);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return {
    dir,
    ca: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    cert: readFileSync(path.join(dir, 'server.pem'), 'utf8'),
    key: readFileSync(path.join(dir, 'server.key'), 'utf8'),
    certPath: path.join(dir, 'server.pem'),
    keyPath: path.join(dir, 'server.key'),
  };
}
