// The RBAC HTTP filter: the rule engine on its own (permissions and principals, Envoy semantics),
// and end to end over real sockets behind a strict-mTLS listener, where principals are the
// callers' SPIFFE ids from their client certificates (openssl-made, see ../tls/fixtures.ts).
// Nothing is stood in.
import http2 from 'node:http2';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import type { FilterRequest } from '../../../proxy/filters/filter.js';
import { RbacEngine, type RbacFacts, rbacContext } from '../../../proxy/filters/rbac.js';
import { bootstrapJson, Closer, httpUpstream, ingressPort, startFromJson } from '../e2e/helpers.js';
import { makePki, type Pki, spiffe } from '../tls/fixtures.js';

const RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** A request as the pipeline hands it to filters. */
function req(
  over: {
    method?: string;
    path?: string;
    headers?: string[];
    remote?: string;
    xffClient?: string;
    localPort?: number;
    uris?: string[];
  } = {},
): FilterRequest & RbacFacts {
  const headers = over.headers ?? [];
  return {
    headers,
    grpc: false,
    clusterName: 'app',
    connection: {
      remoteAddress: over.remote ?? '10.0.0.5',
      localPort: over.localPort ?? 8080,
      ...(over.uris === undefined
        ? {}
        : { peer: { uris: over.uris, dns: [], emails: [], ips: [], subject: 'CN=x' } }),
    },
    request: {
      authority: 'svc',
      path: over.path ?? '/',
      method: over.method ?? 'GET',
      scheme: 'https',
      headers,
      sourceAddress: over.xffClient ?? over.remote ?? '10.0.0.5',
    },
  };
}

function allows(rules: Record<string, unknown>, r: FilterRequest & RbacFacts): boolean {
  return new RbacEngine(rules, 'rules').decide(rbacContext(r)).allowed;
}

describe('RbacEngine', () => {
  test('ALLOW: a request passes only when one policy matches both a permission and a principal', () => {
    // GIVEN GET on /items/* allowed for frontend
    const rules = {
      action: 'ALLOW',
      policies: {
        reads: {
          permissions: [
            {
              and_rules: {
                rules: [
                  { url_path: { path: { prefix: '/items/' } } },
                  { header: { name: ':method', string_match: { exact: 'GET' } } },
                ],
              },
            },
          ],
          principals: [{ authenticated: { principal_name: { exact: spiffe('frontend') } } }],
        },
      },
    };
    // WHEN / THEN
    expect(allows(rules, req({ path: '/items/1?x=2', uris: [spiffe('frontend')] }))).toBe(true);
    expect(allows(rules, req({ path: '/items/1', method: 'POST', uris: [spiffe('frontend')] }))).toBe(false);
    expect(allows(rules, req({ path: '/admin', uris: [spiffe('frontend')] }))).toBe(false);
    expect(allows(rules, req({ path: '/items/1', uris: [spiffe('intruder')] }))).toBe(false);
    // no client certificate: not authenticated
    expect(allows(rules, req({ path: '/items/1' }))).toBe(false);
  });

  test('DENY: a matching policy refuses, everything else passes; the policy name is reported', () => {
    // GIVEN a deny of /admin from outside 10.0.0.0/8 (by the trusted client address)
    const rules = {
      action: 'DENY',
      policies: {
        admin: {
          permissions: [{ url_path: { path: { exact: '/admin' } } }],
          principals: [{ not_id: { remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } } }],
        },
      },
    };
    const engine = new RbacEngine(rules, 'rules');
    // WHEN / THEN
    expect(engine.decide(rbacContext(req({ path: '/admin', xffClient: '192.0.2.1' })))).toEqual({
      allowed: false,
      policy: 'admin',
    });
    expect(allows(rules, req({ path: '/admin', remote: '10.1.2.3' }))).toBe(true);
    expect(allows(rules, req({ path: '/other', xffClient: '192.0.2.1' }))).toBe(true);
  });

  test('or_rules, not_rule, destination_port, header and direct_remote_ip / source_ip', () => {
    const rules = {
      action: 'ALLOW',
      policies: {
        p: {
          permissions: [
            {
              or_rules: {
                rules: [
                  { destination_port: 9000 },
                  { not_rule: { header: { name: 'x-block', present_match: true } } },
                ],
              },
            },
          ],
          principals: [
            {
              or_ids: {
                ids: [
                  { direct_remote_ip: { address_prefix: '127.0.0.1', prefix_len: 32 } },
                  { source_ip: { address_prefix: '192.168.0.0', prefix_len: 16 } },
                  { header: { name: 'x-caller', string_match: { exact: 'ops' } } },
                ],
              },
            },
          ],
        },
      },
    };
    expect(allows(rules, req({ remote: '127.0.0.1' }))).toBe(true);
    expect(allows(rules, req({ remote: '192.168.3.4' }))).toBe(true);
    expect(allows(rules, req({ remote: '10.9.9.9', headers: ['x-caller', 'ops'] }))).toBe(true);
    expect(allows(rules, req({ remote: '10.9.9.9' }))).toBe(false);
    // x-block makes the not_rule fail, unless the request came in on port 9000
    expect(allows(rules, req({ remote: '127.0.0.1', headers: ['x-block', '1'] }))).toBe(false);
    expect(allows(rules, req({ remote: '127.0.0.1', headers: ['x-block', '1'], localPort: 9000 }))).toBe(
      true,
    );
  });

  test('a rule with two kinds set, a bad CIDR or action LOG names the field', () => {
    expect(
      () =>
        new RbacEngine(
          {
            policies: {
              p: { permissions: [{ any: true, destination_port: 1 }], principals: [{ any: true }] },
            },
          },
          'r',
        ),
    ).toThrow(MeshError);
    expect(
      () =>
        new RbacEngine(
          {
            policies: {
              p: {
                permissions: [{ any: true }],
                principals: [{ direct_remote_ip: { address_prefix: 'nope' } }],
              },
            },
          },
          'r',
        ),
    ).toThrow(/principals\[0\]\.direct_remote_ip\.address_prefix/);
    expect(() => new RbacEngine({ action: 'LOG' }, 'r')).toThrow(/ALLOW, DENY|LOG/);
  });
});

describe('RBAC filter behind strict mTLS', () => {
  const closer = new Closer();
  let pki: Pki;
  let port = 0;
  let handle: Awaited<ReturnType<typeof startFromJson>>;

  beforeAll(async () => {
    pki = await makePki(['server', 'frontend', 'intruder']);
    const app = await httpUpstream(closer, 'app');
    // GIVEN an mTLS listener whose RBAC allows frontend to GET /items* and nothing else
    handle = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          name: 'local',
          virtual_hosts: [
            { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
          ],
        },
        clusters: [{ name: 'app', ports: [app.port] }],
        hcm: {
          http_filters: [
            {
              name: 'envoy.filters.http.rbac',
              typed_config: {
                '@type': RBAC,
                rules: {
                  action: 'ALLOW',
                  policies: {
                    'rule-0': {
                      permissions: [
                        {
                          and_rules: {
                            rules: [
                              { or_rules: { rules: [{ url_path: { path: { prefix: '/items' } } }] } },
                              {
                                or_rules: {
                                  rules: [{ header: { name: ':method', string_match: { exact: 'GET' } } }],
                                },
                              },
                            ],
                          },
                        },
                      ],
                      principals: [{ authenticated: { principal_name: { exact: spiffe('frontend') } } }],
                    },
                  },
                },
              },
            },
            { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } },
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
      }),
    );
    port = ingressPort(handle);
  }, 30_000);
  afterAll(() => closer.closeAll());

  function call(who: string, method: string, path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const r = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          ca: pki.ca,
          cert: pki.cert(who),
          key: pki.key(who),
          servername: 'server',
          agent: false,
          checkServerIdentity: () => undefined,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      r.on('error', reject);
      r.end();
    });
  }

  test('the allowed principal, path and method pass; the rest get 403 RBAC: access denied', async () => {
    // WHEN frontend reads, frontend writes, and intruder reads
    const ok = await call('frontend', 'GET', '/items/1');
    const write = await call('frontend', 'POST', '/items/1');
    const other = await call('intruder', 'GET', '/items/1');
    const path = await call('frontend', 'GET', '/admin');
    // THEN only the first reaches the app, and the stats count each decision
    expect(ok).toEqual({ status: 200, body: 'app GET /items/1' });
    for (const denied of [write, other, path])
      expect(denied).toEqual({ status: 403, body: 'RBAC: access denied' });
    expect(handle.stats.counter('http.ingress_http.rbac.allowed').value).toBe(1);
    expect(handle.stats.counter('http.ingress_http.rbac.denied').value).toBe(3);
  });

  test('a denied gRPC call over HTTP/2 gets PERMISSION_DENIED in the trailers-only form', async () => {
    // GIVEN an HTTP/2 mTLS session as frontend
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      ca: pki.ca,
      cert: pki.cert('frontend'),
      key: pki.key('frontend'),
      servername: 'server',
      checkServerIdentity: () => undefined,
    });
    // WHEN it makes a gRPC call (POST) that the policy does not allow
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/items.Store/Write',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('response', resolve);
      stream.on('error', reject);
      stream.end();
    });
    session.close();
    // THEN the reply is gRPC status 7 with Envoy's message
    expect(headers[':status']).toBe(200);
    expect(headers['grpc-status']).toBe('7');
    expect(decodeURIComponent(String(headers['grpc-message']))).toBe('RBAC: access denied');
  });
});
