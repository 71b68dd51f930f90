// Active health checks go over the cluster's TLS socket as Envoy's do: with the cluster's client
// certificate, its trusted_ca and its SAN matchers (not a host-name check). A real node:https
// upstream requiring mTLS, openssl-made SPIFFE certificates; nothing stood in.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Cluster } from '../../../proxy/config/envoy.js';
import { StatsStore } from '../../../proxy/stats/store.js';
import { ClusterManager, HealthFlag } from '../../../proxy/upstream/index.js';
import { healthCheckedCluster } from '../upstream/health/fixtures.js';
import {
  inlineTlsContext,
  makePki,
  type Pki,
  spiffe,
  startMtlsServer,
  tlsSocket,
  uriSan,
} from './fixtures.js';

let pki: Pki;
let server: Awaited<ReturnType<typeof startMtlsServer>>;

beforeAll(async () => {
  pki = await makePki(['server', 'frontend']);
  server = await startMtlsServer(pki, (_req, res) => res.writeHead(200).end());
}, 30_000);
afterAll(() => server.close());

function cluster(expected: string): Cluster {
  return healthCheckedCluster(
    [server.port],
    { unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/' } },
    {
      transport_socket: tlsSocket('upstream', {
        // The SNI names no SAN of the certificate: Envoy does not check host names, only SANs.
        sni: 'svc.mesh.internal',
        common_tls_context: inlineTlsContext(pki, 'frontend', {
          trusted_ca: { inline_string: pki.ca },
          match_typed_subject_alt_names: uriSan(expected),
        }),
      }),
    },
  );
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
