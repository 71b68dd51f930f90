// The running proxy's admin interface and access logs, end to end: real proxy, real node:http
// upstream, a real access-log file in a temp dir, admin over real HTTP on port 0.
// Nothing is stood in.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { bootstrapJson, Closer, httpUpstream, ingressPort, request, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function proxyWithLogs() {
  const up = await httpUpstream(closer, 'up');
  const logPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'crossmesh-log-')), 'access.log');
  const proxy = await startFromJson(
    closer,
    bootstrapJson({
      admin: true,
      routeConfig: {
        virtual_hosts: [
          {
            name: 'all',
            domains: ['*'],
            routes: [
              { match: { prefix: '/ok' }, route: { cluster: 'up' } },
              { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
            ],
          },
        ],
      },
      clusters: [
        { name: 'up', ports: [up.port] },
        { name: 'dead', ports: [1] },
      ],
      hcm: {
        access_log: [
          {
            name: 'envoy.access_loggers.file',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
              path: logPath,
            },
          },
        ],
      },
    }),
  );
  return { proxy, logPath, port: ingressPort(proxy) };
}

describe('admin and access log of a running proxy', () => {
  test('stats, clusters and listeners reflect real traffic', async () => {
    // GIVEN
    const { proxy, port } = await proxyWithLogs();
    const admin = proxy.admin?.port;
    expect(admin).toBeGreaterThan(0);
    // WHEN
    await request(port, { path: '/ok' });
    await request(port, { path: '/ok' });
    await request(port, { path: '/nothing' });
    const stats = await request(admin as number, {
      path: '/stats?filter=^(cluster\\.up\\.upstream_rq_total|http\\.ingress_http\\.downstream_rq_4xx)$',
    });
    const prom = await request(admin as number, { path: '/stats/prometheus' });
    const listeners = await request(admin as number, { path: '/listeners?format=json' });
    const ready = await request(admin as number, { path: '/ready' });
    // THEN
    expect(stats.body).toContain('cluster.up.upstream_rq_total: 2');
    expect(stats.body).toContain('http.ingress_http.downstream_rq_4xx: 1');
    expect(prom.body).toContain('envoy_cluster_upstream_rq_total{envoy_cluster_name="up"} 2');
    expect(listeners.body).toContain(String(port));
    expect(ready.body.trim()).toBe('LIVE');
  });

  test('access log lines use Envoy’s default format with response flags', async () => {
    // GIVEN
    const { proxy, port, logPath } = await proxyWithLogs();
    // WHEN
    await request(port, { path: '/ok', headers: { 'user-agent': 'fuzzy/1' } });
    await request(port, { path: '/nothing' });
    await request(port, { path: '/dead' });
    await proxy.close();
    // THEN
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] "GET \/ok HTTP\/1\.1" 200 - 0 \d+ \d+ \d+ "-" "fuzzy\/1" "[0-9a-f-]{36}" "127\.0\.0\.1:\d+" "127\.0\.0\.1:\d+"$/,
    );
    expect(lines[1]).toContain('"GET /nothing HTTP/1.1" 404 NR ');
    expect(lines[2]).toContain('"GET /dead HTTP/1.1" 503 UF ');
  });
});
