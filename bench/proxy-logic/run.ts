/**
 * Micro-benchmark of the proxy's per-request logic: route selection, host picks per load
 * balancer, and the stats a request touches. Run: `npm run bench -- proxy-logic` (or
 * `node --import tsx bench/proxy-logic/run.ts`). Prints ops/s and heap bytes per op (measured
 * with GC forced between phases when `--expose-gc` is given; otherwise approximate).
 * Nothing here is asserted: figures go into bench/proxy-logic/RESULTS.md by hand.
 */
import type { Cluster, RouteConfiguration } from '../../proxy/config/envoy.js';
import { compileRouteConfiguration, type RouteRequest } from '../../proxy/router/index.js';
import { ClusterStats, HttpConnectionManagerStats } from '../../proxy/stats/scopes.js';
import { StatsStore } from '../../proxy/stats/store.js';
import { ClusterManager } from '../../proxy/upstream/index.js';

const gc = (globalThis as { gc?: () => void }).gc;

function measure(name: string, ops: number, fn: (i: number) => void): void {
  // warm up so the JIT has compiled the path being measured
  for (let i = 0; i < Math.min(ops, 200_000); i++) fn(i);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start);
  const heapAfter = process.memoryUsage().heapUsed;
  const perSec = (ops / ns) * 1e9;
  const bytes = Math.max(0, heapAfter - heapBefore) / ops;
  console.log(
    `${name.padEnd(44)} ${Math.round(perSec).toLocaleString('en-US').padStart(14)} ops/s  ${(ns / ops).toFixed(0).padStart(6)} ns/op  ~${bytes.toFixed(1)} B/op${gc ? '' : ' (no --expose-gc)'}`,
  );
}

// A realistic table: 20 virtual hosts (exact, wildcard, default), 10 routes each mixing prefix,
// exact path, regex and header matches; requests hit routes spread over the table.
const vhosts = Array.from({ length: 20 }, (_, v) => ({
  name: `vh${v}`,
  domains:
    v === 19
      ? ['*']
      : v % 3 === 0
        ? [`*.svc${v}.example.com`]
        : [`svc${v}.example.com`, `svc${v}.example.com:8080`],
  routes: [
    ...Array.from({ length: 7 }, (_, r) => ({
      match: { prefix: `/api/v${r}/` },
      route: { cluster: `c${(v + r) % 5}` },
    })),
    { match: { path: '/health' }, direct_response: { status: 200, body: { inline_string: 'ok' } } },
    {
      match: { safe_regex: { regex: '/users/[0-9]+/orders' } },
      route: { cluster: 'c1', prefix_rewrite: '/orders' },
    },
    {
      match: { prefix: '/', headers: [{ name: 'x-canary', string_match: { exact: 'true' } }] },
      route: {
        weighted_clusters: {
          clusters: [
            { name: 'c2', weight: 90 },
            { name: 'c3', weight: 10 },
          ],
        },
      },
    },
  ],
}));
const table = compileRouteConfiguration({ name: 'bench', virtual_hosts: vhosts } as RouteConfiguration);
const requests: RouteRequest[] = Array.from({ length: 1024 }, (_, i) => ({
  authority: i % 4 === 0 ? `a.svc${(i % 7) * 3}.example.com` : `svc${i % 19}.example.com`,
  path: i % 5 === 0 ? `/users/${i}/orders` : `/api/v${i % 7}/items?page=${i}`,
  method: 'GET',
  scheme: 'http',
  headers: ['user-agent', 'wrk', 'accept', '*/*', 'x-canary', i % 10 === 0 ? 'true' : 'false'],
  sourceAddress: `10.0.${i % 250}.${i % 200}:40000`,
}));

console.log(`node ${process.version}, ${requests.length} distinct requests, 20 vhosts x 10 routes`);
let sink = 0;
measure('route (vhost + first match)', 2_000_000, (i) => {
  const r = table.route(requests[i & 1023] as RouteRequest);
  if (r.kind === 'cluster') sink += r.clusterName.length;
});

const hashTable = compileRouteConfiguration({
  name: 'hash',
  virtual_hosts: [
    {
      name: 'h',
      domains: ['*'],
      routes: [
        {
          match: { prefix: '/' },
          route: {
            cluster: 'c',
            hash_policy: [
              { header: { header_name: 'user-agent' } },
              { connection_properties: { source_ip: true } },
            ],
          },
        },
      ],
    },
  ],
} as RouteConfiguration);
const hashRoute = hashTable.route(requests[0] as RouteRequest);
if (hashRoute.kind !== 'cluster') throw new Error('bench setup: expected a cluster route');
measure('hashKey (header + source_ip, xxHash64)', 2_000_000, (i) => {
  sink += hashRoute.route.hashKey(requests[i & 1023] as RouteRequest) ?? 0;
});

const store = new StatsStore();
const endpoints = Array.from({ length: 16 }, (_, i) => ({
  endpoint: { address: { socket_address: { address: `10.1.0.${i + 1}`, port_value: 8080 } } },
  load_balancing_weight: 1 + (i % 4),
}));
const equal = endpoints.map((e) => ({ endpoint: e.endpoint }));
const policies = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const;
const clusters: Cluster[] = policies.flatMap((p) => [
  {
    name: `${p}-equal`,
    lb_policy: p,
    load_assignment: { cluster_name: p, endpoints: [{ lb_endpoints: equal }] },
  },
  {
    name: `${p}-weighted`,
    lb_policy: p,
    load_assignment: { cluster_name: p, endpoints: [{ lb_endpoints: endpoints }] },
  },
]);
const buildStart = process.hrtime.bigint();
const cm = new ClusterManager(clusters, store);
console.log(
  `cluster manager build (10 clusters incl. ring + 2 maglev tables): ${(Number(process.hrtime.bigint() - buildStart) / 1e6).toFixed(1)} ms`,
);
const keys = requests.map((r) => hashRoute.route.hashKey(r) as number);
for (const p of policies) {
  for (const kind of ['equal', 'weighted'] as const) {
    const c = cm.get(`${p}-${kind}`);
    if (c === undefined) throw new Error('bench setup: missing cluster');
    const ctx = { hashKey: undefined as number | undefined };
    const hashed = p === 'RING_HASH' || p === 'MAGLEV';
    measure(`pick ${p} (${kind}, 16 hosts)`, 2_000_000, (i) => {
      ctx.hashKey = hashed ? keys[i & 1023] : undefined;
      const h = c.chooseHost(ctx);
      if (h !== undefined) sink += h.port;
    });
  }
}

const cs = new ClusterStats(store, 'bench');
const hs = new HttpConnectionManagerStats(store, 'ingress');
measure('per-request stats (8 counters/gauges + 2 histograms)', 2_000_000, (i) => {
  hs.downstream_rq_total.inc();
  hs.downstream_rq_active.inc();
  cs.upstream_rq_total.inc();
  cs.upstream_rq_active.inc();
  cs.recordResponse(i % 50 === 0 ? 503 : 200);
  cs.upstream_rq_time.record(i % 37);
  cs.upstream_rq_active.dec();
  hs.recordResponse(200);
  hs.downstream_rq_time.record(i % 41);
  hs.downstream_rq_active.dec();
});

const c = cm.get('ROUND_ROBIN-weighted');
measure('route + pick + stats (one request)', 2_000_000, (i) => {
  const r = table.route(requests[i & 1023] as RouteRequest);
  const h = c?.chooseHost({});
  cs.upstream_rq_total.inc();
  cs.recordResponse(200);
  if (r.kind === 'cluster' && h !== undefined) sink += h.port;
});
cm.close();
console.log(`(checksum ${sink % 1000})`);
