// Health probes over TLS use the cluster's own TLS client options (proxy/http/connect.ts
// upstreamTlsOptions): regression tests for probes that sent the Host header or an IP address as
// SNI and ignored the TLS 1.2 floor. Real node:https / node:http2 / node:tls servers on loopback
// port 0 with openssl-made certificates; nothing is stood in.
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { afterEach, describe, expect, test } from 'vitest';
import type { Cluster, HealthCheck } from '../../../../proxy/config/envoy.js';
import { StatsStore } from '../../../../proxy/stats/store.js';
import { ClusterManager, HealthFlag } from '../../../../proxy/upstream/index.js';
import { makeCerts } from '../../e2e/helpers.js';
import { tlsSocket } from '../../tls/fixtures.js';
import { healthCheckedCluster, type Listenable, listen as listenOn } from './fixtures.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CERTS = makeCerts(['backend.internal']);

/** Listens on loopback port 0; the server is closed after the test. */
function listen(server: Listenable): Promise<number> {
  return listenOn(server, cleanups);
}

/** A TLS cluster `svc` with one loopback host health-checked every 20 ms. */
function tlsCluster(port: number, hc: Partial<HealthCheck>, sni?: string): Cluster {
  return healthCheckedCluster(
    [port],
    { unhealthy_threshold: 1, healthy_threshold: 1, ...hc },
    {
      transport_socket: tlsSocket('upstream', {
        ...(sni === undefined ? {} : { sni }),
        common_tls_context: { validation_context: { trusted_ca: { inline_string: CERTS.ca } } },
      }),
    },
  );
}

/** Starts the cluster's checker and waits until its host passed a check. */
async function checkedHealthy(cluster: Cluster): Promise<void> {
  const cm = new ClusterManager([cluster], new StatsStore());
  cleanups.push(() => cm.close());
  await cm.ready();
  const host = cm.get('svc')?.hosts[0];
  await expect
    .poll(() => host?.healthChecked === true && (host.healthFlags & HealthFlag.FAILED_ACTIVE_HC) === 0)
    .toBe(true);
}

describe('health probes over TLS', () => {
  test('an HTTP/1.1 probe without configured SNI sends none (not its Host header), over TLS 1.2+', async () => {
    // GIVEN an HTTPS server recording the SNI and TLS version of every check
    const seen: { sni: string | false | null; version: string | null; alpn: string | false | null }[] = [];
    const port = await listen(
      https.createServer({ cert: CERTS.cert, key: CERTS.key }, (req, res) => {
        const s = req.socket as tls.TLSSocket;
        seen.push({ sni: s.servername, version: s.getProtocol(), alpn: s.alpnProtocol });
        res.end();
      }),
    );
    // WHEN the cluster (no sni) health-checks it with Host "svc"
    await checkedHealthy(tlsCluster(port, { http_health_check: { path: '/healthz' } }));
    // THEN no SNI went out, and TLS is 1.2 or 1.3
    expect(seen[0]?.sni).toBe(false);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(seen[0]?.version);
  });

  test('a configured SNI is sent by HTTP/1.1, HTTP/2 and TCP probes alike', async () => {
    // GIVEN three TLS servers recording the SNI: HTTPS, h2 over TLS, and a raw TLS echo of "PONG"
    const names: Record<string, string | false | null> = {};
    const h1 = await listen(
      https.createServer({ cert: CERTS.cert, key: CERTS.key }, (req, res) => {
        names.h1 = (req.socket as tls.TLSSocket).servername;
        res.end();
      }),
    );
    const h2 = await listen(
      http2.createSecureServer({ cert: CERTS.cert, key: CERTS.key }, (req, res) => {
        names.h2 = (req.socket as tls.TLSSocket).servername;
        res.end();
      }),
    );
    const raw = await listen(
      tls.createServer({ cert: CERTS.cert, key: CERTS.key }, (s) => {
        names.tcp = s.servername;
        s.on('error', () => undefined);
        s.end('PONG');
      }),
    );
    // WHEN each is health-checked by a cluster with sni backend.internal
    await checkedHealthy(tlsCluster(h1, { http_health_check: { path: '/' } }, 'backend.internal'));
    await checkedHealthy(
      tlsCluster(h2, { http_health_check: { path: '/', codec_client_type: 'HTTP2' } }, 'backend.internal'),
    );
    await checkedHealthy(
      tlsCluster(
        raw,
        { tcp_health_check: { receive: [{ text: Buffer.from('PONG').toString('hex') }] } },
        'backend.internal',
      ),
    );
    // THEN every probe sent it
    expect(names).toEqual({ h1: 'backend.internal', h2: 'backend.internal', tcp: 'backend.internal' });
  });

  test('an IP address configured as SNI is not sent (Envoy and Node refuse IPs as server names)', async () => {
    // GIVEN an HTTPS server recording the SNI
    const seen: (string | false | null)[] = [];
    const port = await listen(
      https.createServer({ cert: CERTS.cert, key: CERTS.key }, (req, res) => {
        seen.push((req.socket as tls.TLSSocket).servername);
        res.end();
      }),
    );
    // WHEN the cluster's sni is an IP address
    await checkedHealthy(tlsCluster(port, { http_health_check: { path: '/' } }, '127.0.0.1'));
    // THEN the check passed without SNI
    expect(seen[0]).toBe(false);
  });
});
