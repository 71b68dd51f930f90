// x-forwarded-client-cert as the connection manager's forward_client_cert_details asks, over real
// sockets: an openssl-made CA and SPIFFE certificates, node:https clients, a node:http upstream
// that records what it received. Nothing stood in.
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bootstrapJson, Closer, httpUpstream, ingressPort, request, startFromJson } from '../e2e/helpers.js';
import { makePki, type Pki, spiffe } from './fixtures.js';

const ROUTES = {
  name: 'local',
  virtual_hosts: [
    { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
  ],
};

const closer = new Closer();
let pki: Pki;
afterAll(() => closer.closeAll());
beforeAll(async () => {
  pki = await makePki(['server', 'frontend']);
}, 30_000);

function mtlsGet(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers,
        ca: pki.ca,
        cert: pki.cert('frontend'),
        key: pki.key('frontend'),
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

describe('x-forwarded-client-cert', () => {
  test('by default (SANITIZE) a client-sent header never reaches the upstream', async () => {
    // GIVEN a plain listener with no XFCC settings
    const app = await httpUpstream(closer, 'app');
    const handle = await startFromJson(
      closer,
      bootstrapJson({ routeConfig: ROUTES, clusters: [{ name: 'app', ports: [app.port] }] }),
    );
    // WHEN a client claims an identity in the header
    await request(ingressPort(handle), { headers: { 'x-forwarded-client-cert': `URI=${spiffe('admin')}` } });
    // THEN the upstream does not see it
    expect(app.seen[0]?.headers['x-forwarded-client-cert']).toBeUndefined();
  });

  test('APPEND_FORWARD adds this hop: By (our SPIFFE id), Hash and the client URI', async () => {
    // GIVEN an mTLS listener appending the client URI
    const app = await httpUpstream(closer, 'app');
    const handle = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: ROUTES,
        clusters: [{ name: 'app', ports: [app.port] }],
        hcm: {
          forward_client_cert_details: 'APPEND_FORWARD',
          set_current_client_cert_details: { uri: true },
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
    // WHEN frontend calls, carrying the previous hop's element
    expect(
      await mtlsGet(ingressPort(handle), { 'x-forwarded-client-cert': 'By=spiffe://prev;URI=spiffe://x' }),
    ).toBe(200);
    // THEN the upstream gets both elements, this hop's naming both certificates
    const hash = new X509Certificate(pki.cert('frontend')).fingerprint256.replaceAll(':', '').toLowerCase();
    expect(app.seen[0]?.headers['x-forwarded-client-cert']).toBe(
      `By=spiffe://prev;URI=spiffe://x,By=${spiffe('server')};Hash=${hash};URI=${spiffe('frontend')}`,
    );
  });
});
