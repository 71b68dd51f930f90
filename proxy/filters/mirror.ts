/**
 * Request mirroring (`RouteAction.request_mirror_policies`), as Envoy's shadowing does it: each
 * policy whose `runtime_fraction` draws in sends a copy of the request to its cluster, with
 * `-shadow` appended to the host (`foo:8080` → `foo-shadow:8080`), fire and forget. Its response
 * is read and thrown away; its failures, time-outs and slowness never touch the primary request,
 * which neither waits for it nor sees it.
 *
 * The copy is sent once the downstream request has been received whole (its body buffered up to
 * the connection manager's buffer limit; a bigger body is not mirrored), as Envoy did before
 * streaming shadows: the primary request is never held back by the mirror. Upgrades (WebSocket)
 * are not mirrored. The mirror cluster counts its requests and response codes in its
 * `cluster.<name>.upstream_rq_*` stats, as in Envoy; a mirror cluster that does not exist (yet:
 * an RDS route can arrive before its CDS cluster) is skipped.
 */
import type { HeaderList } from '../http/headers.js';
import type { UpstreamCallbacks, UpstreamRequest } from '../http/stream.js';
import type { EngineCluster, EngineClusterManager } from '../server/contracts.js';
import type { PoolRegistry, ResolvedPool } from '../server/pools.js';
import { draw } from './percent.js';

/** One compiled `request_mirror_policies` entry. */
export interface MirrorPolicy {
  /** The cluster the copy goes to. */
  readonly cluster: string;
  /** `runtime_fraction.default_value` as a probability (1 when absent, as in Envoy). */
  readonly fraction: number;
}

/** What a mirror needs from the running proxy. */
export interface MirrorEnvironment {
  readonly clusters: EngineClusterManager;
  readonly pools: PoolRegistry;
  /** Largest body mirrored, in bytes (the connection manager's buffer limit). */
  readonly bufferLimitBytes: number;
  /** Random source in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** The request being mirrored, as the primary request is sent (after the route's rewrites). */
export interface MirroredRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  /** Request headers; copied, so the primary request may go on changing its own list. */
  readonly headers: HeaderList;
  /** The route's timeout (0: none): a mirror still running then is cancelled. */
  readonly timeoutMs: number;
}

/** Headers the copy gets afresh (framing and hop-by-hop) instead of taking the primary's. */
const DROPPED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'keep-alive',
  'upgrade',
]);

/** `host[:port]` with `-shadow` after the host name, as Envoy's shadow writer does. */
export function shadowAuthority(authority: string): string {
  // An IPv6 literal keeps its brackets; the port (if any) follows the suffix.
  const close = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  const at = colon > close ? colon : authority.length;
  return `${authority.slice(0, at)}-shadow${authority.slice(at)}`;
}

/**
 * The copies of one request. {@link RequestMirror.start} samples the policies; the pipeline feeds
 * the body through {@link data} and {@link end} (or {@link abort} when the downstream goes away).
 */
export class RequestMirror {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #done = false;

  private constructor(
    private readonly env: MirrorEnvironment,
    private readonly targets: readonly EngineCluster[],
    private readonly request: MirroredRequest,
  ) {}

  /**
   * Draws each policy and returns the mirror of a request, or undefined when no policy drew in
   * (then nothing is buffered or copied at all).
   */
  static start(
    policies: readonly MirrorPolicy[],
    request: MirroredRequest,
    env: MirrorEnvironment,
  ): RequestMirror | undefined {
    const random = env.random ?? Math.random;
    const targets: EngineCluster[] = [];
    for (const policy of policies) {
      if (!draw(policy.fraction, random)) continue;
      const cluster = env.clusters.get(policy.cluster);
      if (cluster !== undefined) targets.push(cluster);
    }
    if (targets.length === 0) return undefined;
    const headers: HeaderList = [];
    for (let i = 0; i + 1 < request.headers.length; i += 2) {
      const name = request.headers[i] as string;
      if (!DROPPED.has(name)) headers.push(name, request.headers[i + 1] as string);
    }
    return new RequestMirror(env, targets, { ...request, headers });
  }

  /** A chunk of the request body (kept until the request ends; past the buffer limit the copy is dropped). */
  data(chunk: Buffer): void {
    if (this.#done) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.env.bufferLimitBytes) {
      this.abort();
      return;
    }
    this.#chunks.push(chunk);
  }

  /** The request was received whole: the copies go out now. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    this.#chunks = [];
    for (const cluster of this.targets) send(cluster, this.env.pools, this.request, body);
  }

  /** The downstream request ended early: nothing is sent. */
  abort(): void {
    this.#done = true;
    this.#chunks = [];
  }
}

/** Sends one copy to `cluster` and discards whatever comes back. Never throws. */
function send(cluster: EngineCluster, pools: PoolRegistry, request: MirroredRequest, body: Buffer): void {
  const host = cluster.chooseHost({});
  if (host === undefined) {
    cluster.stats.upstream_cx_none_healthy.inc();
    return;
  }
  cluster.stats.upstream_rq_total.inc();
  host.stats.rq_total.inc();
  const sink = new DiscardingSink(cluster);
  const dispatch = (entry: ResolvedPool): void => {
    const authority = shadowAuthority(request.authority);
    let upstream: UpstreamRequest;
    if (entry.kind === 'http1') {
      const headers: HeaderList = ['host', authority, ...request.headers];
      if (body.length > 0) headers.push('content-length', String(body.length));
      upstream = entry.pool.request(
        {
          method: request.method,
          path: request.path,
          headers,
          body: body.length > 0 ? 'length' : 'none',
          upgrade: false,
        },
        sink,
      );
    } else {
      upstream = entry.pool.request(
        {
          method: request.method,
          path: request.path,
          authority,
          scheme: request.scheme,
          headers: [...request.headers],
          endStream: body.length === 0,
          trailers: false,
        },
        sink,
      );
    }
    sink.started(upstream, request.timeoutMs);
    if (body.length > 0) {
      upstream.writeData(body);
      upstream.end();
    }
  };
  const entry = pools.get(cluster, host);
  if (entry.kind === 'auto') entry.pool.whenReady(dispatch);
  else dispatch(entry);
}

/** The callbacks of a mirrored request: counts the response code, reads and drops the rest. */
class DiscardingSink implements UpstreamCallbacks {
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly cluster: EngineCluster) {}

  /** Arms the route's timeout on the copy (it must not hold a pooled connection for ever). */
  started(upstream: UpstreamRequest, timeoutMs: number): void {
    if (timeoutMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.cluster.stats.upstream_rq_timeout.inc();
      upstream.abort();
    }, timeoutMs);
    this.#timer.unref();
  }

  onInformational(): void {}

  onHeaders(status: number, _headers: HeaderList, endStream: boolean): void {
    this.cluster.stats.recordResponse(status);
    if (endStream) this.#clear();
  }

  onData(): void {}

  onEnd(): void {
    this.#clear();
  }

  onReset(): void {
    this.#clear();
  }

  onDrain(): void {}

  onUpgrade(_headers: HeaderList, socket: import('node:net').Socket): void {
    // A mirror never asks for an upgrade; an upstream that switches anyway loses the connection.
    this.#clear();
    socket.destroy();
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
