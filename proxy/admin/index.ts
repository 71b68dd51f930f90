/**
 * Envoy's admin interface over node:http (it is not on the request path, so node:http's cost does
 * not matter here). Endpoints, bodies and status codes follow Envoy's so scripts and dashboards
 * written for Envoy work unchanged: `/ready`, `/server_info`, `/stats` (`filter`, `usedonly`,
 * `type`, `format=json|prometheus`), `/stats/prometheus`, `/clusters` (`format=json`),
 * `/config_dump`, `/listeners` (`format=json`), `/memory`, `/runtime`, `/help`; POST-only
 * `/healthcheck/fail`, `/healthcheck/ok`, `/quitquitquit`, `/drain_listeners`, `/reset_counters`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeshError } from '../../errors/index.js';
import type { Bootstrap, Pipe } from '../config/envoy.js';
import { compileRe2 } from '../router/re2.js';
import { type BoundAddress, boundAddressText, closeServer, listenPipe } from '../server/bind.js';
import {
  formatStatsJson,
  formatStatsPrometheus,
  formatStatsText,
  type StatsFilter,
} from '../stats/format.js';
import { Gauge, type StatsStore } from '../stats/store.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import { HealthFlag } from '../upstream/host.js';

/** What the admin server reads and controls; the engine builds it. */
export interface AdminContext {
  /** The stats store. */
  readonly stats: StatsStore;
  /** The clusters (`ClusterManager` satisfies this). */
  readonly clusters: { all(): readonly UpstreamCluster[] };
  /** The bootstrap the proxy runs (for `/config_dump`, secrets redacted). */
  readonly bootstrap: Bootstrap;
  /** Bound listeners (`pipe`: the Unix socket path of a pipe listener). */
  listeners(): ReadonlyArray<{
    readonly name: string;
    readonly address: string;
    readonly port: number;
    readonly pipe?: string;
  }>;
  /** True while the server is LIVE (false after `/healthcheck/fail` or when draining). */
  isReady(): boolean;
  /**
   * True while the proxy waits for its first configuration (xDS): `/ready` and `/server_info`
   * say INITIALIZING, as Envoy's do. @default - never
   */
  initializing?(): boolean;
  /** `/healthcheck/fail` → false, `/healthcheck/ok` → true. */
  setHealthy(ok: boolean): void;
  /** `/drain_listeners`: stop accepting (optionally inbound only, optionally gracefully). */
  drainListeners(options?: { readonly inboundOnly: boolean; readonly graceful: boolean }): void;
  /** `/quitquitquit`: called after the response is sent. */
  quit(): void;
  /** `/reopen_logs`: reopen every access log file (log rotation). @default - the endpoint answers 501 */
  readonly reopenLogs?: () => Promise<void> | void;
  /** Process start, epoch ms (for uptime). */
  readonly startedAt: number;
  /** Shown in `/server_info`. @default - the crossmesh version */
  readonly version?: string;
  /** Shown in `/server_info` as `command_line_options`. @default - empty */
  readonly commandLineOptions?: Readonly<Record<string, unknown>>;
}

/** A running admin server. */
export interface AdminServer extends BoundAddress {
  /** Bound address (the path on a pipe). */
  readonly address: string;
  /** Bound port (the real one when 0 was asked; 0 on a pipe). */
  readonly port: number;
  /** Stops the server and drops its connections. */
  close(): Promise<void>;
}

const VERSION = 'crossmesh/0.1.0/Clean/RELEASE/BoringSSL';

interface Endpoint {
  readonly help: string;
  readonly post: boolean;
  readonly handle: (ctx: AdminContext, q: URLSearchParams) => Reply;
}

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly after?: () => void;
}

const TEXT = 'text/plain; charset=UTF-8';
const JSON_TYPE = 'application/json';

const text = (body: string, status = 200): Reply => ({ status, type: TEXT, body });
const json = (value: unknown, status = 200): Reply => ({
  status,
  type: JSON_TYPE,
  body: `${JSON.stringify(value, null, 1)}\n`,
});

function state(ctx: AdminContext): 'LIVE' | 'DRAINING' | 'INITIALIZING' {
  if (ctx.isReady()) return 'LIVE';
  return ctx.initializing?.() === true ? 'INITIALIZING' : 'DRAINING';
}

function parseStatsFilter(q: URLSearchParams): StatsFilter | Reply {
  const raw = q.get('filter');
  let filter: RegExp | undefined;
  if (raw !== null && raw !== '') {
    try {
      filter = compileRe2(raw, { path: 'filter', fullMatch: false });
    } catch {
      return text(`Invalid re2 regex\n`, 400);
    }
  }
  const type = q.get('type') ?? 'All';
  if (!['All', 'Counters', 'Gauges', 'Histograms', 'TextReadouts'].includes(type)) {
    return text(`invalid type ${type}; use one of All, Counters, Gauges, Histograms\n`, 400);
  }
  return {
    ...(filter === undefined ? {} : { filter }),
    usedOnly: q.has('usedonly'),
    type: type === 'TextReadouts' ? 'All' : (type as StatsFilter['type'] & string),
  };
}

function isReply(x: StatsFilter | Reply): x is Reply {
  return 'status' in x;
}

function stats(ctx: AdminContext, q: URLSearchParams, forceFormat?: 'prometheus'): Reply {
  const f = parseStatsFilter(q);
  if (isReply(f)) return f;
  const format = forceFormat ?? q.get('format') ?? 'text';
  switch (format) {
    case 'json':
      return json(formatStatsJson(ctx.stats, f));
    case 'prometheus':
      return {
        status: 200,
        type: 'text/plain; version=0.0.4; charset=UTF-8',
        body: formatStatsPrometheus(ctx.stats, f),
      };
    case 'text':
      return text(formatStatsText(ctx.stats, f));
    default:
      return text(`usage: /stats?format=(text|json|prometheus)\n`, 400);
  }
}

function clustersText(ctx: AdminContext): string {
  let out = '';
  for (const c of ctx.clusters.all()) {
    const n = c.name;
    out += `${n}::observability_name::${n}\n`;
    for (const [label, limits] of [
      ['default_priority', c.circuitBreakers.default],
      ['high_priority', c.circuitBreakers.high],
    ] as const) {
      out += `${n}::${label}::max_connections::${limits.maxConnections}\n`;
      out += `${n}::${label}::max_pending_requests::${limits.maxPendingRequests}\n`;
      out += `${n}::${label}::max_requests::${limits.maxRequests}\n`;
      out += `${n}::${label}::max_retries::${limits.maxRetries}\n`;
    }
    out += `${n}::added_via_api::false\n`;
    for (const h of c.hosts) {
      const p = `${n}::${h.toString()}`;
      for (const s of h.stats.all()) out += `${p}::${s.name}::${s.value}\n`;
      out += `${p}::hostname::${h.hostname}\n`;
      out += `${p}::health_flags::${h.healthFlagsText()}\n`;
      out += `${p}::weight::${h.weight}\n`;
      out += `${p}::region::${h.locality.region}\n`;
      out += `${p}::zone::${h.locality.zone}\n`;
      out += `${p}::sub_zone::${h.locality.subZone}\n`;
      out += `${p}::canary::false\n`;
      out += `${p}::priority::${h.priority}\n`;
      out += `${p}::success_rate::${c.outlierDetector?.successRate(h) ?? -1}\n`;
      out += `${p}::local_origin_success_rate::-1\n`;
    }
  }
  return out;
}

function clustersJson(ctx: AdminContext): unknown {
  return {
    cluster_statuses: ctx.clusters.all().map((c) => ({
      name: c.name,
      observability_name: c.name,
      circuit_breakers: {
        thresholds: [
          { ...limitsJson(c.circuitBreakers.default) },
          { priority: 'HIGH', ...limitsJson(c.circuitBreakers.high) },
        ],
      },
      host_statuses: c.hosts.map((h) => {
        const flags = h.healthFlags;
        return {
          address:
            h.pipe === undefined
              ? { socket_address: { address: h.address, port_value: h.port } }
              : { pipe: { path: h.pipe } },
          stats: h.stats.all().map((s) => ({
            name: s.name,
            value: String(s.value),
            ...(s instanceof Gauge ? { type: 'GAUGE' } : {}),
          })),
          health_status: {
            eds_health_status: h.edsHealthStatus(),
            ...((flags & HealthFlag.FAILED_ACTIVE_HC) !== 0 ? { failed_active_health_check: true } : {}),
            ...((flags & HealthFlag.FAILED_OUTLIER_CHECK) !== 0 ? { failed_outlier_check: true } : {}),
            ...((flags & HealthFlag.DEGRADED_ACTIVE_HC) !== 0 ? { failed_active_degraded_check: true } : {}),
            ...((flags & HealthFlag.PENDING_ACTIVE_HC) !== 0 ? { pending_active_hc: true } : {}),
            ...((flags & HealthFlag.ACTIVE_HC_TIMEOUT) !== 0 ? { active_hc_timeout: true } : {}),
          },
          weight: h.weight,
          ...(h.hostname === '' ? {} : { hostname: h.hostname }),
          locality: {
            ...(h.locality.region === '' ? {} : { region: h.locality.region }),
            ...(h.locality.zone === '' ? {} : { zone: h.locality.zone }),
            ...(h.locality.subZone === '' ? {} : { sub_zone: h.locality.subZone }),
          },
          ...(h.priority === 0 ? {} : { priority: h.priority }),
        };
      }),
    })),
  };
}

function limitsJson(l: {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}) {
  return {
    max_connections: l.maxConnections,
    max_pending_requests: l.maxPendingRequests,
    max_requests: l.maxRequests,
    max_retries: l.maxRetries,
  };
}

/** Replaces inline secrets the way Envoy's config dump does, so `/config_dump` never leaks keys. */
function redact(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const secret = key === 'private_key' || key === 'password';
    out[k] = secret && (k === 'inline_string' || k === 'inline_bytes') ? '[redacted]' : redact(v, k);
  }
  return out;
}

const TYPE = 'type.googleapis.com/';

function configDump(ctx: AdminContext, q: URLSearchParams): Reply {
  const now = new Date(ctx.startedAt).toISOString();
  const b = ctx.bootstrap;
  const resources = b.static_resources ?? {};
  const routeConfigs: unknown[] = [];
  for (const l of resources.listeners ?? []) {
    for (const chain of [
      ...(l.filter_chains ?? []),
      ...(l.default_filter_chain === undefined ? [] : [l.default_filter_chain]),
    ]) {
      for (const f of chain.filters ?? []) {
        const rc = (f.typed_config as { route_config?: unknown } | undefined)?.route_config;
        if (rc !== undefined) {
          routeConfigs.push({
            route_config: { '@type': `${TYPE}envoy.config.route.v3.RouteConfiguration`, ...(rc as object) },
            last_updated: now,
          });
        }
      }
    }
  }
  const configs = [
    { '@type': `${TYPE}envoy.admin.v3.BootstrapConfigDump`, bootstrap: b, last_updated: now },
    {
      '@type': `${TYPE}envoy.admin.v3.ClustersConfigDump`,
      static_clusters: (resources.clusters ?? []).map((c) => ({
        cluster: { '@type': `${TYPE}envoy.config.cluster.v3.Cluster`, ...c },
        last_updated: now,
      })),
    },
    {
      '@type': `${TYPE}envoy.admin.v3.ListenersConfigDump`,
      static_listeners: (resources.listeners ?? []).map((l) => ({
        listener: { '@type': `${TYPE}envoy.config.listener.v3.Listener`, ...l },
        last_updated: now,
      })),
    },
    { '@type': `${TYPE}envoy.admin.v3.RoutesConfigDump`, static_route_configs: routeConfigs },
  ];
  const resource = q.get('resource');
  if (resource !== null && resource !== '') {
    const picked = configs.flatMap((c) => {
      const list = (c as Record<string, unknown>)[resource];
      return Array.isArray(list) ? list : [];
    });
    return json(redact({ configs: picked }));
  }
  return json(redact({ configs }));
}

function listeners(ctx: AdminContext, q: URLSearchParams): Reply {
  const list = ctx.listeners();
  if (q.get('format') === 'json') {
    return json({
      listener_statuses: list.map((l) => ({
        name: l.name,
        local_address:
          l.pipe === undefined
            ? { socket_address: { address: l.address, port_value: l.port } }
            : { pipe: { path: l.pipe } },
      })),
    });
  }
  return text(list.map((l) => `${l.name}::${boundAddressText(l)}\n`).join(''));
}

function uptime(ctx: AdminContext): string {
  return `${Math.floor((Date.now() - ctx.startedAt) / 1000)}s`;
}

const ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  '/ready': {
    help: 'print server state, return 200 if LIVE, otherwise return 503',
    post: false,
    handle: (ctx) => (ctx.isReady() ? text('LIVE\n') : text(`${state(ctx)}\n`, 503)),
  },
  '/server_info': {
    help: 'print server version/status information',
    post: false,
    handle: (ctx) =>
      json({
        version: ctx.version ?? VERSION,
        state: state(ctx),
        hot_restart_version: 'disabled',
        command_line_options: ctx.commandLineOptions ?? {},
        node: ctx.bootstrap.node ?? {},
        uptime_current_epoch: uptime(ctx),
        uptime_all_epochs: uptime(ctx),
      }),
  },
  '/stats': { help: 'print server stats', post: false, handle: (ctx, q) => stats(ctx, q) },
  '/stats/prometheus': {
    help: 'print server stats in prometheus format',
    post: false,
    handle: (ctx, q) => stats(ctx, q, 'prometheus'),
  },
  '/clusters': {
    help: 'upstream cluster status',
    post: false,
    handle: (ctx, q) => (q.get('format') === 'json' ? json(clustersJson(ctx)) : text(clustersText(ctx))),
  },
  '/config_dump': { help: 'dump current Envoy configs', post: false, handle: configDump },
  '/listeners': { help: 'print listener info', post: false, handle: listeners },
  '/memory': {
    help: 'print current allocation/heap usage',
    post: false,
    handle: () => {
      const m = process.memoryUsage();
      return json({
        allocated: String(m.heapUsed),
        heap_size: String(m.heapTotal),
        total_physical_bytes: String(m.rss),
        total_thread_cache: '0',
        pageheap_unmapped: '0',
        pageheap_free: '0',
      });
    },
  },
  '/runtime': { help: 'print runtime values', post: false, handle: () => json({ layers: [], entries: {} }) },
  '/help': { help: 'print out list of admin commands', post: false, handle: () => text(helpText()) },
  '/healthcheck/fail': {
    help: 'cause the server to fail health checks',
    post: true,
    handle: (ctx) => {
      ctx.setHealthy(false);
      return text('OK\n');
    },
  },
  '/healthcheck/ok': {
    help: 'cause the server to pass health checks',
    post: true,
    handle: (ctx) => {
      ctx.setHealthy(true);
      return text('OK\n');
    },
  },
  '/quitquitquit': {
    help: 'exit the server',
    post: true,
    handle: (ctx) => ({ ...text('OK\n'), after: () => ctx.quit() }),
  },
  '/drain_listeners': {
    help: 'drain listeners',
    post: true,
    handle: (ctx, q) => {
      ctx.drainListeners({ inboundOnly: q.has('inboundonly'), graceful: q.has('graceful') });
      return text('OK\n');
    },
  },
  '/reopen_logs': {
    help: 'reopen access logs',
    post: true,
    handle: (ctx) => {
      if (ctx.reopenLogs === undefined)
        return text('reopening access logs is not wired in this process\n', 501);
      const reopen = ctx.reopenLogs;
      return { ...text('OK\n'), after: () => void reopen() };
    },
  },
  '/reset_counters': {
    help: 'reset all counters to zero',
    post: true,
    handle: (ctx) => {
      ctx.stats.reset();
      return text('OK\n');
    },
  },
};

function helpText(): string {
  return `admin commands are:\n${Object.entries(ENDPOINTS)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, e]) => `  ${path}: ${e.help}\n`)
    .join('')}`;
}

/** Answers one admin request; never throws (a failing handler becomes a 500). */
function handle(ctx: AdminContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  let reply: Reply;
  try {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname === '/' ? '/help' : url.pathname;
    const endpoint = ENDPOINTS[path];
    const method = req.method ?? 'GET';
    if (endpoint === undefined) {
      reply = text(`invalid path. ${helpText()}`, 404);
    } else if (endpoint.post && method !== 'POST') {
      reply = text(`Method ${method} not allowed, POST required.\n`, 405);
    } else {
      reply = endpoint.handle(ctx, url.searchParams);
    }
  } catch (error) {
    reply = text(`admin handler failed: ${(error as Error).message}\n`, 500);
  }
  res.writeHead(reply.status, {
    'content-type': reply.type,
    'cache-control': 'no-cache, max-age=0',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body, () => reply.after?.());
}

/**
 * Starts the admin server on `address:port` (port 0 picks a free port) or on a Unix socket
 * (`Pipe`, bound as listeners bind one: stale socket removed, `mode` applied).
 * @throws MeshError PROXY_E_LISTEN when the address cannot be bound
 */
export function startAdmin(
  listen: { readonly address: string; readonly port: number } | Pipe,
  ctx: AdminContext,
): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    // Drain any body (POST endpoints take parameters in the query string, like Envoy's).
    req.resume();
    handle(ctx, req, res);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  const close = (): Promise<void> =>
    new Promise((done) => {
      server.closeAllConnections();
      closeServer(server, () => done());
    });
  if ('path' in listen) {
    return listenPipe(server, listen, 'admin.address.pipe', 'admin').then((bound) => ({ ...bound, close }));
  }
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new MeshError(
          'PROXY_E_LISTEN',
          `admin cannot listen on ${listen.address}:${listen.port}: ${error.code ?? error.message}`,
          {
            path: 'admin.address.socket_address',
            value: `${listen.address}:${listen.port}`,
            allowed: 'a free local address and port',
          },
        ),
      );
    });
    // Exclusive: one process serves the admin (the first worker under --concurrency), so its bind
    // must not go through node:cluster's shared handles, where a port-0 bind would also shift the
    // order that pairs the workers' port-0 listener binds.
    server.listen({ port: listen.port, host: listen.address, exclusive: true }, () => {
      const a = server.address() as AddressInfo;
      resolve({ address: a.address, port: a.port, close });
    });
  });
}
