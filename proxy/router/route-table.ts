/**
 * Compiles an Envoy `RouteConfiguration` into a {@link RouteTable}: virtual host selection by
 * domain, first-match routes, and per-route actions with everything resolved at compile time.
 * A request is routed without building strings in the common case: cluster results are
 * preallocated per route (and per weighted cluster), and matchers are closures.
 */
import { readFileSync } from 'node:fs';
import { MeshError } from '../../errors/index.js';
import type { FormatContext } from '../accesslog/substitution.js';
import type {
  DataSource,
  HashPolicy,
  RedirectAction,
  Route,
  RouteAction,
  RouteConfiguration,
  RouteMatch,
  VirtualHost,
} from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
// proxy-dynamic: request mirroring (the policy type and Envoy's FractionalPercent reading).
import type { MirrorPolicy } from '../filters/mirror.js';
import { fractionOf } from '../filters/percent.js';
import type { HeaderList } from '../http/headers.js';
import { combineInto, to53, XXH_OUT, xxHash64String } from '../upstream/hash.js';
import { applyChain, HeaderMutation } from './header-mutation.js';
import {
  compileHeaderMatcher,
  compileQueryMatcher,
  type HeaderPredicate,
  headerForMatch,
  queryParam,
} from './matchers.js';
import {
  compileRateLimits,
  NO_RATE_LIMITS,
  type RateLimitPolicy,
  type RouteRateLimits,
} from './rate-limits.js';
import { compileRe2 } from './re2.js';
import { compileRetryPolicy, type RetryPolicyValues } from './retry.js';

/** What the router needs from a request. */
export interface RouteRequest {
  /** `:authority` or `Host` as received (may carry a port). */
  readonly authority: string;
  /** `:path` as received, query included. */
  readonly path: string;
  /** `:method`. */
  readonly method: string;
  /** Downstream scheme. */
  readonly scheme: 'http' | 'https';
  /** Request headers, lowercase names. */
  readonly headers: HeaderList;
  /** Downstream peer address (`ip` or `ip:port`), for source-IP hashing. */
  readonly sourceAddress: string;
}

/** The outcome of routing one request. */
export type RouteResult =
  | { readonly kind: 'cluster'; readonly clusterName: string; readonly route: CompiledRoute }
  | {
      readonly kind: 'direct';
      readonly status: number;
      readonly body?: Buffer;
      /** Fresh per request: `content-type` for a body plus the response header mutations. */
      readonly headers: HeaderList;
      readonly route: CompiledRoute;
    }
  | {
      readonly kind: 'redirect';
      readonly status: number;
      readonly location: string;
      readonly route: CompiledRoute;
    }
  | { readonly kind: 'none' };

/** Where {@link CompiledRoute.hashKey} reports a cookie it generated (cookie hash policy with a ttl). */
export interface HashKeyOutput {
  /** A `set-cookie` value the engine must add to the response. */
  setCookie?: string;
}

/** Options for {@link compileRouteConfiguration}. */
export interface CompileRouteOptions {
  /** Config path of the RouteConfiguration, prefixed to every error path. @default `route_config` */
  readonly path?: string;
  /**
   * Port handling before domain matching. `any` strips any port from the host (Envoy's
   * `strip_any_host_port`); a number strips the port only when it equals it (Envoy's
   * `strip_matching_host_port` with the listener port). @default - the host is matched as received
   */
  readonly stripPort?: 'any' | number;
}

const NONE: RouteResult = Object.freeze({ kind: 'none' });
const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_DIRECT_BODY = 4096;

const REDIRECT_CODES: Readonly<Record<string, number>> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

const NOT_FOUND_CODES: Readonly<Record<string, number>> = {
  SERVICE_UNAVAILABLE: 503,
  NOT_FOUND: 404,
  INTERNAL_SERVER_ERROR: 500,
};

function invalid(path: string, message: string, value?: unknown, allowed?: string): MeshError {
  return new MeshError('PROXY_E_INVALID', message, {
    path,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}

function unsupported(path: string, what: string): MeshError {
  return new MeshError('PROXY_E_UNSUPPORTED', `${what} is not supported by the bundled proxy`, {
    path,
    allowed: 'see docs/proxy-compatibility.md',
  });
}

function durationMs(v: string | undefined, path: string): number | undefined {
  try {
    return parseDuration(v);
  } catch {
    throw invalid(path, `${JSON.stringify(v)} is not a duration`, v, 'a duration like "1.5s"');
  }
}

/** End of the path part (before `?` or `#`). */
function pathEnd(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

/** Envoy's RE2 substitution (`\1`) in JS replace syntax (`$1`), with `$` escaped. */
function re2Substitution(s: string): string {
  return s.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
}

/** A `regex_rewrite` as a global JS RegExp plus a JS replacement string. */
function compileRegexRewrite(
  r: { readonly pattern: { readonly regex: string }; readonly substitution: string },
  path: string,
): { readonly re: RegExp; readonly substitution: string } {
  const re = compileRe2(r.pattern.regex, { path: `${path}.pattern.regex`, fullMatch: false });
  return { re: new RegExp(re.source, `${re.flags}g`), substitution: re2Substitution(r.substitution) };
}

/* ------------------------------------------------------------------------------------------------
 * Path matching
 * --------------------------------------------------------------------------------------------- */

/** How much of the path a route matched, for prefix_rewrite. */
type PathMatcher = (path: string, end: number) => boolean;

interface CompiledPathMatch {
  readonly matches: PathMatcher;
  /** Length of the matched part for prefix_rewrite: the prefix length, or -1 for "whole path". */
  readonly rewriteLength: number;
  readonly kind: 'prefix' | 'path' | 'regex' | 'separated' | 'connect';
}

function compilePathMatch(m: RouteMatch, path: string): CompiledPathMatch {
  const specs = (
    ['prefix', 'path', 'safe_regex', 'path_separated_prefix', 'connect_matcher'] as const
  ).filter((k) => m[k] !== undefined);
  if (specs.length !== 1) {
    throw invalid(
      path,
      `a route match needs exactly one of prefix, path, safe_regex, path_separated_prefix, connect_matcher; got ${specs.length === 0 ? 'none' : specs.join(', ')}`,
      specs,
      'exactly one path specifier',
    );
  }
  const caseSensitive = m.case_sensitive !== false;
  if (m.prefix !== undefined) {
    const prefix = caseSensitive ? m.prefix : m.prefix.toLowerCase();
    const len = prefix.length;
    return {
      kind: 'prefix',
      rewriteLength: len,
      matches: caseSensitive
        ? (p) => p.startsWith(prefix)
        : (p) => p.length >= len && p.slice(0, len).toLowerCase() === prefix,
    };
  }
  if (m.path !== undefined) {
    const want = caseSensitive ? m.path : m.path.toLowerCase();
    return {
      kind: 'path',
      rewriteLength: -1,
      matches: caseSensitive
        ? (p, end) => end === want.length && p.startsWith(want)
        : (p, end) => end === want.length && p.slice(0, end).toLowerCase() === want,
    };
  }
  if (m.safe_regex !== undefined) {
    const re = compileRe2(m.safe_regex.regex, { path: `${path}.safe_regex.regex` });
    return {
      kind: 'regex',
      rewriteLength: -1,
      matches: (p, end) => re.test(end === p.length ? p : p.slice(0, end)),
    };
  }
  if (m.path_separated_prefix !== undefined) {
    const prefix = m.path_separated_prefix;
    if (!prefix.startsWith('/') || (prefix.endsWith('/') && prefix !== '/') || /[?#]/.test(prefix)) {
      throw invalid(
        `${path}.path_separated_prefix`,
        'path_separated_prefix must start with / and not end with / or hold ? or #',
        prefix,
        'e.g. /api/v1',
      );
    }
    const want = caseSensitive ? prefix : prefix.toLowerCase();
    const len = want.length;
    return {
      kind: 'separated',
      rewriteLength: len,
      matches: (p, end) => {
        if (end < len) return false;
        const head = caseSensitive ? p.startsWith(want) : p.slice(0, len).toLowerCase() === want;
        return head && (end === len || p.charCodeAt(len) === 47) /* / */;
      },
    };
  }
  return { kind: 'connect', rewriteLength: 0, matches: () => true };
}

/* ------------------------------------------------------------------------------------------------
 * Hash policy
 * --------------------------------------------------------------------------------------------- */

type HashSource = (req: RouteRequest, out: HashKeyOutput | undefined) => boolean;

function ipOf(address: string): string {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end < 0 ? address : address.slice(1, end);
  }
  const colon = address.indexOf(':');
  return colon >= 0 && colon === address.lastIndexOf(':') ? address.slice(0, colon) : address;
}

function cookieValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    const h = headers[i + 1] as string;
    let start = 0;
    while (start < h.length) {
      let semi = h.indexOf(';', start);
      if (semi < 0) semi = h.length;
      while (h.charCodeAt(start) === 32) start++;
      const eq = h.indexOf('=', start);
      if (eq > 0 && eq < semi && eq - start === name.length && h.startsWith(name, start)) {
        let v = h.slice(eq + 1, semi).trim();
        if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
        return v;
      }
      start = semi + 1;
    }
  }
  return undefined;
}

/**
 * Each source hashes into XXH_OUT and returns true, or returns false when it has nothing to hash
 * (header absent...), exactly like Envoy's optional hash per policy.
 */
function compileHashSource(h: HashPolicy, path: string): HashSource {
  const set = (
    ['header', 'cookie', 'connection_properties', 'query_parameter', 'filter_state'] as const
  ).filter((k) => h[k] !== undefined);
  if (set.length !== 1) {
    throw invalid(
      path,
      `a hash policy needs exactly one of header, cookie, connection_properties, query_parameter; got ${set.length === 0 ? 'none' : set.join(', ')}`,
      set,
      'exactly one policy',
    );
  }
  const name = h.header?.header_name ?? h.cookie?.name ?? h.query_parameter?.name;
  if (
    h.connection_properties === undefined &&
    h.filter_state === undefined &&
    (typeof name !== 'string' || name === '')
  ) {
    const field =
      h.header !== undefined
        ? 'header.header_name'
        : h.cookie !== undefined
          ? 'cookie.name'
          : 'query_parameter.name';
    throw invalid(
      `${path}.${field}`,
      'a hash policy needs a non-empty name',
      name,
      'a header, cookie or query parameter name',
    );
  }
  if (h.header !== undefined) {
    if (h.header.regex_rewrite !== undefined)
      throw unsupported(`${path}.header.regex_rewrite`, 'hash_policy.header.regex_rewrite');
    const name = h.header.header_name.toLowerCase();
    return (req) => {
      const v = headerForMatch(req, name);
      if (v === undefined) return false;
      xxHash64String(v);
      return true;
    };
  }
  if (h.cookie !== undefined) {
    const { name } = h.cookie;
    const ttlMs = durationMs(h.cookie.ttl, `${path}.cookie.ttl`);
    const cookiePath = h.cookie.path;
    return (req, out) => {
      const v = cookieValue(req.headers, name);
      if (v !== undefined) {
        xxHash64String(v);
        return true;
      }
      if (ttlMs === undefined) return false;
      // Envoy generates the cookie from the peer address and time, hashes it, and sets it on the response.
      xxHash64String(`${req.sourceAddress}${Date.now()}`);
      const value =
        (XXH_OUT[0] as number).toString(16).padStart(8, '0') +
        (XXH_OUT[1] as number).toString(16).padStart(8, '0');
      if (out !== undefined) {
        const maxAge = ttlMs > 0 ? `; Max-Age=${Math.floor(ttlMs / 1000)}` : '';
        out.setCookie = `${name}="${value}"${maxAge}${cookiePath === undefined ? '' : `; Path=${cookiePath}`}; HttpOnly`;
      }
      xxHash64String(value);
      return true;
    };
  }
  if (h.connection_properties !== undefined) {
    if (h.connection_properties.source_ip !== true) return () => false;
    return (req) => {
      if (req.sourceAddress === '') return false;
      xxHash64String(ipOf(req.sourceAddress));
      return true;
    };
  }
  if (h.query_parameter !== undefined) {
    const { name } = h.query_parameter;
    return (req) => {
      const v = queryParam(req.path, name);
      if (v === undefined) return false;
      xxHash64String(v);
      return true;
    };
  }
  throw unsupported(`${path}.filter_state`, 'hash_policy.filter_state');
}

/* ------------------------------------------------------------------------------------------------
 * Routes
 * --------------------------------------------------------------------------------------------- */

/** Shared, immutable per-route compile results used by every {@link CompiledRoute} variant of it. */
/** How a gRPC request's `grpc-timeout` header bounds its stream (Envoy's MaxStreamDuration). */
export interface GrpcTimeoutHeader {
  /** Cap on the header's value in ms; 0 uses the header as it is. */
  readonly maxMs: number;
  /** Subtracted from the (capped) value, so the proxy times out before the client gives up. */
  readonly offsetMs: number;
}

interface RouteCore {
  readonly name: string | undefined;
  readonly virtualHostName: string;
  readonly pathMatch: CompiledPathMatch;
  readonly prefixRewrite: string | undefined;
  readonly regexRewrite: { readonly re: RegExp; readonly substitution: string } | undefined;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number | undefined;
  readonly maxStreamDurationMs: number | undefined;
  readonly grpcTimeoutHeader: GrpcTimeoutHeader | undefined;
  readonly retryPolicy: RetryPolicyValues | undefined;
  readonly hashSources: ReadonlyArray<{ readonly source: HashSource; readonly terminal: boolean }>;
  readonly clusterNotFoundStatus: number;
  readonly priority: 'DEFAULT' | 'HIGH';
  /** Issue 6: the virtual host's include_request_attempt_count / include_attempt_count_in_response. */
  readonly attemptCountInRequest: boolean;
  readonly attemptCountInResponse: boolean;
  readonly upgrades: ReadonlyMap<string, boolean>;
  /** The route's CONNECT upgrade has a `connect_config`: the proxy terminates the tunnel itself. */
  readonly connectTerminate: boolean;
  readonly autoHostRewrite: boolean;
  readonly hostRewriteHeader: string | undefined;
  readonly typedPerFilterConfig: Readonly<Record<string, unknown>>;
  /** proxy-dynamic: `request_mirror_policies` (proxy/filters/mirror.ts sends the copies). */
  readonly mirrorPolicies: readonly MirrorPolicy[];
  /** Issue 6: the route's and its virtual host's `rate_limits`. */
  readonly rateLimits: RouteRateLimits;
}

const hashAcc = new Uint32Array(2);

/**
 * A matched route as the engine sees it: header mutations, rewrites, timeouts, retry policy and
 * hash key. One instance per route (and per weighted cluster of a route), built at compile time.
 */
export class CompiledRoute {
  /** The route's `name`, if any (`%ROUTE_NAME%`). */
  readonly name: string | undefined;
  /** Name of the virtual host the route belongs to. */
  readonly virtualHostName: string;
  /** Host header to send upstream (`host_rewrite_literal`), if rewritten. */
  readonly hostRewrite: string | undefined;
  /** `auto_host_rewrite`: send the chosen upstream host's hostname as Host. */
  readonly autoHostRewrite: boolean;
  /** `host_rewrite_header`: take the upstream Host from this request header. */
  readonly hostRewriteHeader: string | undefined;
  /** Whole-request timeout in ms; 0 disables it. Envoy default 15 s. */
  readonly timeoutMs: number;
  /** Stream idle timeout override in ms (0 disables); undefined = the connection manager's. */
  readonly idleTimeoutMs: number | undefined;
  /** `max_stream_duration.max_stream_duration` in ms. */
  readonly maxStreamDurationMs: number | undefined;
  /**
   * `max_stream_duration.grpc_timeout_header_max`/`_offset`: a gRPC request's `grpc-timeout`
   * header becomes its max stream duration; undefined when `grpc_timeout_header_max` is not set.
   */
  readonly grpcTimeoutHeader: GrpcTimeoutHeader | undefined;
  /** Retry policy (route level, else virtual host level), or undefined for no retries. */
  readonly retryPolicy: RetryPolicyValues | undefined;
  /** Status when the target cluster does not exist (`cluster_not_found_response_code`). */
  readonly clusterNotFoundStatus: number;
  /** Circuit-breaker priority the request uses. */
  readonly priority: 'DEFAULT' | 'HIGH';
  /**
   * Issue 6: send `x-envoy-attempt-count` upstream (the virtual host's
   * `include_request_attempt_count`). (Added by the resilience engineer: the pipeline sets it.)
   */
  readonly attemptCountInRequest: boolean;
  /** Issue 6: send `x-envoy-attempt-count` downstream (`include_attempt_count_in_response`). */
  readonly attemptCountInResponse: boolean;
  /** True when `rewritePath` can change the path (engine then sets `x-envoy-original-path`). */
  readonly hasPathRewrite: boolean;
  /** Per-filter config: route over virtual host over route configuration, by filter name. */
  readonly typedPerFilterConfig: Readonly<Record<string, unknown>>;
  /**
   * True when some level has request (resp. response) header mutations. (Added by proxy-engine:
   * the pipeline builds the format context the mutations need only when there are any.)
   */
  readonly hasRequestMutations: boolean;
  readonly hasResponseMutations: boolean;
  /**
   * `request_mirror_policies`, compiled (empty for none). (Added by proxy-dynamic: the pipeline
   * hands them to proxy/filters/mirror.ts.)
   */
  readonly mirrorPolicies: readonly MirrorPolicy[];
  /**
   * Issue 6: the route's and its virtual host's `rate_limits`, compiled (the local rate limit
   * filter turns them into descriptors, proxy/router/rate-limits.ts).
   */
  readonly rateLimits: RouteRateLimits;
  private readonly core: RouteCore;
  private readonly requestChain: readonly HeaderMutation[];
  private readonly responseChain: readonly HeaderMutation[];

  /** @internal built by {@link compileRouteConfiguration} */
  constructor(
    core: RouteCore,
    requestChain: readonly HeaderMutation[],
    responseChain: readonly HeaderMutation[],
    hostRewrite: string | undefined,
  ) {
    this.core = core;
    this.name = core.name;
    this.virtualHostName = core.virtualHostName;
    this.hostRewrite = hostRewrite;
    this.autoHostRewrite = core.autoHostRewrite;
    this.hostRewriteHeader = core.hostRewriteHeader;
    this.timeoutMs = core.timeoutMs;
    this.idleTimeoutMs = core.idleTimeoutMs;
    this.maxStreamDurationMs = core.maxStreamDurationMs;
    this.grpcTimeoutHeader = core.grpcTimeoutHeader;
    this.retryPolicy = core.retryPolicy;
    this.clusterNotFoundStatus = core.clusterNotFoundStatus;
    this.priority = core.priority;
    this.attemptCountInRequest = core.attemptCountInRequest;
    this.attemptCountInResponse = core.attemptCountInResponse;
    this.hasPathRewrite = core.prefixRewrite !== undefined || core.regexRewrite !== undefined;
    this.typedPerFilterConfig = core.typedPerFilterConfig;
    this.requestChain = requestChain;
    this.responseChain = responseChain;
    this.hasRequestMutations = requestChain.length > 0;
    this.hasResponseMutations = responseChain.length > 0;
    this.mirrorPolicies = core.mirrorPolicies;
    this.rateLimits = core.rateLimits;
  }

  /** Applies request header mutations of every level (most specific first unless configured otherwise). */
  applyRequestHeaders(headers: HeaderList, info?: FormatContext): void {
    applyChain(this.requestChain, headers, info);
  }

  /** Applies response header mutations of every level. */
  applyResponseHeaders(headers: HeaderList, info?: FormatContext): void {
    applyChain(this.responseChain, headers, info);
  }

  /** The path to send upstream: `prefix_rewrite` or `regex_rewrite` applied, query kept. */
  rewritePath(path: string): string {
    const { prefixRewrite, regexRewrite, pathMatch } = this.core;
    if (prefixRewrite === undefined && regexRewrite === undefined) return path;
    const end = pathEnd(path);
    if (regexRewrite !== undefined) {
      return path.slice(0, end).replace(regexRewrite.re, regexRewrite.substitution) + path.slice(end);
    }
    const cut = pathMatch.rewriteLength < 0 ? end : Math.min(pathMatch.rewriteLength, end);
    return (prefixRewrite as string) + path.slice(cut);
  }

  /**
   * The request's hash for RING_HASH / MAGLEV: the route's hash policies evaluated in order,
   * combined like Envoy (`rotl(h,1) ^ next`), stopping after a `terminal` policy that produced a
   * value. A 53-bit number (see upstream/hash.ts), or undefined when no policy produced anything.
   * @param out receives a `set-cookie` when a cookie policy with a ttl generated one
   */
  hashKey(req: RouteRequest, out?: HashKeyOutput): number | undefined {
    const sources = this.core.hashSources;
    if (sources.length === 0) return undefined;
    let any = false;
    hashAcc[0] = 0;
    hashAcc[1] = 0;
    for (const { source, terminal } of sources) {
      if (source(req, out)) {
        combineInto(hashAcc, XXH_OUT[0] as number, XXH_OUT[1] as number);
        any = true;
      }
      if (terminal && any) break;
    }
    return any ? to53(hashAcc[0] as number, hashAcc[1] as number) : undefined;
  }

  /** Whether an upgrade type (lowercase, e.g. `websocket`) is enabled or disabled on this route; undefined = the connection manager decides. */
  upgradeEnabled(type: string): boolean | undefined {
    return this.core.upgrades.get(type);
  }

  /** A CONNECT on this route is terminated here (`connect_config`): answer 200 and splice TCP to a host. */
  get connectTerminate(): boolean {
    return this.core.connectTerminate;
  }
}

type Action = (req: RouteRequest, pathEndIndex: number) => RouteResult;

interface CompiledRouteEntry {
  readonly pathMatch: CompiledPathMatch;
  readonly headers: readonly HeaderPredicate[];
  readonly query: ReadonlyArray<(p: string) => boolean>;
  readonly grpc: boolean;
  readonly connect: boolean;
  readonly runtimeFraction: number | undefined;
  readonly action: Action;
}

interface CompiledVirtualHost {
  readonly name: string;
  readonly routes: readonly CompiledRouteEntry[];
  readonly requireTls: 'NONE' | 'EXTERNAL_ONLY' | 'ALL';
}

const DENOMINATORS: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};

interface Levels {
  readonly rc: RouteConfiguration;
  readonly rcReq: HeaderMutation;
  readonly rcResp: HeaderMutation;
  readonly vh: VirtualHost;
  readonly vhReq: HeaderMutation;
  readonly vhResp: HeaderMutation;
  readonly vhRetry: RetryPolicyValues | undefined;
  /** Issue 6: the virtual host's compiled `rate_limits`. */
  readonly vhRateLimits: readonly RateLimitPolicy[];
  readonly referenced: Set<string>;
}

function routeRateLimits(a: RouteAction | undefined, path: string, lv: Levels): RouteRateLimits {
  const own = compileRateLimits(a?.rate_limits, `${path}.rate_limits`);
  const include = a?.include_vh_rate_limits === true;
  if (own.length === 0 && lv.vhRateLimits.length === 0 && !include) return NO_RATE_LIMITS;
  return { route: own, virtualHost: lv.vhRateLimits, includeVirtualHost: include };
}

/** `levels` come most specific first; Envoy applies them in that order unless the most specific must win. */
function chain(levels: HeaderMutation[], mostSpecificWins: boolean): readonly HeaderMutation[] {
  const nonEmpty = levels.filter((l) => !l.empty);
  return mostSpecificWins ? nonEmpty.reverse() : nonEmpty;
}

function compileRedirect(
  r: RedirectAction,
  path: string,
  pathMatch: CompiledPathMatch,
): (req: RouteRequest, end: number) => string {
  if (r.https_redirect !== undefined && r.scheme_redirect !== undefined) {
    throw invalid(path, 'https_redirect and scheme_redirect cannot both be set', r, 'one of them');
  }
  const rewrites = [r.path_redirect, r.prefix_rewrite, r.regex_rewrite].filter((x) => x !== undefined);
  if (rewrites.length > 1)
    throw invalid(path, 'path_redirect, prefix_rewrite and regex_rewrite are exclusive', r, 'one of them');
  if (
    r.port_redirect !== undefined &&
    !(Number.isInteger(r.port_redirect) && r.port_redirect >= 0 && r.port_redirect <= 65535)
  ) {
    throw invalid(
      `${path}.port_redirect`,
      `port_redirect must be 0..65535, got ${r.port_redirect}`,
      r.port_redirect,
      '0..65535',
    );
  }
  const scheme = r.https_redirect === true ? 'https' : r.scheme_redirect?.toLowerCase();
  const regex =
    r.regex_rewrite === undefined ? undefined : compileRegexRewrite(r.regex_rewrite, `${path}.regex_rewrite`);
  return (req, end) => {
    const finalScheme = scheme ?? req.scheme;
    let host = r.host_redirect ?? req.authority;
    const port = r.port_redirect !== undefined && r.port_redirect !== 0 ? r.port_redirect : undefined;
    if (port !== undefined) {
      host = `${stripHostPort(host)}:${port}`;
    } else if (scheme !== undefined && scheme !== req.scheme) {
      // Changing scheme drops a port that was the default of either scheme, as Envoy does.
      const m = /:(\d+)$/.exec(host);
      if (m !== null && !host.endsWith(']') && (m[1] === '80' || m[1] === '443')) host = stripHostPort(host);
    }
    let pathOnly = req.path.slice(0, end);
    let query = req.path.slice(end);
    if (r.path_redirect !== undefined) {
      const q = r.path_redirect.indexOf('?');
      if (q >= 0) {
        pathOnly = r.path_redirect.slice(0, q);
        query = r.path_redirect.slice(q);
      } else {
        pathOnly = r.path_redirect;
      }
    } else if (r.prefix_rewrite !== undefined) {
      const cut =
        pathMatch.rewriteLength < 0 ? pathOnly.length : Math.min(pathMatch.rewriteLength, pathOnly.length);
      pathOnly = r.prefix_rewrite + pathOnly.slice(cut);
    } else if (regex !== undefined) {
      pathOnly = pathOnly.replace(regex.re, regex.substitution);
    }
    if (r.strip_query === true) query = '';
    return `${finalScheme}://${host}${pathOnly}${query}`;
  };
}

/** Host without its port (`[::1]:80` → `[::1]`, `a.com:80` → `a.com`). */
export function stripHostPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function readBody(body: DataSource, path: string): Buffer {
  let buf: Buffer;
  if (body.inline_string !== undefined) buf = Buffer.from(body.inline_string, 'utf8');
  else if (body.inline_bytes !== undefined) buf = Buffer.from(body.inline_bytes, 'base64');
  else if (body.filename !== undefined) {
    try {
      buf = readFileSync(body.filename);
    } catch (error) {
      throw invalid(
        `${path}.filename`,
        `cannot read ${body.filename}: ${(error as Error).message}`,
        body.filename,
        'a readable file',
      );
    }
  } else if (body.environment_variable !== undefined) {
    const v = process.env[body.environment_variable];
    if (v === undefined)
      throw invalid(
        `${path}.environment_variable`,
        `environment variable ${body.environment_variable} is not set`,
        body.environment_variable,
        'a set variable',
      );
    buf = Buffer.from(v, 'utf8');
  } else {
    throw invalid(path, 'a body needs inline_string, inline_bytes or filename', body, 'one data source');
  }
  if (buf.length > MAX_DIRECT_BODY) {
    throw invalid(
      path,
      `a direct response body may be at most ${MAX_DIRECT_BODY} bytes, got ${buf.length}`,
      buf.length,
      `at most ${MAX_DIRECT_BODY} bytes`,
    );
  }
  return buf;
}

function compileRoute(route: Route, path: string, lv: Levels): CompiledRouteEntry {
  if (route.match === undefined)
    throw invalid(`${path}.match`, 'a route needs a match', undefined, 'a RouteMatch');
  const m = route.match;
  const mp = `${path}.match`;
  if (m.tls_context !== undefined) throw unsupported(`${mp}.tls_context`, 'match.tls_context');
  const pathMatch = compilePathMatch(m, mp);
  const headers = (m.headers ?? []).map((h, i) => compileHeaderMatcher(h, `${mp}.headers[${i}]`));
  const query = (m.query_parameters ?? []).map((q, i) =>
    compileQueryMatcher(q, `${mp}.query_parameters[${i}]`),
  );
  let runtimeFraction: number | undefined;
  if (m.runtime_fraction !== undefined) {
    const d = m.runtime_fraction.default_value;
    const denom = DENOMINATORS[d.denominator ?? 'HUNDRED'] ?? 100;
    runtimeFraction = Math.min(1, (d.numerator ?? 0) / denom);
  }
  const actions = (['route', 'redirect', 'direct_response'] as const).filter((k) => route[k] !== undefined);
  if (actions.length !== 1) {
    throw invalid(
      path,
      `a route needs exactly one of route, redirect, direct_response; got ${actions.length === 0 ? 'none' : actions.join(', ')}`,
      actions,
      'exactly one action',
    );
  }
  const routeReq = new HeaderMutation(
    route.request_headers_to_add,
    route.request_headers_to_remove,
    path,
    'request',
  );
  const routeResp = new HeaderMutation(
    route.response_headers_to_add,
    route.response_headers_to_remove,
    path,
    'response',
  );
  const mostSpecificWins = lv.rc.most_specific_header_mutations_wins === true;
  const a: RouteAction | undefined = route.route;
  const ap = `${path}.route`;
  const timeoutMs = durationMs(a?.timeout, `${ap}.timeout`) ?? DEFAULT_TIMEOUT_MS;
  const upgrades = new Map<string, boolean>();
  let connectTerminate = false;
  (a?.upgrade_configs ?? []).forEach((u, i) => {
    const type = u.upgrade_type.toLowerCase();
    upgrades.set(type, u.enabled !== false);
    if (u.connect_config === undefined) return;
    if (type !== 'connect')
      throw invalid(
        `${ap}.upgrade_configs[${i}].connect_config`,
        'connect_config applies only to upgrade_type CONNECT',
        u.upgrade_type,
        'CONNECT',
      );
    connectTerminate = true;
  });
  if (
    m.connect_matcher !== undefined &&
    a !== undefined &&
    !connectTerminate &&
    upgrades.get('connect') !== false
  ) {
    // Without connect_config Envoy forwards the CONNECT request upstream as it came; the bundled
    // proxy only terminates tunnels, so that configuration stops start-up rather than misbehave.
    throw unsupported(
      `${ap}.upgrade_configs`,
      'forwarding CONNECT upstream (a connect_matcher route without upgrade_configs [{upgrade_type: CONNECT, connect_config: {}}])',
    );
  }
  const nf = a?.cluster_not_found_response_code ?? 'SERVICE_UNAVAILABLE';
  const core: RouteCore = {
    name: route.name,
    virtualHostName: lv.vh.name,
    pathMatch,
    prefixRewrite: a?.prefix_rewrite,
    regexRewrite:
      a?.regex_rewrite === undefined
        ? undefined
        : compileRegexRewrite(a.regex_rewrite, `${ap}.regex_rewrite`),
    timeoutMs,
    idleTimeoutMs: durationMs(a?.idle_timeout, `${ap}.idle_timeout`),
    maxStreamDurationMs: durationMs(
      a?.max_stream_duration?.max_stream_duration,
      `${ap}.max_stream_duration.max_stream_duration`,
    ),
    grpcTimeoutHeader:
      a?.max_stream_duration?.grpc_timeout_header_max === undefined
        ? undefined
        : {
            maxMs:
              durationMs(
                a.max_stream_duration.grpc_timeout_header_max,
                `${ap}.max_stream_duration.grpc_timeout_header_max`,
              ) ?? 0,
            offsetMs:
              durationMs(
                a.max_stream_duration.grpc_timeout_header_offset,
                `${ap}.max_stream_duration.grpc_timeout_header_offset`,
              ) ?? 0,
          },
    retryPolicy:
      a?.retry_policy !== undefined ? compileRetryPolicy(a.retry_policy, `${ap}.retry_policy`) : lv.vhRetry,
    hashSources: (a?.hash_policy ?? []).map((h, i) => ({
      source: compileHashSource(h, `${ap}.hash_policy[${i}]`),
      terminal: h.terminal === true,
    })),
    clusterNotFoundStatus: NOT_FOUND_CODES[nf] ?? 503,
    priority: a?.priority ?? 'DEFAULT',
    attemptCountInRequest: lv.vh.include_request_attempt_count === true,
    attemptCountInResponse: lv.vh.include_attempt_count_in_response === true,
    upgrades,
    connectTerminate,
    autoHostRewrite: a?.auto_host_rewrite === true,
    hostRewriteHeader: a?.host_rewrite_header?.toLowerCase(),
    typedPerFilterConfig: {
      ...(lv.rc.typed_per_filter_config ?? {}),
      ...(lv.vh.typed_per_filter_config ?? {}),
      ...(route.typed_per_filter_config ?? {}),
    },
    // Issue 6: only forwarding routes produce descriptors (Envoy: routes with a route entry).
    rateLimits: routeRateLimits(a, ap, lv),
    // proxy-dynamic: mirrors; runtime_fraction absent means every request, as in Envoy.
    mirrorPolicies: (a?.request_mirror_policies ?? []).map((m, i) => ({
      cluster: m.cluster,
      fraction: fractionOf(
        m.runtime_fraction?.default_value,
        1,
        `${ap}.request_mirror_policies[${i}].runtime_fraction.default_value`,
      ),
    })),
  };
  if (a !== undefined) {
    const hostRewrites = [
      a.host_rewrite_literal,
      a.auto_host_rewrite === true ? true : undefined,
      a.host_rewrite_header,
    ].filter((x) => x !== undefined);
    if (hostRewrites.length > 1)
      throw invalid(
        ap,
        'host_rewrite_literal, auto_host_rewrite and host_rewrite_header are exclusive',
        a,
        'one of them',
      );
    if (a.prefix_rewrite !== undefined && a.regex_rewrite !== undefined) {
      throw invalid(ap, 'prefix_rewrite and regex_rewrite are exclusive', a, 'one of them');
    }
    if (a.prefix_rewrite !== undefined && pathMatch.kind === 'connect') {
      throw invalid(
        `${ap}.prefix_rewrite`,
        'prefix_rewrite cannot be used with a CONNECT match',
        a.prefix_rewrite,
      );
    }
  }
  const makeRoute = (
    extraReq: HeaderMutation[],
    extraResp: HeaderMutation[],
    hostRewrite: string | undefined,
  ): CompiledRoute =>
    new CompiledRoute(
      core,
      chain([...extraReq, routeReq, lv.vhReq, lv.rcReq], mostSpecificWins),
      chain([...extraResp, routeResp, lv.vhResp, lv.rcResp], mostSpecificWins),
      hostRewrite,
    );

  let action: Action;
  if (route.direct_response !== undefined) {
    const d = route.direct_response;
    const dp = `${path}.direct_response`;
    if (!(Number.isInteger(d.status) && d.status >= 200 && d.status < 600)) {
      throw invalid(
        `${dp}.status`,
        `status must be an integer from 200 to 599, got ${d.status}`,
        d.status,
        '200..599',
      );
    }
    const body = d.body === undefined ? undefined : readBody(d.body, `${dp}.body`);
    const compiled = makeRoute([], [], undefined);
    action = () => {
      const headers: HeaderList =
        body === undefined || body.length === 0 ? [] : ['content-type', 'text/plain'];
      return {
        kind: 'direct',
        status: d.status,
        ...(body === undefined ? {} : { body }),
        headers,
        route: compiled,
      };
    };
  } else if (route.redirect !== undefined) {
    const rp = `${path}.redirect`;
    const r = route.redirect;
    const status = REDIRECT_CODES[r.response_code ?? 'MOVED_PERMANENTLY'];
    if (status === undefined) {
      throw invalid(
        `${rp}.response_code`,
        `unknown response_code ${JSON.stringify(r.response_code)}`,
        r.response_code,
        Object.keys(REDIRECT_CODES).join(', '),
      );
    }
    const location = compileRedirect(r, rp, pathMatch);
    const compiled = makeRoute([], [], undefined);
    action = (req, end) => ({ kind: 'redirect', status, location: location(req, end), route: compiled });
  } else {
    const ra = a as RouteAction;
    const targets = (['cluster', 'cluster_header', 'weighted_clusters'] as const).filter(
      (k) => ra[k] !== undefined,
    );
    if (targets.length !== 1) {
      throw invalid(
        ap,
        `a route action needs exactly one of cluster, cluster_header, weighted_clusters; got ${targets.length === 0 ? 'none' : targets.join(', ')}`,
        targets,
        'exactly one target',
      );
    }
    if (ra.cluster !== undefined) {
      if (ra.cluster === '')
        throw invalid(`${ap}.cluster`, 'cluster must not be empty', ra.cluster, 'a cluster name');
      lv.referenced.add(ra.cluster);
      const result: RouteResult = Object.freeze({
        kind: 'cluster',
        clusterName: ra.cluster,
        route: makeRoute([], [], ra.host_rewrite_literal),
      });
      action = () => result;
    } else if (ra.cluster_header !== undefined) {
      const header = ra.cluster_header.toLowerCase();
      const compiled = makeRoute([], [], ra.host_rewrite_literal);
      // A missing header routes to cluster '' which no cluster has: the engine answers with
      // clusterNotFoundStatus, as Envoy does.
      action = (req) => ({
        kind: 'cluster',
        clusterName: headerForMatch(req, header) ?? '',
        route: compiled,
      });
    } else {
      const wc = ra.weighted_clusters as NonNullable<RouteAction['weighted_clusters']>;
      const wp = `${ap}.weighted_clusters`;
      if (wc.clusters.length === 0)
        throw invalid(
          `${wp}.clusters`,
          'weighted_clusters needs at least one cluster',
          [],
          'one or more clusters',
        );
      const cumulative: number[] = [];
      const results: RouteResult[] = [];
      let total = 0;
      wc.clusters.forEach((c, i) => {
        const cp = `${wp}.clusters[${i}]`;
        const w = c.weight ?? 0;
        if (!(Number.isInteger(w) && w >= 0))
          throw invalid(
            `${cp}.weight`,
            `weight must be a non-negative integer, got ${w}`,
            w,
            'an integer >= 0',
          );
        if (typeof c.name !== 'string' || c.name === '')
          throw invalid(`${cp}.name`, 'a weighted cluster needs a name', c.name, 'a cluster name');
        lv.referenced.add(c.name);
        total += w;
        cumulative.push(total);
        const req = new HeaderMutation(c.request_headers_to_add, c.request_headers_to_remove, cp, 'request');
        const resp = new HeaderMutation(
          c.response_headers_to_add,
          c.response_headers_to_remove,
          cp,
          'response',
        );
        results.push(
          Object.freeze({
            kind: 'cluster',
            clusterName: c.name,
            route: makeRoute([req], [resp], c.host_rewrite_literal ?? ra.host_rewrite_literal),
          }),
        );
      });
      if (total === 0)
        throw invalid(
          `${wp}.clusters`,
          'the weights of weighted_clusters must add up to more than 0',
          0,
          'a positive sum',
        );
      if (wc.total_weight !== undefined && wc.total_weight !== total) {
        throw invalid(
          `${wp}.total_weight`,
          `total_weight is ${wc.total_weight} but the weights add up to ${total}`,
          wc.total_weight,
          String(total),
        );
      }
      action = () => {
        const pick = Math.random() * total;
        for (let i = 0; i < cumulative.length; i++) {
          if (pick < (cumulative[i] as number)) return results[i] as RouteResult;
        }
        return results[results.length - 1] as RouteResult;
      };
    }
  }
  return {
    pathMatch,
    headers,
    query,
    grpc: m.grpc !== undefined,
    connect: m.connect_matcher !== undefined,
    runtimeFraction,
    action,
  };
}

/* ------------------------------------------------------------------------------------------------
 * Virtual hosts
 * --------------------------------------------------------------------------------------------- */

interface DomainIndex {
  readonly exact: Map<string, CompiledVirtualHost>;
  /** `*.example.com` stored as `.example.com`, longest first. */
  readonly suffixes: Array<[string, CompiledVirtualHost]>;
  /** `example.*` stored as `example.`, longest first. */
  readonly prefixes: Array<[string, CompiledVirtualHost]>;
  defaultHost: CompiledVirtualHost | undefined;
}

/** The compiled routing table of one RouteConfiguration. */
export class RouteTable {
  /** The RouteConfiguration's name. */
  readonly name: string | undefined;
  /** Every cluster a route can send to (for validating against the cluster manager). */
  readonly referencedClusters: ReadonlySet<string>;
  private readonly index: DomainIndex;
  private readonly stripPort: 'any' | number | undefined;

  /** @internal use {@link compileRouteConfiguration} */
  constructor(
    name: string | undefined,
    index: DomainIndex,
    referenced: ReadonlySet<string>,
    stripPort: 'any' | number | undefined,
  ) {
    this.name = name;
    this.index = index;
    this.referencedClusters = referenced;
    this.stripPort = stripPort;
  }

  /**
   * Picks the virtual host for a host header: exact, then the longest suffix wildcard, then the
   * longest prefix wildcard, then `*`. Wildcards must match at least one character.
   */
  virtualHostFor(authority: string): string | undefined {
    return this.findHost(authority)?.name;
  }

  private findHost(authority: string): CompiledVirtualHost | undefined {
    let host = authority.toLowerCase();
    if (this.stripPort !== undefined) {
      const bare = stripHostPort(host);
      if (bare !== host && (this.stripPort === 'any' || host.endsWith(`:${this.stripPort}`))) host = bare;
    }
    const idx = this.index;
    const exact = idx.exact.get(host);
    if (exact !== undefined) return exact;
    for (const [suffix, vh] of idx.suffixes) {
      if (host.length > suffix.length && host.endsWith(suffix)) return vh;
    }
    for (const [prefix, vh] of idx.prefixes) {
      if (host.length > prefix.length && host.startsWith(prefix)) return vh;
    }
    return idx.defaultHost;
  }

  /** Routes one request: the first matching route of the selected virtual host, else `none`. */
  route(req: RouteRequest): RouteResult {
    const vh = this.findHost(req.authority);
    if (vh === undefined) return NONE;
    const path = req.path;
    const end = pathEnd(path);
    if (
      req.scheme !== 'https' &&
      (vh.requireTls === 'ALL' || (vh.requireTls === 'EXTERNAL_ONLY' && !isInternal(req.headers)))
    ) {
      return {
        kind: 'redirect',
        status: 301,
        location: `https://${req.authority}${path}`,
        route: TLS_REDIRECT_ROUTE,
      };
    }
    outer: for (const r of vh.routes) {
      if (!r.pathMatch.matches(path, end)) continue;
      if (r.connect !== (req.method === 'CONNECT')) continue;
      if (r.grpc) {
        const ct = headerForMatch(req, 'content-type');
        if (ct === undefined || !ct.startsWith('application/grpc')) continue;
      }
      for (const h of r.headers) if (!h(req)) continue outer;
      for (const q of r.query) if (!q(path)) continue outer;
      if (r.runtimeFraction !== undefined && !(Math.random() < r.runtimeFraction)) continue;
      return r.action(req, end);
    }
    return NONE;
  }
}

function isInternal(headers: HeaderList): boolean {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i] === 'x-envoy-internal') return headers[i + 1] === 'true';
  return false;
}

const TLS_REDIRECT_ROUTE = new CompiledRoute(
  {
    name: undefined,
    virtualHostName: '',
    pathMatch: { kind: 'prefix', rewriteLength: 0, matches: () => true },
    prefixRewrite: undefined,
    regexRewrite: undefined,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    idleTimeoutMs: undefined,
    maxStreamDurationMs: undefined,
    grpcTimeoutHeader: undefined,
    retryPolicy: undefined,
    hashSources: [],
    clusterNotFoundStatus: 503,
    priority: 'DEFAULT',
    attemptCountInRequest: false,
    attemptCountInResponse: false,
    upgrades: new Map(),
    connectTerminate: false,
    autoHostRewrite: false,
    hostRewriteHeader: undefined,
    typedPerFilterConfig: {},
    mirrorPolicies: [],
    rateLimits: NO_RATE_LIMITS,
  },
  [],
  [],
  undefined,
);

const CONTROL = /[\0-\x1f\x7f]/;

/**
 * Compiles a RouteConfiguration. Every problem is reported as a {@link MeshError} whose path
 * starts with `options.path`; nothing is half-built.
 */
export function compileRouteConfiguration(
  rc: RouteConfiguration,
  options: CompileRouteOptions = {},
): RouteTable {
  const base = options.path ?? 'route_config';
  const referenced = new Set<string>();
  const index: DomainIndex = { exact: new Map(), suffixes: [], prefixes: [], defaultHost: undefined };
  const rcReq = new HeaderMutation(rc.request_headers_to_add, rc.request_headers_to_remove, base, 'request');
  const rcResp = new HeaderMutation(
    rc.response_headers_to_add,
    rc.response_headers_to_remove,
    base,
    'response',
  );
  if (rc.internal_only_headers !== undefined && rc.internal_only_headers.length > 0) {
    throw unsupported(`${base}.internal_only_headers`, 'internal_only_headers');
  }
  const seen = new Map<string, string>();
  const vhostNames = new Set<string>();
  (rc.virtual_hosts ?? []).forEach((vh, vi) => {
    const vp = `${base}.virtual_hosts[${vi}]`;
    if (typeof vh.name !== 'string' || vh.name === '')
      throw invalid(`${vp}.name`, 'a virtual host needs a name', vh.name, 'a non-empty name');
    if (vhostNames.has(vh.name))
      throw invalid(
        `${vp}.name`,
        `virtual host name ${JSON.stringify(vh.name)} is used twice`,
        vh.name,
        'unique names',
      );
    vhostNames.add(vh.name);
    if (vh.hedge_policy !== undefined) throw unsupported(`${vp}.hedge_policy`, 'virtual_hosts.hedge_policy');
    if (!Array.isArray(vh.domains) || vh.domains.length === 0) {
      throw invalid(
        `${vp}.domains`,
        'a virtual host needs at least one domain',
        vh.domains,
        'e.g. ["*"] or ["example.com"]',
      );
    }
    const lv: Levels = {
      rc,
      rcReq,
      rcResp,
      vh,
      vhReq: new HeaderMutation(vh.request_headers_to_add, vh.request_headers_to_remove, vp, 'request'),
      vhResp: new HeaderMutation(vh.response_headers_to_add, vh.response_headers_to_remove, vp, 'response'),
      vhRetry:
        vh.retry_policy === undefined ? undefined : compileRetryPolicy(vh.retry_policy, `${vp}.retry_policy`),
      vhRateLimits: compileRateLimits(vh.rate_limits, `${vp}.rate_limits`),
      referenced,
    };
    const compiled: CompiledVirtualHost = {
      name: vh.name,
      requireTls: vh.require_tls ?? 'NONE',
      routes: (vh.routes ?? []).map((r, ri) => compileRoute(r, `${vp}.routes[${ri}]`, lv)),
    };
    vh.domains.forEach((raw, di) => {
      const dp = `${vp}.domains[${di}]`;
      if (typeof raw !== 'string' || raw === '' || CONTROL.test(raw)) {
        throw invalid(
          dp,
          'a domain must be a non-empty string without control characters',
          raw,
          'e.g. example.com, *.example.com, example.*, *',
        );
      }
      const d = raw.toLowerCase();
      const prior = seen.get(d);
      if (prior !== undefined) {
        throw invalid(
          dp,
          `domain ${JSON.stringify(raw)} is already used by ${prior}; domains must be unique across virtual hosts`,
          raw,
          'unique domains',
        );
      }
      seen.set(d, vh.name);
      if (d === '*') index.defaultHost = compiled;
      else if (d.startsWith('*')) index.suffixes.push([d.slice(1), compiled]);
      else if (d.endsWith('*')) index.prefixes.push([d.slice(0, -1), compiled]);
      else index.exact.set(d, compiled);
    });
  });
  // Longest wildcard first; ties keep config order (stable sort).
  index.suffixes.sort((a, b) => b[0].length - a[0].length);
  index.prefixes.sort((a, b) => b[0].length - a[0].length);
  return new RouteTable(rc.name, index, referenced, options.stripPort);
}
