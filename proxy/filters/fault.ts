/**
 * `envoy.filters.http.fault`: the local chaos tool. For requests that match `headers` (and, when
 * set, go to `upstream_cluster`) it injects a delay and then, after any delay, an abort:
 *
 * - delay: `fixed_delay`, or `header_delay` (the `x-envoy-fault-delay-request` header in ms);
 * - abort: `http_status`, `grpc_status`, or `header_abort` (`x-envoy-fault-abort-request` /
 *   `x-envoy-fault-abort-grpc-request`);
 * - each with `percentage`; with a header-controlled fault the `x-envoy-fault-delay-request-percentage`
 *   / `x-envoy-fault-abort-request-percentage` header may lower it (never raise it above the config);
 * - `max_active_faults` caps concurrent faulted requests (`faults_overflow` counts the skipped).
 *
 * Stats under `http.<hcm stat_prefix>.fault.`: `delays_injected`, `aborts_injected`,
 * `active_faults`, `faults_overflow`. Flags: DI for a delay, FI for an abort.
 */
import { MeshError } from '../../errors/index.js';
import type { FractionalPercent, HttpFault } from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import { getHeader, type HeaderList } from '../http/headers.js';
import { compileHeaderMatcher, type HeaderPredicate } from '../router/matchers.js';
import type { Counter, Gauge, StatsStore } from '../stats/store.js';
import type { FilterCallbacks, FilterRequest, HttpFilter } from './filter.js';
import { draw, fractionOf } from './percent.js';

interface DelaySpec {
  /** Fixed delay in ms; undefined = from the request header. */
  readonly fixedMs: number | undefined;
  readonly fraction: number;
  readonly denominator: number;
}

interface AbortSpec {
  /** HTTP status, gRPC status, or undefined for both = from the request headers. */
  readonly httpStatus: number | undefined;
  readonly grpcStatus: number | undefined;
  readonly fromHeader: boolean;
  readonly fraction: number;
  readonly denominator: number;
}

const DENOMINATOR: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};

function denominatorOf(p: FractionalPercent | undefined): number {
  return DENOMINATOR[p?.denominator ?? 'HUNDRED'] ?? 100;
}

/** True when some request header is an `x-envoy-fault-*` header. */
function hasFaultHeader(headers: HeaderList): boolean {
  for (let i = 0; i < headers.length; i += 2)
    if ((headers[i] as string).startsWith('x-envoy-fault-')) return true;
  return false;
}

/** A non-negative integer from a header, or undefined when absent or malformed. */
function headerInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** The compiled fault filter of one HTTP connection manager. */
export class FaultFilter implements HttpFilter {
  /** The filter's name in `http_filters` (the key of per-route configs). */
  readonly name: string;
  private readonly delay: DelaySpec | undefined;
  private readonly abort: AbortSpec | undefined;
  private readonly matchers: readonly HeaderPredicate[];
  private readonly upstreamCluster: string | undefined;
  private readonly maxActive: number;
  /** Every configured fault is header-controlled (nothing happens without x-envoy-fault-* headers). */
  private readonly headerOnly: boolean;
  private active = 0;
  private readonly stats: {
    readonly delays: Counter;
    readonly aborts: Counter;
    readonly overflow: Counter;
    readonly active: Gauge;
  };

  /**
   * @param statPrefix the connection manager's stat_prefix
   * @throws MeshError naming the field at fault
   */
  constructor(
    config: HttpFault,
    store: StatsStore,
    statPrefix: string,
    path: string,
    private readonly random: () => number = Math.random,
    name = 'envoy.filters.http.fault',
  ) {
    this.name = name;
    const d = config.delay;
    if (d !== undefined) {
      const dp = `${path}.delay`;
      let fixedMs: number | undefined;
      if (d.fixed_delay !== undefined) {
        try {
          fixedMs = parseDuration(d.fixed_delay);
        } catch {
          fixedMs = Number.NaN;
        }
        if (!((fixedMs as number) >= 0)) {
          throw new MeshError('PROXY_E_INVALID', 'fixed_delay must be a non-negative duration', {
            path: `${dp}.fixed_delay`,
            value: d.fixed_delay,
            allowed: 'a duration like "0.5s"',
          });
        }
      } else if (d.header_delay === undefined) {
        throw new MeshError('PROXY_E_INVALID', 'a fault delay needs fixed_delay or header_delay', {
          path: dp,
          value: d,
          allowed: 'fixed_delay or header_delay',
        });
      }
      this.delay = {
        fixedMs,
        fraction: fractionOf(d.percentage, 0, `${dp}.percentage`),
        denominator: denominatorOf(d.percentage),
      };
    }
    const a = config.abort;
    if (a !== undefined) {
      const ap = `${path}.abort`;
      const http = a.http_status;
      if (http !== undefined && !(Number.isInteger(http) && http >= 200 && http < 600)) {
        throw new MeshError('PROXY_E_INVALID', `http_status must be 200..599, got ${http}`, {
          path: `${ap}.http_status`,
          value: http,
          allowed: '200..599',
        });
      }
      const grpc = a.grpc_status;
      if (grpc !== undefined && !(Number.isInteger(grpc) && grpc >= 0 && grpc <= 16)) {
        throw new MeshError('PROXY_E_INVALID', `grpc_status must be 0..16, got ${grpc}`, {
          path: `${ap}.grpc_status`,
          value: grpc,
          allowed: '0..16',
        });
      }
      if (http === undefined && grpc === undefined && a.header_abort === undefined) {
        throw new MeshError(
          'PROXY_E_INVALID',
          'a fault abort needs http_status, grpc_status or header_abort',
          {
            path: ap,
            value: a,
            allowed: 'one of http_status, grpc_status, header_abort',
          },
        );
      }
      this.abort = {
        httpStatus: http,
        grpcStatus: grpc,
        fromHeader: a.header_abort !== undefined,
        fraction: fractionOf(a.percentage, 0, `${ap}.percentage`),
        denominator: denominatorOf(a.percentage),
      };
    }
    this.matchers = (config.headers ?? []).map((m, i) => compileHeaderMatcher(m, `${path}.headers[${i}]`));
    this.upstreamCluster = config.upstream_cluster === '' ? undefined : config.upstream_cluster;
    this.maxActive = config.max_active_faults ?? Number.POSITIVE_INFINITY;
    this.headerOnly =
      (this.delay === undefined || this.delay.fixedMs === undefined) &&
      (this.abort === undefined ||
        (this.abort.fromHeader &&
          this.abort.httpStatus === undefined &&
          this.abort.grpcStatus === undefined));
    const p = `http.${statPrefix}.fault.`;
    this.stats = {
      delays: store.counter(`${p}delays_injected`),
      aborts: store.counter(`${p}aborts_injected`),
      overflow: store.counter(`${p}faults_overflow`),
      active: store.gauge(`${p}active_faults`),
    };
  }

  /** The fraction for a header-controlled fault: the header's numerator, capped by the config. */
  private fraction(configured: number, denominator: number, header: string | undefined): number {
    const n = headerInt(header);
    if (n === undefined) return configured;
    return Math.min(configured, n / denominator);
  }

  private delayMs(request: FilterRequest): number | undefined {
    const d = this.delay;
    if (d === undefined) return undefined;
    const h = request.headers;
    if (d.fixedMs !== undefined) return draw(d.fraction, this.random) ? d.fixedMs : undefined;
    const ms = headerInt(getHeader(h, 'x-envoy-fault-delay-request'));
    if (ms === undefined) return undefined;
    const f = this.fraction(
      d.fraction,
      d.denominator,
      getHeader(h, 'x-envoy-fault-delay-request-percentage'),
    );
    return draw(f, this.random) ? ms : undefined;
  }

  /** The abort to inject, or undefined. */
  private abortWith(request: FilterRequest): { http: number; grpc: number | undefined } | undefined {
    const a = this.abort;
    if (a === undefined) return undefined;
    const h = request.headers;
    let http = a.httpStatus;
    let grpc = a.grpcStatus;
    let fraction = a.fraction;
    if (a.fromHeader) {
      const hs = headerInt(getHeader(h, 'x-envoy-fault-abort-request'));
      const gs = headerInt(getHeader(h, 'x-envoy-fault-abort-grpc-request'));
      http = hs !== undefined && hs >= 200 && hs < 600 ? hs : undefined;
      grpc = gs !== undefined && gs <= 16 ? gs : undefined;
      if (http === undefined && grpc === undefined) return undefined;
      fraction = this.fraction(
        a.fraction,
        a.denominator,
        getHeader(h, 'x-envoy-fault-abort-request-percentage'),
      );
    }
    if (!draw(fraction, this.random)) return undefined;
    // A gRPC abort answers HTTP 200 with the gRPC status in the trailers-only reply.
    return grpc !== undefined ? { http: 200, grpc } : { http: http as number, grpc: undefined };
  }

  onRequest(request: FilterRequest, callbacks: FilterCallbacks): 'continue' | 'stop' {
    if (this.upstreamCluster !== undefined && request.clusterName !== this.upstreamCluster) return 'continue';
    if (this.matchers.length > 0) {
      const input = { authority: '', path: '', method: '', scheme: '', headers: request.headers };
      for (const m of this.matchers) if (!m(input)) return 'continue';
    }
    // Header-controlled faults need x-envoy-fault-* headers: one scan rules them out (hot path).
    if (this.headerOnly && !hasFaultHeader(request.headers)) return 'continue';
    const delay = this.delayMs(request);
    const abortNow = delay === undefined ? this.abortWith(request) : undefined;
    if (delay === undefined && abortNow === undefined) return 'continue';
    if (this.active >= this.maxActive) {
      this.stats.overflow.inc();
      return 'continue';
    }
    this.active++;
    this.stats.active.set(this.active);
    callbacks.onDone(() => {
      this.active--;
      this.stats.active.set(this.active);
    });
    if (delay !== undefined) {
      this.stats.delays.inc();
      callbacks.addFlag('DelayInjected');
      callbacks.setTimer(() => {
        // Envoy decides the abort after the delay.
        const abort = this.abortWith(request);
        if (abort === undefined) callbacks.resume();
        else this.inject(abort, callbacks);
      }, delay);
      return 'stop';
    }
    this.inject(abortNow as { http: number; grpc: number | undefined }, callbacks);
    return 'stop';
  }

  private inject(abort: { http: number; grpc: number | undefined }, callbacks: FilterCallbacks): void {
    this.stats.aborts.inc();
    callbacks.reply({
      status: abort.http,
      body: 'fault filter abort',
      details: 'fault_filter_abort',
      flag: 'FaultInjected',
      headers: [],
      ...(abort.grpc === undefined ? {} : { grpcStatus: abort.grpc }),
    });
  }
}
