/**
 * `crossmesh proxy`: runs the bundled Envoy-compatible proxy from an Envoy v3 bootstrap, with
 * Envoy's own flags (`-c`, `--config-yaml`, `--mode validate`, `--log-level`, `--concurrency`).
 *
 * With `--concurrency N` (N > 1) the process becomes a `node:cluster` primary and forks N workers
 * that share the listening sockets (Node 20 has no `reusePort`). Only the first worker serves the
 * admin interface, with every worker's stats merged into its `/stats` (documented in the help
 * text). The primary also owns the local rate limit buckets the workers share, as Envoy's workers
 * share one (proxy/filters/bucket-lease.ts): workers lease tokens over IPC. A bootstrap with
 * `dynamic_resources` runs the same way, each worker with its own xDS client (see serveDynamic).
 */
import cluster from 'node:cluster';
import { EXIT } from '../../errors/entry.js';
import { MeshError } from '../../errors/index.js';
import type { Bootstrap } from '../../proxy/config/envoy.js';
import {
  BucketOwner,
  type GrantMessage,
  isLeaseMessage,
  LEASE_GRANT,
  type LeaseChannel,
} from '../../proxy/filters/bucket-lease.js';
import { loadBootstrapIsolated } from '../../proxy/server/isolated-load.js';
import { parseLogLevel } from '../../proxy/server/log.js';
import {
  mergeInto,
  SNAPSHOT_MESSAGE,
  type StatsSnapshot,
  snapshot,
} from '../../proxy/server/worker-stats.js';
import { StatsStore } from '../../proxy/stats/store.js';
import {
  isStalePipesDone,
  isStalePipesRequest,
  listenerPipePaths,
  STALE_PIPES,
  StalePipeJanitor,
} from '../../proxy/xds/stale-pipes.js';
import type { Command, CommandIO } from '../command.js';

const HELP = `Usage: crossmesh proxy -c <envoy.yaml> [options]

Runs the bundled Envoy-compatible proxy (HTTP/1.1, HTTP/2, gRPC, TLS, WebSocket, tcp_proxy) from
an Envoy v3 bootstrap in YAML or JSON. Unsupported fields stop start-up with the field named; see
docs/proxy-compatibility.md.

Options:
  -c, --config-path <file>   Envoy bootstrap (.yaml, .yml or .json)
  --config-yaml <yaml>       YAML merged over -c (protobuf MergeFrom: lists appended), as Envoy does
  --mode <serve|validate>    validate: check the configuration and exit (0 valid, 5 rejected)
  -l, --log-level <level>    trace, debug, info, warning, error, critical, off (default info)
  --concurrency <N>          worker processes sharing the listeners (default 1). With N > 1 the
                             first worker serves the admin interface; /stats sums every worker's
                             stats, refreshed once a second (/reset_counters resets that view only).
                             Local rate limit buckets are shared: workers lease tokens from the
                             primary, so N workers admit the configured rate, not N times it.
                             With dynamic_resources each worker runs its own xDS client on its
                             own ADS stream with the same node (the control plane sees N
                             streams): each worker ACKs or NACKs what it compiles, keeps its last
                             good configuration, and may run a new one a few milliseconds before
                             or after its siblings.
  --drain-time-s <seconds>   how long SIGTERM waits for in-flight requests (default 5)

A bootstrap with dynamic_resources (ADS: lds_config and cds_config \`ads: {}\`, ads_config naming
a static HTTP/2 cluster) takes its listeners, routes, clusters, endpoints and secrets from that
control plane, starts once a first complete configuration arrives (waiting for the control plane
as long as it takes, with a line every 10 s), applies updates live and NACKs what it cannot run
(the last good configuration keeps serving).

Signals: SIGTERM and SIGINT drain (stop accepting, finish in-flight requests, close idle
keep-alive connections) and exit 0.

Exit codes: 0 ok, 2 usage, 5 configuration rejected (PROXY_E_*), 70 internal error.
`;

interface ProxyArgs {
  configPath: string | undefined;
  configYaml: string | undefined;
  mode: 'serve' | 'validate';
  logLevel: ReturnType<typeof parseLogLevel> & string;
  concurrency: number;
  drainTimeS: number;
}

function usage(message: string): MeshError {
  return new MeshError('CLI_E_USAGE', message);
}

function parseArgs(argv: readonly string[]): ProxyArgs {
  const out: ProxyArgs = {
    configPath: undefined,
    configYaml: undefined,
    mode: 'serve',
    logLevel: 'info',
    concurrency: 1,
    drainTimeS: 5,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-c':
      case '--config-path':
        out.configPath = value();
        break;
      case '--config-yaml':
        out.configYaml = value();
        break;
      case '--mode': {
        const m = value();
        if (m !== 'serve' && m !== 'validate')
          throw usage(`--mode must be serve or validate, got ${JSON.stringify(m)}`);
        out.mode = m;
        break;
      }
      case '-l':
      case '--log-level': {
        const v = value();
        const level = parseLogLevel(v);
        if (level === undefined) {
          throw usage(
            `--log-level must be one of trace, debug, info, warning, error, critical, off; got ${JSON.stringify(v)}`,
          );
        }
        out.logLevel = level;
        break;
      }
      case '--concurrency': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 256)
          throw usage(`--concurrency must be an integer from 1 to 256, got ${JSON.stringify(v)}`);
        out.concurrency = n;
        break;
      }
      case '--drain-time-s': {
        const v = value();
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0)
          throw usage(`--drain-time-s must be a non-negative number, got ${JSON.stringify(v)}`);
        out.drainTimeS = n;
        break;
      }
      default:
        throw usage(`unknown option ${JSON.stringify(arg)} (see crossmesh proxy --help)`);
    }
  }
  if (out.configPath === undefined && out.configYaml === undefined)
    throw usage('give a configuration with -c <file> or --config-yaml');
  return out;
}

/** Loads the configuration in a worker thread (see proxy/server/isolated-load.ts for why). */
function load(args: ProxyArgs): Promise<Bootstrap> {
  return loadBootstrapIsolated({ path: args.configPath, configYaml: args.configYaml });
}

/** Strips the admin server from a bootstrap (every worker but the first). */
function withoutAdmin(b: Bootstrap): Bootstrap {
  const { admin: _admin, ...rest } = b;
  return rest;
}

/** A worker's IPC channel to the primary, for leasing rate limit tokens. */
function leaseChannel(): LeaseChannel {
  return {
    send: (m) => process.send?.(m) ?? false,
    onGrant: (handler) => {
      process.on('message', (m: unknown) => {
        if (isLeaseMessage(m) && m.type === LEASE_GRANT) handler(m as GrantMessage);
      });
    },
  };
}

/** Longest a worker waits for the primary to clear stale socket files before binding anyway. */
const STALE_PIPES_WAIT_MS = 5000;

/** What the primary sends a worker to make it drain and leave. */
const DRAIN_MESSAGE = 'crossmesh:drain';

/**
 * A worker's record of the primary's drain request. The worker listens for it from the start
 * (see {@link listenForDrain}): a SIGTERM that reaches the primary while a worker still loads its
 * configuration or waits for its control plane would otherwise be lost (an IPC message nobody
 * listens for is dropped) and leave that worker, and so the proxy, running for good.
 */
const drainRequest = { requested: false, handlers: new Set<() => void>() };

/** Starts recording the primary's drain request (workers, first thing). */
function listenForDrain(): void {
  process.on('message', (m: unknown) => {
    if (m !== DRAIN_MESSAGE) return;
    drainRequest.requested = true;
    for (const handler of drainRequest.handlers) handler();
  });
}

/** Calls `handler` when the primary asks to drain (at once if it already has); returns the undo. */
function onDrain(handler: () => void): () => void {
  drainRequest.handlers.add(handler);
  if (drainRequest.requested) queueMicrotask(handler);
  return () => drainRequest.handlers.delete(handler);
}

/** Issue 6: a worker's local rate limit buckets live in the primary (set before any filter compiles). */
async function shareBuckets(args: ProxyArgs): Promise<void> {
  const [{ sharedBuckets }, { leasedBuckets }] = await Promise.all([
    import('../../proxy/filters/local-ratelimit.js'),
    import('../../proxy/filters/bucket-lease.js'),
  ]);
  sharedBuckets(leasedBuckets(leaseChannel(), args.concurrency));
}

async function serve(args: ProxyArgs, bootstrap: Bootstrap, io: CommandIO): Promise<number> {
  if (cluster.isWorker && args.concurrency > 1) await shareBuckets(args);
  const { startProxy } = await import('../../proxy/main.js');
  const first = !cluster.isWorker || process.env.CROSSMESH_WORKER_INDEX === '0';
  let exit: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    exit = resolve;
  });
  const workerIndex = process.env.CROSSMESH_WORKER_INDEX;
  const remotes = new Map<string, StatsSnapshot>();
  const timers: NodeJS.Timeout[] = [];
  // A worker that cannot start (a port in use) must leave: its IPC channel would keep it alive.
  const handle = await startProxy(first ? bootstrap : withoutAdmin(bootstrap), {
    ...(cluster.isWorker && first
      ? {
          // The admin worker shows every worker's stats, merged once a second.
          adminStats: (local: StatsStore) => {
            const merged = new StatsStore();
            const merge = () => mergeInto(merged, local, remotes.values());
            merge();
            const t = setInterval(merge, 1000);
            t.unref();
            timers.push(t);
            return merged;
          },
        }
      : {}),
    logLevel: args.logLevel,
    logWrite: (line) => io.stderr.write(line),
    drainTimeoutMs: args.drainTimeS * 1000,
    concurrency: args.concurrency,
    onQuit: () => {
      void handle.close().then(() => exit(EXIT.ok));
    },
  }).catch((error: unknown) => {
    if (cluster.isWorker) cluster.worker?.disconnect();
    throw error;
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void handle.drain().then(() => exit(EXIT.ok));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (cluster.isWorker) {
    onDrain(stop);
    process.on('message', (m: unknown) => {
      if (isSnapshotMessage(m)) remotes.set(m.index, m.snapshot);
    });
    if (!first) {
      const t = setInterval(
        () =>
          process.send?.({ type: SNAPSHOT_MESSAGE, index: workerIndex, snapshot: snapshot(handle.stats) }),
        1000,
      );
      t.unref();
      timers.push(t);
    }
  }
  if (first && args.logLevel !== 'off') {
    const parts = [...handle.listeners].map(([n, a]) => `${n}=${a.address}:${a.port}`);
    if (handle.admin !== undefined) parts.push(`admin=${handle.admin.address}:${handle.admin.port}`);
    io.stderr.write(`crossmesh proxy: listening ${parts.join(' ')}\n`);
  }
  const code = await done;
  for (const t of timers) clearInterval(t);
  process.removeListener('SIGTERM', stop);
  process.removeListener('SIGINT', stop);
  // A worker's IPC channel would keep it alive after the proxy closed.
  if (cluster.isWorker) cluster.worker?.disconnect();
  return code;
}

/**
 * proxy-dynamic (issue 7): serves a bootstrap with `dynamic_resources` (proxy/xds/dynamic.ts):
 * connects to the control plane, starts once a first complete state arrives, applies updates
 * live, NACKs what it cannot run. SIGTERM/SIGINT drain as in {@link serve}.
 *
 * Under `--concurrency N` this runs in each of the N workers: every worker has its own xDS client
 * on its own ADS stream with the same node (design (a) of the concurrency work; see the help
 * text). Each worker compiles every state it receives anyway, so each one decides its own ACK or
 * NACK from the same input with the same code, and a worker never runs a state it could not
 * compile; no resource has to cross IPC and no verdicts have to be gathered. The control plane
 * sees N streams for the node (ours and Envoy-style ones accept that). Worker 0 serves the admin
 * with every worker's stats merged and prints the `listening` line, as for static bootstraps.
 */
async function serveDynamic(args: ProxyArgs, bootstrap: Bootstrap, io: CommandIO): Promise<number> {
  const worker = cluster.isWorker && args.concurrency > 1;
  if (worker) await shareBuckets(args);
  const { startDynamicProxy } = await import('../../proxy/xds/dynamic.js');
  const first = !worker || process.env.CROSSMESH_WORKER_INDEX === '0';
  let exit: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    exit = resolve;
  });
  const write = (line: string) => io.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
  // SIGTERM/SIGINT (or the primary's drain) while still waiting for the control plane: stop
  // waiting and exit 0, as Envoy. Once running, the same signals drain.
  const waiting = new AbortController();
  let stop: () => void = () => waiting.abort();
  const onStop = () => stop();
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  const remotes = new Map<string, StatsSnapshot>();
  const cleared = new Map<number, () => void>();
  const offDrain = worker ? onDrain(onStop) : () => undefined;
  const onMessage = (m: unknown) => {
    if (isSnapshotMessage(m)) remotes.set(m.index, m.snapshot);
    else if (isStalePipesDone(m)) cleared.get(m.id)?.();
  };
  let nextRequest = 0;
  // Pushed pipe listeners: the primary clears stale socket files first (proxy/xds/stale-pipes.ts).
  const beforeBind = (next: Bootstrap): Promise<void> => {
    const paths = listenerPipePaths(next);
    if (paths.length === 0) return Promise.resolve();
    const id = nextRequest++;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        cleared.delete(id);
        resolve();
      };
      // Never hold a state back for good: without an answer the bind goes ahead (and reports).
      const timer = setTimeout(done, STALE_PIPES_WAIT_MS);
      cleared.set(id, done);
      if (process.send?.({ type: STALE_PIPES, id, paths }) !== true) done();
    });
  };
  if (worker) process.on('message', onMessage);
  const timers: NodeJS.Timeout[] = [];
  let merging: NodeJS.Timeout | undefined;
  const cleanUp = () => {
    for (const t of timers) clearInterval(t);
    clearInterval(merging);
    process.removeListener('SIGTERM', onStop);
    process.removeListener('SIGINT', onStop);
    process.removeListener('message', onMessage);
    offDrain();
    // A worker's IPC channel would keep it alive after the proxy closed.
    if (worker) cluster.worker?.disconnect();
  };
  const starting = startDynamicProxy(first ? bootstrap : withoutAdmin(bootstrap), {
    ...(worker && first
      ? {
          // The admin worker shows every worker's stats, merged once a second. A listener change
          // starts a new runtime (a new local store): the merge follows it.
          adminStats: (local: StatsStore) => {
            const merged = new StatsStore();
            const merge = () => mergeInto(merged, local, remotes.values());
            merge();
            clearInterval(merging);
            merging = setInterval(merge, 1000);
            merging.unref();
            return merged;
          },
        }
      : {}),
    logLevel: args.logLevel,
    logWrite: write,
    ...(args.logLevel === 'off' ? {} : { log: write }),
    drainTimeoutMs: args.drainTimeS * 1000,
    concurrency: args.concurrency,
    ...(worker ? { beforeBind } : {}),
    // As Envoy, wait for the control plane for good (the proxy may start first); a line every 10 s.
    readyTimeoutMs: Number.POSITIVE_INFINITY,
    signal: waiting.signal,
    onQuit: () => {
      void handle.close().then(() => exit(EXIT.ok));
    },
  });
  let handle: Awaited<typeof starting>;
  try {
    handle = await starting;
  } catch (error) {
    cleanUp();
    if (waiting.signal.aborted) return EXIT.ok;
    throw error;
  }
  let stopping = false;
  stop = () => {
    if (stopping) return;
    stopping = true;
    void handle.close().then(() => exit(EXIT.ok));
  };
  // A stop that arrived as the first state was being applied.
  if (waiting.signal.aborted) stop();
  if (worker && !first) {
    const index = process.env.CROSSMESH_WORKER_INDEX ?? '';
    const t = setInterval(() => {
      const stats = handle.runtime()?.stats;
      if (stats !== undefined) process.send?.({ type: SNAPSHOT_MESSAGE, index, snapshot: snapshot(stats) });
    }, 1000);
    t.unref();
    timers.push(t);
  }
  if (first && args.logLevel !== 'off') {
    const runtime = handle.runtime();
    const parts = [...(runtime?.listeners ?? [])].map(([n, a]) => `${n}=${a.address}:${a.port}`);
    const admin = handle.admin();
    if (admin !== undefined) parts.push(`admin=${admin.address}:${admin.port}`);
    io.stderr.write(`crossmesh proxy: configured by xDS; listening ${parts.join(' ')}\n`);
  }
  const code = await done;
  cleanUp();
  return code;
}

interface SnapshotMessage {
  readonly type: typeof SNAPSHOT_MESSAGE;
  readonly index: string;
  readonly snapshot: StatsSnapshot;
}

function isSnapshotMessage(m: unknown): m is SnapshotMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === SNAPSHOT_MESSAGE;
}

async function primary(args: ProxyArgs, io: CommandIO): Promise<number> {
  const workers = new Set<import('node:cluster').Worker>();
  let adminWorker: import('node:cluster').Worker | undefined;
  // Issue 6: the local rate limit buckets every worker shares (workers lease tokens from them).
  const buckets = new BucketOwner();
  // Stale socket files at the pipes of xDS-pushed listeners, cleared when a worker asks.
  const janitor = new StalePipeJanitor();
  for (let i = 0; i < args.concurrency; i++) {
    const w = cluster.fork({ CROSSMESH_WORKER_INDEX: String(i) });
    if (i === 0) adminWorker = w;
    // Stats snapshots go to the worker that serves the admin interface.
    w.on('message', (m: unknown) => {
      if (isSnapshotMessage(m) && adminWorker?.isConnected()) adminWorker.send(m);
      else if (isLeaseMessage(m)) {
        const reply = buckets.handle(m);
        if (reply !== undefined && w.isConnected()) w.send(reply);
      } else if (isStalePipesRequest(m)) {
        janitor.handle(m, (done) => {
          if (w.isConnected()) w.send(done);
        });
      }
    });
    workers.add(w);
  }
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const w of workers) if (w.isConnected()) w.send(DRAIN_MESSAGE);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return new Promise((resolve) => {
    // The first failing worker's exit code is the proxy's (5 for a listener that cannot bind).
    let failure: number | undefined;
    cluster.on('exit', (worker, code) => {
      workers.delete(worker);
      if (code !== 0 && failure === undefined) {
        failure = code ?? EXIT.internal;
        if (!stopping) {
          io.stderr.write(`crossmesh proxy: worker ${worker.process.pid} exited with ${code}; stopping\n`);
          stop();
        }
      }
      // A worker leaves with 0 unasked only through the admin's POST /quitquitquit (served by
      // worker 0): like Envoy, the whole proxy quits, so the other workers drain too.
      if (!stopping) stop();
      if (workers.size === 0) resolve(failure ?? EXIT.ok);
    });
  });
}

/** The `proxy` command. */
export const command: Command = {
  summary: 'Run the bundled Envoy-compatible proxy from an Envoy v3 bootstrap',
  help: HELP,
  async run(argv, io) {
    const args = parseArgs(argv);
    if (cluster.isWorker) listenForDrain();
    // Load (and validate) before forking so a bad config fails once, in the foreground.
    const bootstrap = await load(args);
    if (args.mode === 'validate') {
      const { validateProxyConfig } = await import('../../proxy/main.js');
      await validateProxyConfig(bootstrap);
      io.stdout.write(`configuration '${args.configPath ?? '--config-yaml'}' OK\n`);
      return EXIT.ok;
    }
    // proxy-dynamic (issue 7): a bootstrap with dynamic_resources takes its listeners and clusters
    // from the control plane it names, through the same xDS code as crossmesh up (proxy/xds/).
    // With --concurrency N each worker runs its own xDS client (see serveDynamic).
    if (args.concurrency > 1 && cluster.isPrimary) {
      const { removeStaleSocketFiles } = await import('../../proxy/server/bind.js');
      removeStaleSocketFiles(bootstrap);
      return primary(args, io);
    }
    if (bootstrap.dynamic_resources !== undefined) return serveDynamic(args, bootstrap, io);
    return serve(args, bootstrap, io);
  },
};
