/**
 * A bundled proxy fed by xDS (`dynamic_resources.ads_config`): the xDS client assembles coherent
 * states, each is turned into a static bootstrap (inline.ts), checked by the same strict loader
 * as a hand-written config (with the bundled proxy's supported subset) and compiled, then run.
 *
 * Updates apply in place when the listeners keep their shape (same names, ports, filter chains;
 * only their route configurations or the clusters and endpoints differ): the runtime's route
 * tables and cluster manager are delegates (the `dynamic` seam of proxy/main.ts) that are
 * re-pointed at the newly compiled ones. Nothing is re-bound, no connection is closed, in-flight
 * requests finish on what they were routed with: a weight change under load loses no request.
 *
 * A change to the listeners themselves replaces the runtime: the old one stops accepting and
 * drains (in-flight requests finish, idle keep-alive connections close), the new one binds the
 * same ports right after; a connection attempt inside that window (milliseconds) can be refused.
 * The admin server is the proxy's, not a runtime's: it binds once, before the first state arrives
 * (`/ready` says INITIALIZING until then, as Envoy's does), and keeps its address across runtime
 * replacements, serving whichever runtime is in force.
 */
import { MeshError } from '../../errors/index.js';
import type { AdminContext, AdminServer } from '../admin/index.js';
import type { Bootstrap, Pipe, RouteConfiguration } from '../config/envoy.js';
import {
  type BoundAddress,
  type DynamicHooks,
  type ProxyHandle,
  type ProxyOptions,
  startProxy,
  validateProxyConfig,
} from '../main.js';
import { compileRouteConfiguration, type RouteTable } from '../router/index.js';
import type { ListenerRuntime } from '../server/listener.js';
import { StatsStore } from '../stats/store.js';
import { ClusterManager } from '../upstream/index.js';
import {
  asObject,
  type DynamicBootstrap,
  dynamicParts,
  loadState,
  readDynamicBootstrap,
  resolveServer,
} from './bootstrap.js';
import { type Resource, XdsClient } from './client.js';
import { type BaseBootstrap, staticBootstrap } from './inline.js';

/** A running xDS-fed proxy. */
export interface XdsProxyHandle {
  /** The xDS client (applied state, NACKs sent). */
  readonly client: XdsClient;
  /** The runtime in force. */
  readonly runtime: () => ProxyHandle | undefined;
  /** The admin server's address (fixed for the proxy's life), when the bootstrap has one. */
  readonly admin: () => BoundAddress | undefined;
  /** Number of runtime replacements so far (listener changes). */
  readonly swaps: () => number;
  /** Number of updates applied in place (route and cluster changes). */
  readonly inPlaceUpdates: () => number;
  /** Stops the client and drains the runtime. */
  close(): Promise<void>;
}

/**
 * Starts a proxy from a dynamic bootstrap; resolves once the first state is running.
 * @throws MeshError PROXY_E_INVALID when no runnable state arrives within `readyTimeoutMs`
 *   (the message carries the NACKs the client sent, which name the fields at fault)
 */
export async function startXdsProxy(json: unknown, options: XdsProxyOptions = {}): Promise<XdsProxyHandle> {
  // The loader's warnings go to this proxy's log (see below for why).
  return startDynamicProxy(
    readDynamicBootstrap(json, (warning) => options.log?.(`${warning.code}: ${warning.message}`)),
    options,
  );
}

/** Options of {@link startXdsProxy} and {@link startDynamicProxy}. */
export type XdsProxyOptions = ProxyOptions & {
  /** Diagnostics of the xDS client and the loader (NACKs, reconnects, warnings). @default - none */
  readonly log?: (line: string) => void;
  /**
   * Longest wait for a first state the proxy can run; `Infinity` waits for good, as Envoy does
   * (logging every 10 s), and only a port that cannot be bound ends the wait. @default - 10000 ms
   */
  readonly readyTimeoutMs?: number;
  /** Ends the wait for a first state (start-up then throws; nothing keeps running). @default - none */
  readonly signal?: AbortSignal;
  /**
   * Called with each compiled state that starts a runtime (the first, and every listener change)
   * before its listeners bind; must not reject. `crossmesh proxy --concurrency N` has the primary
   * clear stale socket files at pushed pipe listeners here (stale-pipes.ts). @default - none
   */
  readonly beforeBind?: (bootstrap: Bootstrap) => Promise<void>;
};

/**
 * Starts a proxy from a bootstrap already loaded by the strict loader (`crossmesh proxy -c`), or
 * from its {@link dynamicParts}; resolves once the first state is running.
 * @throws MeshError as {@link startXdsProxy}
 */
export async function startDynamicProxy(
  loaded: Bootstrap | DynamicBootstrap,
  options: XdsProxyOptions = {},
): Promise<XdsProxyHandle> {
  const parts = 'base' in loaded ? loaded : dynamicParts(loaded);
  const { base, node } = parts;
  const server = await resolveServer(parts, options.dnsLookup);
  let runtime: ProxyHandle | undefined;
  let closing = false;
  const admin = await startProxyAdmin(base, () => runtime, {
    quit: () => {
      if (options.onQuit !== undefined) options.onQuit();
      else void handle.close();
    },
    closing: () => closing,
    commandLineOptions: { concurrency: options.concurrency ?? 1, log_level: options.logLevel ?? 'info' },
  });
  let delegates = new Delegates();
  let applied: { key: string; listeners: string; clusters: string; secrets: string } | undefined;
  let swaps = 0;
  let inPlace = 0;
  const draining = new Set<Promise<void>>();
  const retired = new Set<NodeJS.Timeout>();
  const client = new XdsClient({
    server,
    node,
    nodeOnFirstMessageOnly: parts.nodeOnFirstMessageOnly,
    protocol: parts.protocol,
    ...(options.log === undefined ? {} : { log: options.log }),
    apply: async (state) => {
      // Compare without the admin block: only a change in listeners, routes or clusters counts.
      const plain = staticBootstrap({ ...base, admin: undefined }, state);
      const key = JSON.stringify(plain);
      if (key === applied?.key) return;
      const shape = {
        listeners: listenersShape(plain),
        clusters: JSON.stringify(staticResources(plain).clusters ?? []),
        // proxy-mtls: SDS secrets; a rotation alone is applied in place (new connections use it).
        secrets: JSON.stringify(staticResources(plain).secrets ?? []),
      };
      const first = runtime === undefined;
      // The loader's warnings (deprecated fields) go to this proxy's log, once per state, rather
      // than to the process's stderr, which many proxies share under crossmesh up.
      // The runtime runs without the admin block: the proxy's one admin server serves it.
      const { bootstrap } = loadState({ ...base, admin: undefined }, state, (warning) =>
        options.log?.(`${warning.code}: ${warning.message}`),
      );
      // Compile everything before touching the running proxy: a config the runtime refuses is NACKed.
      await validateProxyConfig(bootstrap);
      if (runtime !== undefined && applied !== undefined && shape.listeners === applied.listeners) {
        // Same listeners: swap route tables (and the cluster manager if clusters changed) in place.
        // Connections, pools and in-flight requests are untouched.
        const secretsChanged = shape.secrets !== applied.secrets;
        const old = await delegates.update(
          bootstrap,
          runtime,
          // A rotated secret reaches upstream connections through a new cluster manager (new pools).
          shape.clusters !== applied.clusters || secretsChanged,
          options.dnsLookup,
          secretsChanged,
        );
        if (old !== undefined) {
          // In-flight requests still hold hosts of the old clusters: stop its timers a little later.
          const timer = setTimeout(() => {
            retired.delete(timer);
            old.close();
          }, RETIRE_MS);
          retired.add(timer);
        }
        inPlace += 1;
        applied = { key, ...shape };
        return;
      }
      await options.beforeBind?.(bootstrap);
      const previous = runtime;
      if (previous !== undefined) {
        const done = previous.drain();
        draining.add(done);
        void done.finally(() => draining.delete(done));
      }
      const next = new Delegates();
      runtime = await startProxy(bootstrap, { ...options, dynamic: next.hooks() });
      delegates = next;
      if (!first) swaps += 1;
      applied = { key, ...shape };
    },
  });
  client.start();
  const timeoutMs = options.readyTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  let watch: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    client.ready().then(() => true),
    new Promise<false>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(false), timeoutMs);
      else {
        // Waiting for good (as Envoy waits for its control plane): say so now and then.
        timer = setInterval(() => {
          const rejected = client.nacks.at(-1);
          options.log?.(
            `${node.id}: still waiting for a configuration from ${server}${rejected === undefined ? '' : `; last rejected: ${rejected.type}: ${rejected.message}`}`,
          );
        }, WAITING_LOG_MS);
        timer.unref();
      }
      // Stopped (SIGTERM) while waiting: give up now.
      // (A signal aborted before this point fires no event.)
      if (options.signal?.aborted === true) resolve(false);
      options.signal?.addEventListener('abort', () => resolve(false), { once: true });
      // A port that cannot be bound will not free itself: give up at once rather than at the timeout.
      watch = setInterval(() => {
        if (client.nacks.some((n) => n.message.includes('EADDRINUSE'))) resolve(false);
      }, 50);
    }),
  ]);
  // (clearTimeout clears the interval form too.)
  clearTimeout(timer);
  clearInterval(watch);
  if (!ready) {
    client.close();
    // A state being applied as the wait ended may have started a runtime: stop it too.
    await runtime?.close();
    await admin?.close();
    if (options.signal?.aborted === true) {
      throw new MeshError(
        'PROXY_E_INVALID',
        `${node.id}: stopped before a configuration arrived from ${server}`,
        {
          path: node.id,
        },
      );
    }
    const nacks = client.nacks.map((n) => `${n.type}: ${n.message}`);
    throw new MeshError(
      'PROXY_E_INVALID',
      `${node.id}: no configuration it can run arrived from ${server} within ${timeoutMs} ms${nacks.length === 0 ? '' : `; rejected: ${nacks.join(' | ')}`}`,
      { path: node.id },
    );
  }
  const handle: XdsProxyHandle = {
    client,
    runtime: () => runtime,
    admin: () =>
      admin === undefined
        ? undefined
        : {
            address: admin.address,
            port: admin.port,
            ...(admin.pipe === undefined ? {} : { pipe: admin.pipe }),
          },
    swaps: () => swaps,
    inPlaceUpdates: () => inPlace,
    async close() {
      closing = true;
      client.close();
      for (const timer of retired) clearTimeout(timer);
      await runtime?.drain();
      await Promise.all(draining);
      await admin?.close();
    },
  };
  return handle;
}

/**
 * Binds the bootstrap's admin (if any) for the proxy's life, serving the runtime `current()`
 * returns: before the first one, `/ready` answers 503 INITIALIZING and the stats and clusters are
 * empty; `/config_dump` shows the runtime's configuration with the bootstrap's admin block.
 */
async function startProxyAdmin(
  base: BaseBootstrap,
  current: () => ProxyHandle | undefined,
  own: {
    readonly quit: () => void;
    readonly closing: () => boolean;
    readonly commandLineOptions: Readonly<Record<string, unknown>>;
  },
): Promise<AdminServer | undefined> {
  const address = asObject(base.admin?.address);
  if (address === undefined) return undefined;
  const socket = asObject(address.socket_address);
  const listen =
    socket !== undefined
      ? { address: String(socket.address ?? ''), port: Number(socket.port_value ?? 0) }
      : (address.pipe as Pipe);
  const empty = new StatsStore();
  const startedAt = Date.now();
  const ctx = (): AdminContext | undefined => current()?.adminContext;
  const proxyCtx: AdminContext = {
    get stats() {
      return ctx()?.stats ?? empty;
    },
    clusters: { all: () => ctx()?.clusters.all() ?? [] },
    get bootstrap() {
      const inner = ctx()?.bootstrap;
      return (inner === undefined ? base : { ...inner, admin: base.admin }) as Bootstrap;
    },
    listeners: () => ctx()?.listeners() ?? [],
    isReady: () => !own.closing() && (ctx()?.isReady() ?? false),
    initializing: () => current() === undefined && !own.closing(),
    setHealthy: (ok) => ctx()?.setHealthy(ok),
    drainListeners: (o) => ctx()?.drainListeners(o),
    quit: own.quit,
    get reopenLogs() {
      return ctx()?.reopenLogs;
    },
    startedAt,
    commandLineOptions: own.commandLineOptions,
  };
  const { startAdmin } = await import('../admin/index.js');
  return startAdmin(listen, proxyCtx);
}

/** How often a proxy waiting for good for its first configuration says so. */
const WAITING_LOG_MS = 10_000;

/** How long a replaced cluster manager lives on for requests already routed to its hosts. */
const RETIRE_MS = 30_000;

type Slot<T> = { current: T };

/**
 * A stand-in for `slot.current` that always reads the object the slot holds now: the runtime
 * keeps the delegate, the xDS client changes the slot. Methods are bound to the real object so
 * its private fields work.
 */
function delegate<T extends object>(slot: Slot<T>): T {
  return new Proxy(slot.current, {
    get(_target, key) {
      const value: unknown = Reflect.get(slot.current, key, slot.current);
      return typeof value === 'function' ? value.bind(slot.current) : value;
    },
  });
}

/** The route tables and cluster manager of one runtime, re-pointable. */
class Delegates {
  /** Per route configuration name, a slot for each listener using it (listeners may share one). */
  readonly #routes = new Map<string, Slot<RouteTable>[]>();
  /** Issue 6: per route configuration name, what compiles its per-route filter configs. */
  readonly #perRoute = new Map<string, Array<(rc: RouteConfiguration, path: string) => void>>();
  #clusters: Slot<ClusterManager> | undefined;
  #listeners: readonly ListenerRuntime[] = [];

  hooks(): DynamicHooks {
    return {
      routeTable: (table, name) => {
        const slot = { current: table };
        const slots = this.#routes.get(name) ?? [];
        slots.push(slot);
        this.#routes.set(name, slots);
        return delegate(slot);
      },
      clusterManager: (clusters) => {
        this.#clusters = { current: clusters };
        return delegate(this.#clusters);
      },
      listeners: (runtimes) => {
        this.#listeners = runtimes;
      },
      perRouteFilters: (name, precompile) => {
        const list = this.#perRoute.get(name) ?? [];
        list.push(precompile);
        this.#perRoute.set(name, list);
      },
    };
  }

  /**
   * Points every route table (and, when `clustersChanged`, the cluster manager) at what `bootstrap`
   * compiles to. Everything is compiled first, so a failure changes nothing. Returns the replaced
   * cluster manager, for the caller to close once in-flight requests are done with it.
   */
  async update(
    bootstrap: Bootstrap,
    runtime: ProxyHandle,
    clustersChanged: boolean,
    lookup: ProxyOptions['dnsLookup'],
    secretsChanged = false,
  ): Promise<ClusterManager | undefined> {
    const tables = new Map<string, RouteTable>();
    (bootstrap.static_resources?.listeners ?? []).forEach((l, li) => {
      (l.filter_chains ?? []).forEach((chain, ci) => {
        (chain.filters ?? []).forEach((f, fi) => {
          const config = f.typed_config as { route_config?: RouteConfiguration } | undefined;
          const rc = config?.route_config;
          if (rc === undefined) return;
          const path = `static_resources.listeners[${li}].filter_chains[${ci}].filters[${fi}].typed_config.route_config`;
          tables.set(rc.name ?? path, compileRouteConfiguration(rc, { path }));
          // Issue 6: the per-route filter configs are compiled now, for the filters that will serve
          // them, so nothing is compiled on a request (validateProxyConfig has checked them).
          for (const precompile of this.#perRoute.get(rc.name ?? path) ?? []) precompile(rc, path);
        });
      });
    });
    let replaced: ClusterManager | undefined;
    if (clustersChanged && this.#clusters !== undefined) {
      const next = new ClusterManager(
        bootstrap.static_resources?.clusters ?? [],
        runtime.stats,
        lookup === undefined ? {} : { lookup },
      );
      await next.ready();
      replaced = this.#clusters.current;
      this.#clusters.current = next;
    }
    for (const [name, table] of tables) {
      for (const slot of this.#routes.get(name) ?? []) slot.current = table;
    }
    if (secretsChanged) {
      // proxy-mtls: downstream TLS contexts take the rotated certificates for new connections.
      for (const config of bootstrap.static_resources?.listeners ?? []) {
        this.#listeners.find((l) => l.name === config.name)?.updateTls(config);
      }
    }
    return replaced;
  }
}

/** Listeners with their inline route configurations reduced to names: equal shapes update in place. */
function listenersShape(bootstrap: Resource): string {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'route_config' ? (v as Resource).name : strip(v);
    }
    return out;
  };
  return JSON.stringify(strip(staticResources(bootstrap).listeners ?? []));
}

function staticResources(bootstrap: Resource): {
  listeners?: unknown[];
  clusters?: unknown[];
  secrets?: unknown[];
} {
  return (bootstrap.static_resources ?? {}) as {
    listeners?: unknown[];
    clusters?: unknown[];
    secrets?: unknown[];
  };
}
