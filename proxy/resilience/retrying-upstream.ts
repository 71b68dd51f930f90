/**
 * The router's retry loop and per-attempt bookkeeping, as one {@link UpstreamRequest} the
 * connection manager talks to as if it were a single upstream request. Behind it, each attempt is
 * a real upstream request on some host; the wrapper
 *
 * - buffers the request body (up to a limit) so a retry can replay it; past the limit the request
 *   is no longer retried (Envoy's `retry_or_shadow_abandoned`);
 * - reports every attempt's result to outlier detection (status, connect failure, reset, timeout);
 * - runs the per-try timeout (`per_try_timeout`, `x-envoy-upstream-rq-per-try-timeout-ms`);
 * - on a failed attempt asks the {@link RetryState}, then the cluster's retry circuit breaker
 *   (`max_retries` / `retry_budget`), and either retries after a jittered back-off on another host
 *   (`previous_hosts` excludes the ones tried) or hands the failure through unchanged;
 * - counts `upstream_rq_retry`, `upstream_rq_retry_success`, `upstream_rq_retry_overflow`,
 *   `upstream_rq_retry_limit_exceeded` (flag URX) and `upstream_rq_per_try_timeout`.
 *
 * Once a response head is passed downstream the request is committed: nothing is retried after.
 */
import type { ResponseFlagName } from '../accesslog/flags.js';
import type { HeaderList } from '../http/headers.js';
import type { UpstreamCallbacks, UpstreamRequest } from '../http/stream.js';
import type { AttemptFailure } from '../router/retry.js';
import type { ClusterStats } from '../stats/scopes.js';
import type { AttemptOutcome, RetryState } from './retry-state.js';

/** A host as the retry loop needs it (the engine's host). */
export type AttemptHost = object;

/** What the retry loop needs from the connection manager's stream. */
export interface AttemptDriver<H extends AttemptHost> {
  /** The stream's own callbacks: the committed attempt's events go there. */
  readonly downstream: UpstreamCallbacks;
  /**
   * Picks a host for a retry, avoiding `excluded` when given, re-picking at most
   * `selectionRetries` times (host_selection_retry_max_attempts).
   */
  chooseHost(excluded: Set<H> | undefined, selectionRetries: number): H | undefined;
  /**
   * Starts one attempt on `host` (host accounting and the pool request); the previous attempt's
   * host, if any, is released first.
   */
  startAttempt(host: H, callbacks: UpstreamCallbacks): UpstreamRequest;
  /** The last attempt hit its per-try timeout and no retry follows: answer 504 UT. */
  onFinalPerTryTimeout(): void;
  /** Sets a response flag (URX). */
  addFlag(flag: ResponseFlagName): void;
  /** No host is left to retry on: answer 503 UH. */
  onNoHealthyUpstream(): void;
}

/** The cluster side: stats, retry admission and outlier detection. */
export interface AttemptCluster<H extends AttemptHost> {
  readonly stats: ClusterStats;
  /** The retry circuit breaker of the request's priority, when the cluster has one. */
  readonly retryResources:
    | { canRetry(active: number, pending: number): boolean; readonly retries: { inc(): void; dec(): void } }
    | undefined;
  readonly outlier:
    | {
        reportResponse(host: H, status: number): void;
        reportLocalOrigin(host: H, result: 'connect_failed' | 'timeout' | 'reset' | 'success'): void;
      }
    | undefined;
}

/** Options for one request's retry loop. */
export interface RetryingOptions {
  /** Retry state, or undefined when only outlier reports / per-try timeouts apply. */
  readonly retry: RetryState | undefined;
  /** Per-try timeout in ms; 0 = none. */
  readonly perTryTimeoutMs: number;
  /** Body bytes kept for replay; beyond it the request is not retried. */
  readonly bufferLimitBytes: number;
}

/** Maps the engine's reset reasons onto the retry conditions' failure kinds. */
function failureOf(reason: string): AttemptFailure {
  if (reason === 'connection failure' || reason === 'connection timeout') return 'connect-failure';
  // HTTP/2 upstreams report `remote refused stream reset` for REFUSED_STREAM.
  if (reason.includes('refused stream')) return 'refused-stream';
  return 'reset';
}

/** One attempt's callbacks: forwards to the loop only while it is the current attempt. */
class Attempt<H extends AttemptHost> implements UpstreamCallbacks {
  request: UpstreamRequest | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly loop: RetryingUpstream<H>,
    readonly host: H,
  ) {}

  private get live(): boolean {
    return this.loop.current === this;
  }

  onInformational(status: number): void {
    if (this.live) this.loop.driver.downstream.onInformational(status);
  }
  onHeaders(status: number, headers: HeaderList, endStream: boolean): void {
    if (this.live) this.loop.onAttemptHeaders(this, status, headers, endStream);
  }
  onData(chunk: Buffer): void {
    if (this.live) this.loop.driver.downstream.onData(chunk);
  }
  onEnd(trailers: HeaderList | undefined): void {
    if (!this.live) return;
    this.loop.clearAttemptTimer(this);
    this.loop.driver.downstream.onEnd(trailers);
  }
  onReset(reason: string, beforeHeaders: boolean): void {
    if (this.live) this.loop.onAttemptReset(this, reason, beforeHeaders);
  }
  onDrain(): void {
    if (this.live) this.loop.driver.downstream.onDrain();
  }
  onUpgrade(headers: HeaderList, socket: import('node:net').Socket, rest: Buffer): void {
    if (this.live) {
      this.loop.clearAttemptTimer(this);
      this.loop.committed = true;
      this.loop.driver.downstream.onUpgrade(headers, socket, rest);
    } else socket.destroy();
  }
}

/** A request's attempts behind one {@link UpstreamRequest}. */
export class RetryingUpstream<H extends AttemptHost> implements UpstreamRequest {
  /** The attempt whose events count; undefined during a back-off. */
  current: Attempt<H> | undefined;
  /** True once a response head went downstream. */
  committed = false;
  /** Body kept for replay (created on the first chunk). */
  private body: Buffer[] | undefined;
  /** False once the body outgrew the buffer (or without a retry policy): nothing is replayed. */
  private replayable: boolean;
  private bodyBytes = 0;
  private ended = false;
  private trailers: HeaderList | undefined;
  private aborted = false;
  private backoff: NodeJS.Timeout | undefined;
  private holdingRetry = false;
  private retried = false;
  private paused = false;
  /** Set when the body outgrew the buffer while no attempt was running: the flow is paused. */
  private blocked = false;

  constructor(
    readonly driver: AttemptDriver<H>,
    private readonly cluster: AttemptCluster<H>,
    private readonly options: RetryingOptions,
    firstHost: H,
  ) {
    this.replayable = options.retry !== undefined;
    this.launch(firstHost);
  }

  private launch(host: H): void {
    const attempt = new Attempt(this, host);
    this.current = attempt;
    this.options.retry?.triedHosts?.add(host);
    attempt.request = this.driver.startAttempt(host, attempt);
    if (this.current !== attempt) return; // failed synchronously and moved on
    const req = attempt.request;
    if (this.body !== undefined) for (const chunk of this.body) req.writeData(chunk);
    if (this.ended) {
      req.end(this.trailers);
      this.startPerTryTimer(attempt);
    }
    if (this.paused) req.pauseResponse();
    if (this.blocked) {
      // The body outgrew the buffer during the back-off: this is the last attempt; read on.
      this.blocked = false;
      this.body = undefined;
      this.replayable = false;
      this.driver.downstream.onDrain();
    }
  }

  /**
   * As in Envoy, the per-try timeout runs from the end of the downstream request (at once for a
   * retry) until the attempt's response is complete.
   */
  private startPerTryTimer(attempt: Attempt<H>): void {
    if (this.options.perTryTimeoutMs > 0 && attempt.timer === undefined) {
      attempt.timer = setTimeout(() => this.onPerTryTimeout(attempt), this.options.perTryTimeoutMs);
    }
  }

  /** @internal */
  clearAttemptTimer(attempt: Attempt<H>): void {
    if (attempt.timer !== undefined) {
      clearTimeout(attempt.timer);
      attempt.timer = undefined;
    }
  }

  /** @internal a response head from the current attempt */
  onAttemptHeaders(attempt: Attempt<H>, status: number, headers: HeaderList, endStream: boolean): void {
    const outlier = this.cluster.outlier;
    if (outlier !== undefined) {
      // The connection worked (local origin) and the status is the upstream's verdict.
      outlier.reportLocalOrigin(attempt.host, 'success');
      outlier.reportResponse(attempt.host, status);
    }
    const retry = this.options.retry;
    if (retry !== undefined && !this.committed) {
      const verdict = this.verdict({ status, headers });
      if (verdict === 'retry') {
        this.clearAttemptTimer(attempt);
        // Envoy counts every upstream response, the retried ones included (upstream_rq_5xx...).
        this.cluster.stats.recordResponse(status);
        attempt.request?.abort();
        this.scheduleRetry();
        return;
      }
    }
    this.committed = true;
    if (endStream) this.clearAttemptTimer(attempt);
    if (this.retried && status < 500) this.cluster.stats.upstream_rq_retry_success.inc();
    this.driver.downstream.onHeaders(status, headers, endStream);
  }

  /** @internal a reset from the current attempt */
  onAttemptReset(attempt: Attempt<H>, reason: string, beforeHeaders: boolean): void {
    this.clearAttemptTimer(attempt);
    if (beforeHeaders && reason !== 'overflow') {
      const failure = failureOf(reason);
      this.cluster.outlier?.reportLocalOrigin(
        attempt.host,
        failure === 'connect-failure' ? 'connect_failed' : 'reset',
      );
      if (this.verdict({ failure }) === 'retry') {
        this.scheduleRetry();
        return;
      }
    }
    this.current = undefined;
    this.driver.downstream.onReset(reason, beforeHeaders);
  }

  private onPerTryTimeout(attempt: Attempt<H>): void {
    attempt.timer = undefined;
    if (this.current !== attempt) return;
    this.cluster.stats.upstream_rq_per_try_timeout.inc();
    attempt.request?.abort();
    this.cluster.outlier?.reportLocalOrigin(attempt.host, 'timeout');
    // After the response started nothing can be retried: the driver resets the stream (UT).
    if (this.verdict({ failure: 'timeout' }) === 'retry') {
      this.scheduleRetry();
      return;
    }
    this.current = undefined;
    this.driver.onFinalPerTryTimeout();
  }

  /** The retry decision including the body limit and the circuit breaker. */
  private verdict(outcome: AttemptOutcome): 'retry' | 'no' {
    const retry = this.options.retry;
    if (retry === undefined || this.committed || this.aborted) return 'no';
    const decision = retry.decide(outcome);
    if (decision === 'no') return 'no';
    if (decision === 'limit') {
      this.cluster.stats.upstream_rq_retry_limit_exceeded.inc();
      this.driver.addFlag('UpstreamRetryLimitExceeded');
      return 'no';
    }
    // Part of the body was sent and not kept: it cannot be replayed.
    if (!this.replayable && this.bodyBytes > 0) return 'no';
    const res = this.cluster.retryResources;
    if (res !== undefined) {
      const s = this.cluster.stats;
      if (!res.canRetry(s.upstream_rq_active.value, s.upstream_rq_pending_active.value)) {
        s.upstream_rq_retry_overflow.inc();
        return 'no';
      }
    }
    return 'retry';
  }

  private scheduleRetry(): void {
    const retry = this.options.retry as RetryState;
    this.current = undefined;
    const res = this.cluster.retryResources;
    if (res !== undefined) {
      // Envoy holds one retry resource from the scheduling of a retry to the end of the request.
      if (this.holdingRetry) res.retries.dec();
      res.retries.inc();
      this.holdingRetry = true;
    }
    this.retried = true;
    this.cluster.stats.upstream_rq_retry.inc();
    const wait = retry.take();
    this.backoff = setTimeout(() => {
      this.backoff = undefined;
      if (this.aborted) return;
      const host = this.driver.chooseHost(
        retry.triedHosts as Set<H> | undefined,
        retry.policy.hostSelectionRetryMaxAttempts,
      );
      if (host === undefined) {
        this.driver.onNoHealthyUpstream();
        return;
      }
      this.launch(host);
    }, wait);
  }

  // ---- UpstreamRequest, as the stream sees it ----

  writeData(chunk: Buffer): boolean {
    this.bodyBytes += chunk.length;
    if (this.replayable) {
      if (this.body === undefined) this.body = [];
      this.body.push(chunk);
      if (this.bodyBytes > this.options.bufferLimitBytes) {
        if (this.current === undefined) {
          // No attempt to pass it to yet: keep it, stop reading until the next attempt starts.
          this.blocked = true;
          return false;
        }
        // Too big to replay: later failures are not retried (Envoy: retry_or_shadow_abandoned).
        this.body = undefined;
        this.replayable = false;
      }
    }
    const req = this.current?.request;
    if (req === undefined) return !this.blocked;
    return req.writeData(chunk);
  }

  end(trailers?: HeaderList): void {
    this.ended = true;
    this.trailers = trailers;
    const attempt = this.current;
    if (attempt?.request !== undefined) {
      attempt.request.end(trailers);
      this.startPerTryTimer(attempt);
    }
  }

  abort(): void {
    this.aborted = true;
    if (this.backoff !== undefined) clearTimeout(this.backoff);
    const attempt = this.current;
    this.current = undefined;
    if (attempt !== undefined) {
      this.clearAttemptTimer(attempt);
      attempt.request?.abort();
    }
    this.release();
  }

  pauseResponse(): void {
    this.paused = true;
    this.current?.request?.pauseResponse();
  }

  resumeResponse(): void {
    this.paused = false;
    this.current?.request?.resumeResponse();
  }

  /** Gives back the retry resource (the request is over). Idempotent. */
  release(): void {
    if (this.holdingRetry) {
      this.holdingRetry = false;
      this.cluster.retryResources?.retries.dec();
    }
    if (this.backoff !== undefined) {
      clearTimeout(this.backoff);
      this.backoff = undefined;
    }
  }
}
