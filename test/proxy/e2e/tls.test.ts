// TLS through the real proxy: certificates generated at test time with the openssl CLI (a test
// CA and server certificates), real node:tls / node:https / node:http2 peers on loopback, port 0.
// Nothing is stood in.
import { execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Closer, httpUpstream, ingressPort, makeCerts, startFromJson, type TlsMaterial } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

let alpha: TlsMaterial;
let beta: TlsMaterial;
beforeAll(() => {
  if (!hasOpenssl) return;
  alpha = makeCerts(['alpha.test']);
  beta = makeCerts(['beta.test']);
});

const HCM = (cluster: string, prefix: string) => ({
  name: 'envoy.filters.network.http_connection_manager',
  typed_config: {
    '@type':
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: prefix,
    route_config: {
      virtual_hosts: [
        { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] },
      ],
    },
    http_filters: [
      {
        name: 'envoy.filters.http.router',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
      },
    ],
  },
});

const downstreamTls = (m: TlsMaterial, inline: boolean) => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    common_tls_context: {
      tls_certificates: [
        inline
          ? { certificate_chain: { inline_string: m.cert }, private_key: { inline_string: m.key } }
          : { certificate_chain: { filename: m.certPath }, private_key: { filename: m.keyPath } },
      ],
    },
  },
});

const staticCluster = (name: string, port: number, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'STATIC',
  connect_timeout: '1s',
  load_assignment: {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
        ],
      },
    ],
  },
  ...extra,
});

function httpsGet(
  port: number,
  servername: string,
  ca: string,
): Promise<{ status: number; body: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, servername, ca, path: '/', agent: false, headers: { host: servername } },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            cert: String((res.socket as tls.TLSSocket).getPeerCertificate().subject?.CN ?? ''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!hasOpenssl)('TLS through the proxy', () => {
  test('selects the filter chain and certificate by SNI, certificates inline or from files', async () => {
    // GIVEN two chains: alpha.test (inline PEM) and beta.test (files)
    const a = await httpUpstream(closer, 'alpha');
    const b = await httpUpstream(closer, 'beta');
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [
          {
            name: 'tls',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [
              {
                filter_chain_match: { server_names: ['alpha.test'] },
                filters: [HCM('alpha', 'alpha')],
                transport_socket: downstreamTls(alpha, true),
              },
              {
                filter_chain_match: { server_names: ['beta.test'] },
                filters: [HCM('beta', 'beta')],
                transport_socket: downstreamTls(beta, false),
              },
            ],
          },
        ],
        clusters: [staticCluster('alpha', a.port), staticCluster('beta', b.port)],
      },
    });
    const port = ingressPort(proxy, 'tls');
    // WHEN
    const ra = await httpsGet(port, 'alpha.test', alpha.ca);
    const rb = await httpsGet(port, 'beta.test', beta.ca);
    // THEN each name got its own certificate (verified against its CA) and its own routes
    expect(ra).toMatchObject({ status: 200, body: 'alpha GET /', cert: 'alpha.test' });
    expect(rb).toMatchObject({ status: 200, body: 'beta GET /', cert: 'beta.test' });
    expect(a.seen[0]?.headers['x-forwarded-proto']).toBe('https');
  });

  test('negotiates h2 by ALPN on a TLS listener', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'h1');
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [
          {
            name: 'tls',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [{ filters: [HCM('up', 'h2tls')], transport_socket: downstreamTls(alpha, true) }],
          },
        ],
        clusters: [staticCluster('up', up.port)],
      },
    });
    // WHEN
    const session = http2.connect(`https://127.0.0.1:${ingressPort(proxy, 'tls')}`, {
      ca: alpha.ca,
      servername: 'alpha.test',
    });
    closer.add(() => session.close());
    const result = await new Promise<{ status: number; body: string; alpn: string }>((resolve, reject) => {
      const req = session.request({ ':path': '/over-h2' });
      let body = '';
      let status = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => resolve({ status, body, alpn: String(session.alpnProtocol) }));
      req.on('error', reject);
    });
    // THEN
    expect(result).toEqual({ status: 200, body: 'h1 GET /over-h2', alpn: 'h2' });
  });

  test('originates TLS upstream with SNI and verifies the upstream against trusted_ca', async () => {
    // GIVEN an HTTPS upstream presenting beta.test's certificate, recording the SNI it saw
    let sniSeen = '';
    const server = https.createServer({ cert: beta.cert, key: beta.key }, (_req, res) =>
      res.end('secure upstream'),
    );
    server.on('secureConnection', (s: tls.TLSSocket) => {
      sniSeen = String(s.servername);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => server.close(r)));
    const upPort = (server.address() as net.AddressInfo).port;
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [
          {
            name: 'plain',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [{ filters: [HCM('secure', 'up_tls')] }],
          },
        ],
        clusters: [
          staticCluster('secure', upPort, {
            transport_socket: {
              name: 'envoy.transport_sockets.tls',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
                sni: 'beta.test',
                common_tls_context: { validation_context: { trusted_ca: { inline_string: beta.ca } } },
              },
            },
          }),
        ],
      },
    });
    // WHEN
    const res = await fetch(`http://127.0.0.1:${ingressPort(proxy, 'plain')}/`);
    // THEN
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('secure upstream');
    expect(sniSeen).toBe('beta.test');
  });

  test('auto_config picks HTTP/2 or HTTP/1.1 per upstream by ALPN', async () => {
    // GIVEN one TLS upstream that speaks h2 (and reports the protocol) and one that is HTTP/1.1 only
    const h2 = http2.createSecureServer({ cert: beta.cert, key: beta.key }, (req, res) =>
      res.end(`h2? ${req.httpVersion}`),
    );
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => h2.close(r)));
    const h1 = https.createServer({ cert: beta.cert, key: beta.key }, (req, res) =>
      res.end(`h1? ${req.httpVersion}`),
    );
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => h1.close(r)));
    const auto = (name: string, port: number) =>
      staticCluster(name, port, {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: 'beta.test',
          },
        },
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            auto_config: {},
          },
        },
      });
    const proxy = await startFromJson(closer, {
      static_resources: {
        listeners: [
          {
            name: 'plain',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [
              {
                filters: [
                  {
                    ...HCM('two', 'auto'),
                    typed_config: {
                      ...HCM('two', 'auto').typed_config,
                      route_config: {
                        virtual_hosts: [
                          {
                            name: 'all',
                            domains: ['*'],
                            routes: [
                              { match: { prefix: '/two' }, route: { cluster: 'two' } },
                              { match: { prefix: '/one' }, route: { cluster: 'one' } },
                            ],
                          },
                        ],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [
          auto('two', (h2.address() as net.AddressInfo).port),
          auto('one', (h1.address() as net.AddressInfo).port),
        ],
      },
    });
    const port = ingressPort(proxy, 'plain');
    // WHEN (twice each: the second request uses the settled pool)
    const texts: string[] = [];
    for (const path of ['/two', '/two', '/one', '/one']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: 'x' });
      texts.push(await res.text());
    }
    // THEN
    expect(texts).toEqual(['h2? 2.0', 'h2? 2.0', 'h1? 1.1', 'h1? 1.1']);
    // and each cluster's connection is counted under the protocol it settled on
    expect(proxy.stats.counter('cluster.two.upstream_cx_http2_total').value).toBe(1);
    expect(proxy.stats.counter('cluster.two.upstream_cx_http1_total').value).toBe(0);
    expect(proxy.stats.counter('cluster.one.upstream_cx_http1_total').value).toBe(1);
    expect(proxy.stats.counter('cluster.one.upstream_cx_http2_total').value).toBe(0);
  });
});
