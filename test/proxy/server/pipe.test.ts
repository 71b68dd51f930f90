// Unix domain socket (`Address.pipe`) addresses over real sockets: the proxy's listeners and admin
// bound to socket files in a fresh temp dir (and one Linux abstract socket), real node:http,
// node:http2 and node:https upstreams listening on socket files, requests sent with node:http's
// socketPath. Nothing is stood in; TLS material comes from the openssl CLI (helpers.makeCerts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { afterEach, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { Closer, httpUpstream, makeCerts, type SeenRequest, startFromJson } from '../e2e/helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const H2_OPTIONS = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicit_http_config: { http2_protocol_options: {} },
  },
};

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cm-pipe-'));
}

/** One HTTP listener named `ingress` at `address`, routing by prefix to clusters of the same name. */
function httpListener(address: unknown, prefixes: readonly string[], hcm: Record<string, unknown> = {}) {
  return {
    name: 'ingress',
    address,
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: 'ingress_http',
              route_config: {
                virtual_hosts: [
                  {
                    name: 'all',
                    domains: ['*'],
                    routes: prefixes.map((p) => ({ match: { prefix: `/${p}` }, route: { cluster: p } })),
                  },
                ],
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
              ...hcm,
            },
          },
        ],
      },
    ],
  };
}

/** A STATIC cluster with one endpoint at `address`. */
function cluster(name: string, address: unknown, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
    ...extra,
  };
}

const tcp = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
const LOOPBACK_0 = tcp(0);

/** A GET over TCP (`port`) or a Unix socket (`socketPath`, Node's form). */
function get(
  where: { port: number } | { socketPath: string },
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const target = 'port' in where ? { host: '127.0.0.1', port: where.port } : where;
    const req = http.request({ ...target, path: urlPath, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts `server` on the socket file `file` and closes it after the test. */
async function listenOn(server: net.Server, file: string): Promise<void> {
  await new Promise<void>((resolve) => server.listen(file, resolve));
  closer.add(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
}

/** A node:http upstream on a Unix socket answering `name <url>`, recording every request. */
async function unixHttpUpstream(file: string, name: string): Promise<SeenRequest[]> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', name });
    res.end(`${name} ${req.url}`);
  });
  await listenOn(server, file);
  return seen;
}

describe('pipe listeners', () => {
  test('an HTTP listener on a Unix socket serves; the peer is the listener path and gets no x-forwarded-for', async () => {
    // GIVEN a TCP upstream, and the proxy's listener on a socket file with use_remote_address and
    // an access log of the address commands
    const dir = tempDir();
    const file = path.join(dir, 'ingress.sock');
    const logPath = path.join(dir, 'access.log');
    const up = await httpUpstream(closer, 'app');
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [
          httpListener({ pipe: { path: file } }, ['app'], {
            use_remote_address: true,
            access_log: [
              {
                name: 'envoy.access_loggers.file',
                typed_config: {
                  '@type': FILE_LOG,
                  path: logPath,
                  log_format: {
                    text_format_source: {
                      inline_string:
                        '%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_REMOTE_PORT%|%DOWNSTREAM_LOCAL_ADDRESS%|%UPSTREAM_HOST%\n',
                    },
                  },
                },
              },
            ],
          }),
        ],
        clusters: [cluster('app', tcp(up.port))],
      },
    });
    // WHEN a client connects to the socket file
    const res = await get({ socketPath: file }, '/app/x');
    await proxy.close();
    // THEN it is served, the upstream sees no x-forwarded-for (Envoy appends only IP addresses),
    // and the access log prints the pipe path for both ends and no port
    expect(res).toMatchObject({ status: 200, body: 'app GET /app/x' });
    expect(up.seen[0]?.headers['x-forwarded-for']).toBeUndefined();
    expect(up.seen[0]?.headers['x-forwarded-proto']).toBe('http');
    expect(proxy.listeners.get('ingress')).toEqual({ address: file, port: 0, pipe: file });
    expect(readFileSync(logPath, 'utf8')).toBe(`${file}|${file}|-|${file}|127.0.0.1:${up.port}\n`);
  });

  test('mode is applied with chmod and a stale socket file is replaced', async () => {
    // GIVEN a socket file left behind by a process that is gone (Python binds and exits without unlinking)
    const dir = tempDir();
    const file = path.join(dir, 'stale.sock');
    execFileSync('python3', [
      '-c',
      `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(file)})`,
    ]);
    expect(statSync(file).isSocket()).toBe(true);
    const up = await httpUpstream(closer, 'app');
    // WHEN the proxy binds a listener there with mode 0600
    await startFromJson(closer, {
      static_resources: {
        listeners: [httpListener({ pipe: { path: file, mode: 0o600 } }, ['app'])],
        clusters: [cluster('app', tcp(up.port))],
      },
    });
    // THEN the file is the proxy's socket, with exactly that mode, and it serves
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await get({ socketPath: file }, '/app/')).body).toBe('app GET /app/');
  });

  test('a replacement bound at the same path stays reachable when the previous proxy drains and closes', async () => {
    // GIVEN a proxy on a socket file, and a second one (an xDS listener update's new runtime) bound
    // at the same path while the first still runs
    const dir = tempDir();
    const file = path.join(dir, 'swap.sock');
    const blue = await httpUpstream(closer, 'blue');
    const green = await httpUpstream(closer, 'green');
    const config = (port: number) => ({
      static_resources: {
        listeners: [httpListener({ pipe: { path: file } }, ['app'])],
        clusters: [cluster('app', tcp(port))],
      },
    });
    const first = await startFromJson(closer, config(blue.port));
    await startFromJson(closer, config(green.port));
    // WHEN the first one drains and closes (libuv unlinks a pipe server's path on close)
    await first.drain();
    // THEN the socket file is still there and the new proxy answers on it
    expect(statSync(file).isSocket()).toBe(true);
    expect((await get({ socketPath: file }, '/app/')).body).toBe('green GET /app/');
  });

  test('a regular file at the socket path is not removed: start-up fails naming the path', async () => {
    // GIVEN a regular file where the socket should go
    const dir = tempDir();
    const file = path.join(dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    const bootstrap = loadBootstrap(
      JSON.stringify({
        static_resources: {
          listeners: [httpListener({ pipe: { path: file } }, ['app'])],
          clusters: [cluster('app', tcp(1))],
        },
      }),
      { format: 'json', source: 'test' },
    );
    const { startProxy } = await import('../../../proxy/main.js');
    // WHEN the proxy starts
    const error = await startProxy(bootstrap, { logLevel: 'off' }).then(
      (h) => {
        closer.add(() => h.close());
        return undefined;
      },
      (e: unknown) => e,
    );
    // THEN it refuses with PROXY_E_LISTEN on the pipe path, and the file is untouched
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('PROXY_E_LISTEN');
    expect((error as MeshError).path).toBe('static_resources.listeners[0].address.pipe.path');
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  test.runIf(process.platform === 'linux')('an abstract socket (@name) listener serves', async () => {
    // GIVEN a listener in the abstract namespace (no file)
    const name = `crossmesh-test-${process.pid}-${Date.now()}`;
    const up = await httpUpstream(closer, 'app');
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [httpListener({ pipe: { path: `@${name}` } }, ['app'])],
        clusters: [cluster('app', tcp(up.port))],
      },
    });
    // WHEN a client connects to it (Node writes the leading @ as a NUL byte)
    const res = await get({ socketPath: `\0${name}` }, '/app/abstract');
    // THEN it is served and reported in Envoy's @name form
    expect(res.body).toBe('app GET /app/abstract');
    expect(proxy.listeners.get('ingress')?.pipe).toBe(`@${name}`);
  });

  test('the admin on a pipe: /ready, /listeners and /clusters print socket paths as Envoy does', async () => {
    // GIVEN the admin and a listener on socket files, and a cluster whose endpoint is a socket file
    const dir = tempDir();
    const adminFile = path.join(dir, 'admin.sock');
    const ingress = path.join(dir, 'ingress.sock');
    const upstream = path.join(dir, 'app.sock');
    await unixHttpUpstream(upstream, 'app');
    const proxy = await startFromJson(closer, {
      admin: { address: { pipe: { path: adminFile, mode: 0o660 } } },
      static_resources: {
        listeners: [httpListener({ pipe: { path: ingress } }, ['app'])],
        clusters: [cluster('app', { pipe: { path: upstream } })],
      },
    });
    await get({ socketPath: ingress }, '/app/1');
    // WHEN the admin is asked over its socket
    const ready = await get({ socketPath: adminFile }, '/ready');
    const listeners = await get({ socketPath: adminFile }, '/listeners');
    const listenersJson = await get({ socketPath: adminFile }, '/listeners?format=json');
    const clusters = await get({ socketPath: adminFile }, '/clusters');
    const clustersJson = await get({ socketPath: adminFile }, '/clusters?format=json');
    // THEN
    expect(proxy.admin).toEqual({ address: adminFile, port: 0, pipe: adminFile });
    expect(statSync(adminFile).mode & 0o777).toBe(0o660);
    expect(ready.body).toBe('LIVE\n');
    expect(listeners.body).toBe(`ingress::${ingress}\n`);
    expect(JSON.parse(listenersJson.body).listener_statuses[0].local_address).toEqual({
      pipe: { path: ingress },
    });
    expect(clusters.body).toContain(`app::${upstream}::rq_total::1\n`);
    expect(clusters.body).toContain(`app::${upstream}::health_flags::healthy\n`);
    const host = JSON.parse(clustersJson.body).cluster_statuses[0].host_statuses[0];
    expect(host.address).toEqual({ pipe: { path: upstream } });
  });
});

describe('pipe cluster endpoints', () => {
  test('HTTP/1.1, HTTP/2 (h2c) and TLS upstreams on Unix sockets', async () => {
    // GIVEN three upstreams on socket files: node:http, node:http2 h2c, and node:https recording SNI
    const dir = tempDir();
    const h1File = path.join(dir, 'h1.sock');
    const h2File = path.join(dir, 'h2.sock');
    const tlsFile = path.join(dir, 'tls.sock');
    const logPath = path.join(dir, 'access.log');
    await unixHttpUpstream(h1File, 'h1');
    const h2 = http2.createServer((req, res) => res.end(`h2 ${req.httpVersion} ${req.url}`));
    await listenOn(h2, h2File);
    const certs = makeCerts(['upstream.internal']);
    const names: (string | false | null)[] = [];
    const secure = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      names.push((req.socket as tls.TLSSocket).servername);
      res.end(`tls ${req.url}`);
    });
    await listenOn(secure, tlsFile);
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [
          httpListener(LOOPBACK_0, ['h1', 'h2', 'tls'], {
            access_log: [
              {
                name: 'envoy.access_loggers.file',
                typed_config: {
                  '@type': FILE_LOG,
                  path: logPath,
                  log_format: { text_format_source: { inline_string: '%UPSTREAM_HOST%\n' } },
                },
              },
            ],
          }),
        ],
        clusters: [
          cluster('h1', { pipe: { path: h1File } }),
          cluster('h2', { pipe: { path: h2File } }, { typed_extension_protocol_options: H2_OPTIONS }),
          cluster(
            'tls',
            { pipe: { path: tlsFile } },
            {
              transport_socket: {
                name: 'envoy.transport_sockets.tls',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
                  sni: 'upstream.internal',
                  common_tls_context: { validation_context: { trusted_ca: { inline_string: certs.ca } } },
                },
              },
            },
          ),
        ],
      },
    });
    const port = proxy.listeners.get('ingress')?.port as number;
    // WHEN one request goes to each
    const a = await get({ port }, '/h1/a');
    const b = await get({ port }, '/h2/b');
    const c = await get({ port }, '/tls/c');
    await proxy.close();
    // THEN each answered over its socket, TLS verified against trusted_ca with the configured SNI,
    // and %UPSTREAM_HOST% is the socket path
    expect([a.status, a.body]).toEqual([200, 'h1 /h1/a']);
    expect([b.status, b.body]).toEqual([200, 'h2 2.0 /h2/b']);
    expect([c.status, c.body]).toEqual([200, 'tls /tls/c']);
    expect(names).toEqual(['upstream.internal']);
    expect(readFileSync(logPath, 'utf8')).toBe(`${h1File}\n${h2File}\n${tlsFile}\n`);
  });

  test('gRPC-style HTTP/2 health checks reach an h2c host over its socket', async () => {
    // GIVEN an h2c upstream on a socket file and an HTTP/2 health check every 50 ms
    const dir = tempDir();
    const file = path.join(dir, 'h2hc.sock');
    const paths: string[] = [];
    const h2 = http2.createServer((req, res) => {
      paths.push(`${req.httpVersion} ${req.url}`);
      res.end();
    });
    await listenOn(h2, file);
    await startFromJson(closer, {
      static_resources: {
        clusters: [
          cluster(
            'h2hc',
            { pipe: { path: file } },
            {
              typed_extension_protocol_options: H2_OPTIONS,
              health_checks: [
                {
                  timeout: '1s',
                  interval: '0.05s',
                  no_traffic_interval: '0.05s',
                  unhealthy_threshold: 1,
                  healthy_threshold: 1,
                  http_health_check: { path: '/ready', codec_client_type: 'HTTP2' },
                },
              ],
            },
          ),
        ],
      },
    });
    // WHEN / THEN the checks arrive over HTTP/2 on the socket
    await expect.poll(() => paths.length).toBeGreaterThan(1);
    expect(paths[0]).toBe('2.0 /ready');
  });

  test('active HTTP health checks reach the host over its socket', async () => {
    // GIVEN an upstream on a socket file and a cluster health-checking it every 50 ms (traffic or not)
    const dir = tempDir();
    const file = path.join(dir, 'hc.sock');
    const seen = await unixHttpUpstream(file, 'hc');
    const proxy = await startFromJson(closer, {
      admin: { address: LOOPBACK_0 },
      static_resources: {
        listeners: [httpListener(LOOPBACK_0, ['hc'])],
        clusters: [
          cluster(
            'hc',
            { pipe: { path: file } },
            {
              health_checks: [
                {
                  timeout: '1s',
                  interval: '0.05s',
                  no_traffic_interval: '0.05s',
                  unhealthy_threshold: 1,
                  healthy_threshold: 1,
                  http_health_check: { path: '/healthz' },
                },
              ],
            },
          ),
        ],
      },
    });
    // WHEN the checker has run
    await expect.poll(() => seen.filter((r) => r.url === '/healthz').length).toBeGreaterThan(1);
    // THEN the checks carried Envoy's headers and the host is healthy and serving
    const check = seen.find((r) => r.url === '/healthz');
    expect(check?.headers['user-agent']).toBe('Envoy/HC');
    expect(check?.headers.host).toBe('hc');
    const clusters = await get({ port: proxy.admin?.port as number }, '/clusters');
    expect(clusters.body).toContain(`hc::${file}::health_flags::healthy\n`);
    expect((await get({ port: proxy.listeners.get('ingress')?.port as number }, '/hc/ok')).body).toBe(
      'hc /hc/ok',
    );
  });
});

describe('tcp_proxy over pipes', () => {
  test('a tcp_proxy listener on a socket file relays bytes to an echo server on another socket file', async () => {
    // GIVEN an echo server on a socket file and a tcp_proxy listener on a second one
    const dir = tempDir();
    const echoFile = path.join(dir, 'echo.sock');
    const front = path.join(dir, 'front.sock');
    await listenOn(
      net.createServer((s) => {
        s.on('error', () => undefined);
        s.pipe(s);
      }),
      echoFile,
    );
    await startFromJson(closer, {
      static_resources: {
        listeners: [
          {
            name: 'tcp',
            address: { pipe: { path: front } },
            filter_chains: [
              {
                filters: [
                  {
                    name: 'envoy.filters.network.tcp_proxy',
                    typed_config: {
                      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                      stat_prefix: 'tcp_stats',
                      cluster: 'echo',
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [cluster('echo', { pipe: { path: echoFile } })],
      },
    });
    // WHEN a client writes to the front socket
    const echoed = await new Promise<string>((resolve, reject) => {
      const message = 'ping over pipes';
      const c = net.connect({ path: front }, () => c.write(message));
      let got = '';
      c.setEncoding('utf8');
      c.on('data', (d: string) => {
        got += d;
        if (got.length >= message.length) {
          c.destroy();
          resolve(got);
        }
      });
      c.on('error', reject);
    });
    // THEN the bytes came back through both sockets
    expect(echoed).toBe('ping over pipes');
  });
});

describe('pipe addresses in the loader', () => {
  const load = (json: unknown): MeshError => {
    try {
      loadBootstrap(JSON.stringify(json), { format: 'json', source: 'test' });
    } catch (error) {
      return error as MeshError;
    }
    throw new Error('expected a MeshError');
  };

  test('a pipe endpoint in a STRICT_DNS cluster is refused naming the endpoint', () => {
    // GIVEN / WHEN
    const error = load({
      static_resources: {
        clusters: [cluster('dns', { pipe: { path: '/tmp/x.sock' } }, { type: 'STRICT_DNS' })],
      },
    });
    // THEN
    expect(error.problems.map((p) => p.path)).toEqual([
      'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe',
    ]);
    expect(error.problems[0]?.message).toContain('STATIC');
  });

  test("Envoy's PipeInstance checks: path length and no mode on an abstract socket", () => {
    // GIVEN a listener path past sun_path and an abstract admin socket with a mode
    const long = `/tmp/${'x'.repeat(110)}`;
    // WHEN
    const error = load({
      admin: { address: { pipe: { path: '@admin', mode: 0o600 } } },
      static_resources: { listeners: [httpListener({ pipe: { path: long } }, [])] },
    });
    // THEN both are named, with Envoy's wording
    expect(error.problems.map((p) => [p.path, p.message])).toEqual([
      [
        'static_resources.listeners[0].address.pipe.path',
        expect.stringContaining('exceeds maximum UNIX domain socket path size of 108'),
      ],
      ['admin.address.pipe.mode', expect.stringContaining('Cannot set mode for Abstract AF_UNIX sockets')],
    ]);
  });
});
