/**
 * Starting the bundled proxy from a loaded Envoy `Bootstrap`: clusters first (so routes can name
 * them), then every listener compiled (any config error stops start-up before a port is bound:
 * nothing half-applied), then every listener bound, then the admin server.
 *
 * The handle reports the real bound port of each listener (port 0 in the config means ephemeral,
 * which tests rely on), drains gracefully and closes everything.
 */
import { MeshError } from '../errors/index.js';
import type { AdminContext } from './admin/index.js';
import type { Bootstrap, RouteConfiguration } from './config/envoy.js';
// proxy-mtls: the filter list with RBAC (proxy/filters/rbac-chain.ts delegates the rest to filters/index.ts).
import { precompilePerRouteConfigs } from './filters/index.js';
import { compileHttpFiltersWithRbac } from './filters/rbac-chain.js';
import { setInternalErrorReporter } from './http/guard.js';
import { compileRouteConfiguration, type RouteTable } from './router/index.js';
import { type BoundAddress, boundAddressText } from './server/bind.js';
import type { EngineClusterManager } from './server/contracts.js';
import { ListenerRuntime } from './server/listener.js';
import { type LogLevel, ProxyLog } from './server/log.js';
import { PoolRegistry } from './server/pools.js';
import { Sweeper } from './server/sweeper.js';
import { ServerStats } from './stats/scopes.js';
import { StatsStore } from './stats/store.js';
import { ClusterManager, type LookupFn } from './upstream/index.js';

/** Options for {@link startProxy}. */
export interface ProxyOptions {
  /** Diagnostic log level. @default - `info` */
  readonly logLevel?: LogLevel;
  /** Where diagnostic lines go. @default - stderr */
  readonly logWrite?: (line: string) => void;
  /** Longest a drain waits for in-flight requests before closing them. @default - 5000 ms */
  readonly drainTimeoutMs?: number;
  /** Worker count reported as `server.concurrency`. @default - 1 */
  readonly concurrency?: number;
  /** Called when the admin asks to quit (`POST /quitquitquit`). @default - close the proxy */
  readonly onQuit?: () => void;
  /**
   * Resolves STRICT_DNS / LOGICAL_DNS hostnames. @default - the operating system's resolver
   * (tests map the hostnames of real configs to loopback with it)
   */
  readonly dnsLookup?: LookupFn;
  /**
   * Issue 7 seam, used only by the xDS client (proxy/xds/dynamic.ts): wraps each compiled route
   * table and the cluster manager in delegates that the client re-points when a new RDS/CDS/EDS
   * state arrives, so those updates apply in place, without re-binding listeners or closing
   * connections. @default - no wrapping (static configuration)
   */
  readonly dynamic?: DynamicHooks;
  /**
   * The store the admin interface shows, given the proxy's own (`--concurrency` passes a store
   * merged across workers). @default - the proxy's own store
   */
  readonly adminStats?: (local: StatsStore) => StatsStore;
}

/** See {@link ProxyOptions.dynamic}. */
export interface DynamicHooks {
  /** Wraps the table compiled for the route configuration called `name`. */
  readonly routeTable: (table: RouteTable, name: string) => RouteTable;
  /** Wraps the cluster manager. */
  readonly clusterManager: (clusters: ClusterManager) => ClusterManager;
  /** proxy-mtls: receives the listener runtimes, to apply rotated SDS secrets in place. @default - none */
  readonly listeners?: (runtimes: readonly ListenerRuntime[]) => void;
  /**
   * Issue 6: receives, per route configuration name, the function that compiles a new version's
   * per-route filter configs for the HTTP filters that serve it (called before an update is
   * applied; it throws MeshError naming the field at fault). @default - none
   */
  readonly perRouteFilters?: (
    name: string,
    precompile: (rc: RouteConfiguration, path: string) => void,
  ) => void;
}

/** A bound address: `address:port`, or a listener's or the admin's Unix socket (`pipe`). */
export type { BoundAddress } from './server/bind.js';

/** A running proxy. */
export interface ProxyHandle {
  /** Bound address of each listener, by listener name. */
  readonly listeners: ReadonlyMap<string, BoundAddress>;
  /** The admin server's address, when the bootstrap configures one. */
  readonly admin: BoundAddress | undefined;
  /** The stats store (what `/stats` shows). */
  readonly stats: StatsStore;
  /**
   * What the admin interface serves (built with or without an admin block): an xDS-fed proxy keeps
   * one admin server across runtimes and points it at the runtime in force.
   */
  readonly adminContext: AdminContext;
  /** Stops accepting, lets in-flight requests finish (up to the drain timeout), then closes. */
  drain(): Promise<void>;
  /** Closes every listener, connection, pool and the admin server now. */
  close(): Promise<void>;
}

interface Runtime {
  readonly store: StatsStore;
  readonly serverStats: ServerStats;
  readonly clusters: ClusterManager;
  readonly pools: PoolRegistry;
  readonly sweeper: Sweeper;
  readonly listeners: readonly ListenerRuntime[];
}

/** Compiles clusters and listeners (no socket is bound); throws MeshError on any config problem. */
type AccessLogModule = typeof import('./accesslog/index.js');

/** True when any listener or connection manager configures an access log. */
function usesAccessLogs(bootstrap: Bootstrap): boolean {
  return (bootstrap.static_resources?.listeners ?? []).some(
    (l) =>
      (l.access_log?.length ?? 0) > 0 ||
      [
        ...(l.filter_chains ?? []),
        ...(l.default_filter_chain === undefined ? [] : [l.default_filter_chain]),
      ].some((c) =>
        (c.filters ?? []).some((f) => {
          const logs = (f.typed_config as { access_log?: readonly unknown[] } | undefined)?.access_log;
          return logs !== undefined && logs.length > 0;
        }),
      ),
  );
}

/**
 * The access-log module is loaded only when a config has access logs: a proxy without them does
 * not pay for the formatter at start-up.
 */
async function accessLogModule(bootstrap: Bootstrap): Promise<AccessLogModule | undefined> {
  return usesAccessLogs(bootstrap) ? import('./accesslog/index.js') : undefined;
}

function build(
  bootstrap: Bootstrap,
  concurrency: number,
  logs: AccessLogModule | undefined,
  lookup?: LookupFn,
  dynamic?: DynamicHooks,
  log?: ProxyLog,
): Runtime {
  const store = new StatsStore();
  const serverStats = new ServerStats(store, Date.now());
  serverStats.setState('INITIALIZING');
  serverStats.concurrency.set(concurrency);
  const resources = bootstrap.static_resources ?? {};
  const built = new ClusterManager(resources.clusters ?? [], store, lookup === undefined ? {} : { lookup });
  // Issue 7 seam (see ProxyOptions.dynamic): the xDS client re-points this delegate on CDS/EDS.
  const clusters = dynamic === undefined ? built : dynamic.clusterManager(built);
  const engineClusters: EngineClusterManager = clusters;
  const pools = new PoolRegistry(log);
  const sweeper = new Sweeper();
  const listeners: ListenerRuntime[] = [];
  try {
    (resources.listeners ?? []).forEach((config, i) => {
      listeners.push(
        new ListenerRuntime(
          config,
          {
            store,
            clusters: engineClusters,
            pools,
            sweeper,
            compileRoutes: (rc, path) => {
              const table = compileRouteConfiguration(rc, { path });
              // Issue 7 seam (see ProxyOptions.dynamic): the xDS client re-points this delegate on RDS.
              return dynamic === undefined ? table : dynamic.routeTable(table, rc.name ?? path);
            },
            compileAccessLog: (configs, path) => logs?.compileAccessLog(configs, { path }),
            // Issue 6: local_ratelimit and fault run before the router; proxy-mtls: RBAC too.
            compileHttpFilters: (configs, path, statPrefix, routeConfig) => {
              const filters = compileHttpFiltersWithRbac(configs, path, store, {
                statPrefix,
                // Issue 6: the source_cluster rate limit action's value.
                localCluster: bootstrap.node?.cluster ?? '',
                ...(routeConfig === undefined ? {} : { routeConfig }),
              });
              // Issue 6: RDS updates compile their per-route filter configs before they apply.
              if (routeConfig !== undefined) {
                dynamic?.perRouteFilters?.(routeConfig.config.name ?? routeConfig.path, (rc, p) =>
                  precompilePerRouteConfigs(filters, rc, p),
                );
              }
              return filters;
            },
          },
          `static_resources.listeners[${i}]`,
        ),
      );
    });
    const names = new Set<string>();
    for (const [i, l] of listeners.entries()) {
      if (names.has(l.name)) {
        throw new MeshError(
          'PROXY_E_INVALID',
          `static_resources.listeners[${i}].name: duplicate listener name ${l.name}`,
          {
            path: `static_resources.listeners[${i}].name`,
            value: l.name,
            allowed: 'a name no other listener uses',
          },
        );
      }
      names.add(l.name);
    }
  } catch (error) {
    clusters.close();
    sweeper.close();
    throw error;
  }
  dynamic?.listeners?.(listeners);
  return { store, serverStats, clusters, pools, sweeper, listeners };
}

/**
 * Envoy's `--mode validate`: compiles every cluster, route table, TLS context and listener
 * without binding a port. Throws MeshError naming the field at fault.
 */
export async function validateProxyConfig(bootstrap: Bootstrap): Promise<void> {
  const rt = build(bootstrap, 1, await accessLogModule(bootstrap));
  for (const l of rt.listeners) void l.close();
  rt.clusters.close();
  rt.sweeper.close();
}

/** Starts a proxy from a validated bootstrap (see `proxy/config`). */
export async function startProxy(bootstrap: Bootstrap, options: ProxyOptions = {}): Promise<ProxyHandle> {
  const log = new ProxyLog(options.logLevel ?? 'info', options.logWrite);
  setInternalErrorReporter((where, error) =>
    log.log(
      'error',
      'main',
      `internal error in ${where} (connection closed): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    ),
  );
  const { store, serverStats, clusters, pools, sweeper, listeners } = build(
    bootstrap,
    options.concurrency ?? 1,
    await accessLogModule(bootstrap),
    options.dnsLookup,
    options.dynamic,
    log,
  );
  const startedAt = Date.now();
  const bound = new Map<string, BoundAddress>();
  try {
    // Envoy warms clusters (first DNS resolution) before its listeners take traffic.
    await clusters.ready();
    for (const l of listeners) {
      const addr = await l.listen();
      bound.set(l.name, addr);
      log.log('info', 'config', `listener ${l.name} on ${boundAddressText(addr)}`);
    }
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close()));
    clusters.close();
    sweeper.close();
    throw error;
  }

  let closed = false;
  let healthy = true;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all(listeners.map((l) => l.close()));
    await admin?.close();
    pools.close();
    clusters.close();
    sweeper.close();
  };
  const drain = async (): Promise<void> => {
    serverStats.setState('DRAINING');
    for (const l of listeners) l.drain();
    pools.drain();
    const deadline = Date.now() + (options.drainTimeoutMs ?? 5000);
    while (Date.now() < deadline && listeners.some((l) => l.openConnections > 0)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await close();
  };

  const ctx: AdminContext = {
    stats: options.adminStats === undefined ? store : options.adminStats(store),
    clusters,
    bootstrap,
    listeners: () => [...bound.entries()].map(([name, a]) => ({ name, ...a })),
    isReady: () => healthy && !closed,
    setHealthy: (ok: boolean) => {
      healthy = ok;
    },
    drainListeners: () => {
      for (const l of listeners) l.drain();
    },
    quit: () => {
      if (options.onQuit !== undefined) options.onQuit();
      else void close();
    },
    startedAt,
    commandLineOptions: { concurrency: options.concurrency ?? 1, log_level: options.logLevel ?? 'info' },
  };
  let admin: (BoundAddress & { close(): Promise<void> }) | undefined;
  const adminAddress = bootstrap.admin?.address?.socket_address;
  const adminPipe = bootstrap.admin?.address?.pipe;
  if (adminAddress !== undefined || adminPipe !== undefined) {
    try {
      const { startAdmin } = await import('./admin/index.js');
      admin = await startAdmin(
        adminPipe ?? { address: adminAddress?.address ?? '', port: adminAddress?.port_value ?? 0 },
        ctx,
      );
    } catch (error) {
      await close();
      throw error;
    }
  }
  serverStats.setState('LIVE');
  return {
    listeners: bound,
    admin:
      admin === undefined
        ? undefined
        : {
            address: admin.address,
            port: admin.port,
            ...(admin.pipe === undefined ? {} : { pipe: admin.pipe }),
          },
    stats: store,
    adminContext: ctx,
    drain,
    close,
  };
}
