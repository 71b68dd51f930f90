// The RBAC filter's matcher form (xds.type.matcher.v3.Matcher): envoyproxy/examples' RBAC config
// from ../shared/envoy-corpus/ run as it is (ports set to 0, its `backend` name resolved to
// loopback through the proxy's lookup hook), plus a matcher over the client certificate's SPIFFE
// id behind mTLS. Real node:http upstreams and clients; nothing stood in.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startProxy } from '../../../proxy/main.js';
import { bootstrapJson, Closer, httpUpstream, ingressPort, request, startFromJson } from '../e2e/helpers.js';
import { makePki, type Pki, spiffe } from '../tls/fixtures.js';

const closer = new Closer();
afterAll(() => closer.closeAll());

/** Ports to 0 (listeners, admin) or to `upstream` (endpoints). */
function localize(node: unknown, upstream: number, inEndpoint = false): void {
  if (Array.isArray(node)) {
    for (const n of node) localize(n, upstream, inEndpoint);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'port_value') o[k] = inEndpoint ? upstream : 0;
    else localize(v, upstream, inEndpoint || k === 'lb_endpoints');
  }
}

describe("envoyproxy/examples' RBAC config (matcher list)", () => {
  let port = 0;
  let stats: { counter(name: string): { value: number } };

  beforeAll(async () => {
    const up = await httpUpstream(closer, 'backend');
    const json = parse(
      readFileSync(
        new URL('../../../../shared/envoy-corpus/examples__rbac__envoy.yaml', import.meta.url),
        'utf8',
      ),
    ) as unknown;
    localize(json, up.port);
    const handle = await startProxy(loadBootstrap(JSON.stringify(json), { format: 'json' }), {
      logLevel: 'off',
      dnsLookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    closer.add(() => handle.close());
    port = [...handle.listeners.values()][0]?.port ?? 0;
    stats = handle.stats;
  });

  test('a referer from the Envoy docs passes; any other referer, or none, is denied', async () => {
    // WHEN three requests differ only in their referer
    const docs = await request(port, {
      headers: { referer: 'https://www.envoyproxy.io/docs/envoy/latest/' },
    });
    const other = await request(port, { headers: { referer: 'https://example.com/' } });
    const none = await request(port);
    // THEN only the first reaches the backend
    expect(docs.status).toBe(200);
    expect(other).toMatchObject({ status: 403, body: 'RBAC: access denied' });
    expect(none.status).toBe(403);
    expect(stats.counter('http.ingress_http.rbac.allowed').value).toBe(1);
    expect(stats.counter('http.ingress_http.rbac.denied').value).toBe(2);
  });
});

describe('RBAC matcher over the client certificate', () => {
  let pki: Pki;
  let port = 0;

  beforeAll(async () => {
    pki = await makePki(['server', 'frontend', 'intruder']);
    const app = await httpUpstream(closer, 'app');
    const action = (name: string, a: string) => ({
      action: {
        name: 'action',
        typed_config: { '@type': 'type.googleapis.com/envoy.config.rbac.v3.Action', name, action: a },
      },
    });
    // GIVEN mTLS and a matcher allowing frontend's SPIFFE id on GET, denying everything else
    const json = bootstrapJson({
      routeConfig: {
        name: 'l',
        virtual_hosts: [
          { name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
        ],
      },
      clusters: [{ name: 'app', ports: [app.port] }],
      hcm: {
        http_filters: [
          {
            name: 'envoy.filters.http.rbac',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
              matcher: {
                matcher_list: {
                  matchers: [
                    {
                      predicate: {
                        and_matcher: {
                          predicate: [
                            {
                              single_predicate: {
                                input: {
                                  name: 'uri',
                                  typed_config: {
                                    '@type':
                                      'type.googleapis.com/envoy.extensions.matching.common_inputs.ssl.v3.UriSanInput',
                                  },
                                },
                                value_match: { exact: spiffe('frontend') },
                              },
                            },
                            {
                              single_predicate: {
                                input: {
                                  name: 'method',
                                  typed_config: {
                                    '@type':
                                      'type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput',
                                    header_name: ':method',
                                  },
                                },
                                value_match: { exact: 'GET' },
                              },
                            },
                          ],
                        },
                      },
                      on_match: action('frontend-reads', 'ALLOW'),
                    },
                  ],
                },
                on_no_match: action('default-deny', 'DENY'),
              },
            },
          },
          {
            name: 'envoy.filters.http.router',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
          },
        ],
      },
      filterChainExtra: {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
            require_client_certificate: true,
            common_tls_context: {
              tls_certificates: [
                {
                  certificate_chain: { inline_string: pki.cert('server') },
                  private_key: { inline_string: pki.key('server') },
                },
              ],
              validation_context: { trusted_ca: { inline_string: pki.ca } },
            },
          },
        },
      },
    });
    port = ingressPort(await startFromJson(closer, json));
  }, 30_000);

  function call(who: string, method: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const r = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: '/',
          ca: pki.ca,
          cert: pki.cert(who),
          key: pki.key(who),
          servername: 'server',
          agent: false,
          checkServerIdentity: () => undefined,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      r.on('error', reject);
      r.end();
    });
  }

  test('the matched SPIFFE id and method pass; anything else falls to on_no_match and is denied', async () => {
    expect(await call('frontend', 'GET')).toBe(200);
    expect(await call('frontend', 'DELETE')).toBe(403);
    expect(await call('intruder', 'GET')).toBe(403);
  });
});
