// Admin server tests over real loopback sockets (port 0) with a real StatsStore and
// ClusterManager; only the engine-side callbacks (health, drain, quit) are recorded by the test.
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type AdminContext, type AdminServer, startAdmin } from '../../../proxy/admin/index.js';
import type { Bootstrap } from '../../../proxy/config/envoy.js';
import { ClusterStats } from '../../../proxy/stats/scopes.js';
import { StatsStore } from '../../../proxy/stats/store.js';
import { ClusterManager, HealthFlag } from '../../../proxy/upstream/index.js';

const bootstrap: Bootstrap = {
  node: { id: 'proxy-1', cluster: 'shop' },
  static_resources: {
    clusters: [
      {
        name: 'backend',
        load_assignment: {
          cluster_name: 'backend',
          endpoints: [
            {
              locality: { region: 'eu', zone: 'eu-1a' },
              lb_endpoints: [
                { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9001 } } } },
                {
                  endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9002 } } },
                  load_balancing_weight: 3,
                },
              ],
            },
          ],
        },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            common_tls_context: {
              tls_certificates: [
                {
                  certificate_chain: { inline_string: 'CERT' },
                  private_key: { inline_string: 'SECRET-KEY' },
                },
              ],
            },
          },
        },
      },
    ],
    listeners: [
      {
        name: 'ingress',
        address: { socket_address: { address: '0.0.0.0', port_value: 0 } },
        filter_chains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typed_config: {
                  '@type':
                    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                  stat_prefix: 'ingress_http',
                  route_config: {
                    name: 'local',
                    virtual_hosts: [
                      {
                        name: 'all',
                        domains: ['*'],
                        routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }],
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
  },
} as Bootstrap;

describe('admin server', () => {
  const store = new StatsStore();
  const clusters = new ClusterManager(bootstrap.static_resources?.clusters ?? [], store);
  const calls: string[] = [];
  let healthy = true;
  const ctx: AdminContext = {
    stats: store,
    clusters,
    bootstrap,
    listeners: () => [{ name: 'ingress', address: '0.0.0.0', port: 10000 }],
    isReady: () => healthy,
    setHealthy: (ok) => {
      healthy = ok;
      calls.push(`healthy:${ok}`);
    },
    drainListeners: (o) => calls.push(`drain:${o?.inboundOnly}:${o?.graceful}`),
    quit: () => calls.push('quit'),
    reopenLogs: () => {
      calls.push('reopen');
    },
    startedAt: Date.now() - 3000,
  };
  let admin: AdminServer;
  let base: string;

  beforeAll(async () => {
    admin = await startAdmin({ address: '127.0.0.1', port: 0 }, ctx);
    base = `http://127.0.0.1:${admin.port}`;
    const s = new ClusterStats(store, 'backend');
    s.upstream_rq_total.add(5);
    s.recordResponse(200);
    s.upstream_rq_time.record(12);
  });
  afterAll(async () => {
    await admin.close();
    clusters.close();
  });

  const get = (path: string, init?: RequestInit) => fetch(base + path, init);

  test('binds an ephemeral port', () => {
    // GIVEN / WHEN / THEN
    expect(admin.port).toBeGreaterThan(0);
  });

  test('/ready is 200 LIVE, 503 after /healthcheck/fail, 200 after /healthcheck/ok', async () => {
    // GIVEN / WHEN / THEN
    let r = await get('/ready');
    expect([r.status, await r.text()]).toEqual([200, 'LIVE\n']);
    r = await get('/healthcheck/fail', { method: 'POST' });
    expect(r.status).toBe(200);
    r = await get('/ready');
    expect([r.status, await r.text()]).toEqual([503, 'DRAINING\n']);
    await get('/healthcheck/ok', { method: 'POST' });
    expect((await get('/ready')).status).toBe(200);
    expect(calls).toContain('healthy:false');
  });

  test('/server_info reports version, state and uptime', async () => {
    // GIVEN / WHEN
    const info = (await (await get('/server_info')).json()) as Record<string, unknown>;
    // THEN
    expect(info).toMatchObject({ state: 'LIVE', hot_restart_version: 'disabled', node: { id: 'proxy-1' } });
    expect(info.version).toMatch(/^crossmesh\//);
    expect(info.uptime_current_epoch).toMatch(/^\d+s$/);
  });

  test('/stats text, filter, json and prometheus', async () => {
    // GIVEN / WHEN
    const txt = await (await get('/stats?filter=upstream_rq_total')).text();
    const json = (await (await get('/stats?format=json&filter=backend.upstream_rq_2xx')).json()) as {
      stats: unknown[];
    };
    const prom = await (await get('/stats/prometheus')).text();
    const bad = await get('/stats?filter=(');
    // THEN
    expect(txt).toBe('cluster.backend.upstream_rq_total: 5\n');
    expect(json.stats).toEqual([{ name: 'cluster.backend.upstream_rq_2xx', value: 1 }]);
    expect(prom).toContain('envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 5');
    expect(prom).toContain('envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="25"} 1');
    expect(bad.status).toBe(400);
  });

  test('/clusters in Envoy text and JSON forms', async () => {
    // GIVEN a host failing health checks
    clusters.get('backend')?.hosts[0]?.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    // WHEN
    const txt = await (await get('/clusters')).text();
    const json = (await (await get('/clusters?format=json')).json()) as {
      cluster_statuses: Array<{ name: string; host_statuses: Array<Record<string, unknown>> }>;
    };
    // THEN
    expect(txt).toContain('backend::default_priority::max_connections::1024\n');
    expect(txt).toContain('backend::127.0.0.1:9001::health_flags::/failed_active_hc\n');
    expect(txt).toContain('backend::127.0.0.1:9002::health_flags::healthy\n');
    expect(txt).toContain('backend::127.0.0.1:9002::weight::3\n');
    expect(txt).toContain('backend::127.0.0.1:9002::zone::eu-1a\n');
    expect(txt).toContain('backend::127.0.0.1:9001::rq_total::0\n');
    const hosts = json.cluster_statuses[0]?.host_statuses ?? [];
    expect(hosts[0]).toMatchObject({
      address: { socket_address: { address: '127.0.0.1', port_value: 9001 } },
      health_status: { eds_health_status: 'HEALTHY', failed_active_health_check: true },
      locality: { region: 'eu', zone: 'eu-1a' },
    });
    clusters.get('backend')?.hosts[0]?.clearHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
  });

  test('/config_dump has typed dumps and redacts private keys', async () => {
    // GIVEN / WHEN
    const body = await (await get('/config_dump')).text();
    const dump = JSON.parse(body) as { configs: Array<{ '@type': string }> };
    // THEN
    expect(dump.configs.map((c) => c['@type'])).toEqual([
      'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
    ]);
    expect(body).not.toContain('SECRET-KEY');
    expect(body).toContain('[redacted]');
    expect(body).toContain('CERT');
    const routes = (await (await get('/config_dump?resource=static_route_configs')).json()) as {
      configs: Array<{ route_config: { name: string } }>;
    };
    expect(routes.configs[0]?.route_config.name).toBe('local');
  });

  test('/listeners text and JSON', async () => {
    // GIVEN / WHEN / THEN
    expect(await (await get('/listeners')).text()).toBe('ingress::0.0.0.0:10000\n');
    expect(await (await get('/listeners?format=json')).json()).toEqual({
      listener_statuses: [
        { name: 'ingress', local_address: { socket_address: { address: '0.0.0.0', port_value: 10000 } } },
      ],
    });
  });

  test.each(['/healthcheck/fail', '/healthcheck/ok', '/quitquitquit', '/drain_listeners', '/reset_counters'])(
    'GET %s is 405',
    async (path) => {
      // GIVEN / WHEN
      const r = await get(path);
      // THEN
      expect(r.status).toBe(405);
      expect(await r.text()).toBe('Method GET not allowed, POST required.\n');
    },
  );

  test('POST /reset_counters zeroes counters, /drain_listeners and /quitquitquit call the engine', async () => {
    // GIVEN
    store.counter('x.c').add(3);
    // WHEN
    await get('/reset_counters', { method: 'POST' });
    await get('/drain_listeners?inboundonly&graceful', { method: 'POST' });
    await (await get('/reopen_logs', { method: 'POST' })).text();
    const q = await get('/quitquitquit', { method: 'POST' });
    await q.text();
    // THEN (quit runs once the response is flushed, which a loaded machine may report after the
    // client already read it: wait for it rather than for a fixed time)
    expect(store.counter('x.c').value).toBe(0);
    expect(calls).toContain('drain:true:true');
    expect(calls).toContain('reopen');
    await vi.waitFor(() => expect(calls).toContain('quit'), { timeout: 5000, interval: 5 });
  });

  test('/stats type and usedonly filters, /memory, /runtime and / (help)', async () => {
    // GIVEN a used gauge and an unused counter
    store.gauge('z.used_gauge').set(4);
    store.counter('z.unused_counter');
    // WHEN
    const gauges = await (await get('/stats?type=Gauges&filter=^z\\.')).text();
    const used = await (await get('/stats?usedonly&filter=^z\\.')).text();
    const badType = await get('/stats?type=Bogus');
    const memory = (await (await get('/memory')).json()) as Record<string, string>;
    const runtime = await (await get('/runtime')).json();
    const home = await (await get('/')).text();
    // THEN
    expect(gauges).toBe('z.used_gauge: 4\n');
    expect(used).toBe('z.used_gauge: 4\n');
    expect(badType.status).toBe(400);
    expect(Number(memory.allocated)).toBeGreaterThan(0);
    expect(runtime).toEqual({ layers: [], entries: {} });
    expect(home).toMatch(/^admin commands are:\n/);
  });

  test('unknown paths are 404 with the endpoint list', async () => {
    // GIVEN / WHEN
    const r = await get('/nope');
    // THEN
    expect(r.status).toBe(404);
    const body = await r.text();
    expect(body).toMatch(/^invalid path\. admin commands are:/);
    expect(body).toContain('  /stats/prometheus: ');
  });

  test('a busy port is a PROXY_E_LISTEN error', async () => {
    // GIVEN / WHEN / THEN
    await expect(startAdmin({ address: '127.0.0.1', port: admin.port }, ctx)).rejects.toMatchObject({
      code: 'PROXY_E_LISTEN',
    });
  });
});
