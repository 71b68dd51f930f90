// Active health checks go over the cluster's TLS socket as Envoy's do: with the cluster's client
// certificate, its trusted_ca and its SAN matchers (not a host-name check). A real node:https
// upstream requiring mTLS, openssl-made SPIFFE certificates; nothing stood in.
import https from 'node:https';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Cluster } from '../../../proxy/config/envoy.js';
import { StatsStore } from '../../../proxy/stats/store.js';
import { ClusterManager, HealthFlag } from '../../../proxy/upstream/index.js';
import { makePki, type Pki, spiffe } from './fixtures.js';

let pki: Pki;
let port = 0;
let server: https.Server;

beforeAll(async () => {
  pki = await makePki(['server', 'frontend']);
  server = https.createServer(
    {
      cert: pki.cert('server'),
      key: pki.key('server'),
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (_req, res) => res.writeHead(200).end(),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
}, 30_000);
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);

function cluster(expected: string): Cluster {
  return {
    name: 'svc',
    health_checks: [
      {
        timeout: '0.5s',
        interval: '0.020s',
        no_traffic_interval: '0.020s',
        unhealthy_threshold: 1,
        healthy_threshold: 1,
        http_health_check: { path: '/' },
      },
    ],
    load_assignment: {
      cluster_name: 'svc',
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
          ],
        },
      ],
    },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        // The SNI names no SAN of the certificate: Envoy does not check host names, only SANs.
        sni: 'svc.mesh.internal',
        common_tls_context: {
          tls_certificates: [
            {
              certificate_chain: { inline_string: pki.cert('frontend') },
              private_key: { inline_string: pki.key('frontend') },
            },
          ],
          validation_context: {
            trusted_ca: { inline_string: pki.ca },
            match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: expected } }],
          },
        },
      },
    },
  } as Cluster;
}

describe('health checks over an mTLS cluster', () => {
  test('the expected SPIFFE id passes; another one fails the host and counts ssl.fail_verify_san', async () => {
    // GIVEN two cluster managers, one expecting the upstream's SPIFFE id and one expecting another
    const store = new StatsStore();
    const good = new ClusterManager([cluster(spiffe('server'))], new StatsStore());
    const bad = new ClusterManager([cluster(spiffe('payments'))], store);
    try {
      // WHEN their first checks complete
      await good.ready();
      await bad.ready();
      const failed = (cm: ClusterManager) =>
        ((cm.get('svc')?.hosts[0]?.healthFlags ?? 0) & HealthFlag.FAILED_ACTIVE_HC) !== 0;
      await expect.poll(() => store.counter('cluster.svc.ssl.fail_verify_san').value).toBeGreaterThan(0);
      // THEN only the mismatched identity fails
      expect(failed(good)).toBe(false);
      expect(failed(bad)).toBe(true);
    } finally {
      good.close();
      bad.close();
    }
  });
});
