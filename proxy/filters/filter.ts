/**
 * The small HTTP filter interface the connection manager runs before its router (Envoy's decoder
 * filters, reduced to what local rate limiting and fault injection need). Filters are built once
 * per listener filter chain from the `http_filters` list; per request the pipeline calls
 * {@link HttpFilter.onRequest} in config order. A filter either lets the request continue, answers
 * it locally, or stops and later calls {@link FilterCallbacks.resume} (a delay).
 */
import type { ResponseFlagName } from '../accesslog/flags.js';
import type { HeaderList } from '../http/headers.js';

/** What a filter sees of a request. */
export interface FilterRequest {
  /** Request headers (lowercase names, flat list); filters may read them. */
  readonly headers: HeaderList;
  /** True for `content-type: application/grpc*` (local replies use gRPC's trailers-only form). */
  readonly grpc: boolean;
  /**
   * Identity of the downstream connection (the same object for every request on it), for
   * per-connection state such as `local_rate_limit_per_downstream_connection`.
   */
  readonly connection: object;
  /** The cluster the route selected, when the route forwards to one. */
  readonly clusterName: string | undefined;
  /**
   * The matched route's `typed_per_filter_config` (route over virtual host over route
   * configuration), by filter name; undefined when no route matched. @default - none
   */
  readonly perFilterConfig?: Readonly<Record<string, unknown>> | undefined;
}

/** A local reply a filter asks for. */
export interface FilterReply {
  readonly status: number;
  /** Text body; empty for none. */
  readonly body: string;
  /** `%RESPONSE_CODE_DETAILS%`, e.g. `local_rate_limited`. */
  readonly details: string;
  /**
   * Response flag set on the request (RL, FI...). @default - none (proxy-mtls: RBAC denials set
   * no flag in Envoy, only response code details)
   */
  readonly flag?: ResponseFlagName;
  /** Extra response headers. */
  readonly headers: HeaderList;
  /** gRPC status for gRPC requests (fault aborts may name one). @default - mapped from `status` */
  readonly grpcStatus?: number;
}

/** What the pipeline offers a filter for one request. */
export interface FilterCallbacks {
  /** Continues with the next filter (after `onRequest` returned `stop`). */
  resume(): void;
  /** Answers the request locally; no later filter runs and nothing goes upstream. */
  reply(reply: FilterReply): void;
  /** Adds headers to whatever response goes back (upstream or local). */
  addResponseHeaders(headers: HeaderList): void;
  /** Sets a response flag (e.g. DI for an injected delay). */
  addFlag(flag: ResponseFlagName): void;
  /**
   * Runs `fn` once when the request ends, however it ends (to release per-request resources).
   * Only one per filter per request is needed; several are allowed.
   */
  onDone(fn: () => void): void;
  /** Starts a timer that is cancelled if the request ends first. */
  setTimer(fn: () => void, ms: number): void;
}

/** One configured HTTP filter. */
export interface HttpFilter {
  /** Envoy's extension name (`envoy.filters.http.fault`). */
  readonly name: string;
  /**
   * Decides about a request: `continue` runs the next filter at once; `stop` means the filter has
   * called (or will call) `callbacks.reply` or `callbacks.resume`.
   */
  onRequest(request: FilterRequest, callbacks: FilterCallbacks): 'continue' | 'stop';
}
