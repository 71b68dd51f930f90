/**
 * Route and virtual host `rate_limits` (issue 6): each entry's actions turn a request into one
 * rate-limit descriptor, which `envoy.filters.http.local_ratelimit` matches against its own
 * `descriptors` (proxy/filters/local-ratelimit.ts). Semantics follow Envoy's router_ratelimit.cc:
 *
 * - An entry applies only to filters of its `stage`; an entry with a `disable_key` is skipped (the
 *   bundled proxy has no runtime, and Envoy skips such entries in the local rate limit filter).
 * - Actions run in order, each adding one entry (`key`, `value`). An action that cannot produce
 *   its entry drops the whole descriptor (`request_headers` with the header absent, a
 *   `header_value_match` whose result is not `expect_match`...), except `request_headers` with
 *   `skip_if_absent`, which only leaves its entry out. A descriptor with no entry is dropped.
 * - Entry keys: `source_cluster`, `destination_cluster`, `remote_address`, `masked_remote_address`,
 *   `generic_key` / `header_match` / `query_match` unless `descriptor_key` names another.
 *
 * A descriptor is produced as one string (`key NUL value SOH` per entry), the form the filter
 * indexes its configured descriptors by, so matching is one map lookup.
 */
import { isIP } from 'node:net';
import { MeshError } from '../../errors/index.js';
import type { RateLimit, RateLimitAction } from '../config/envoy.js';
import {
  compileHeaderMatcher,
  compileQueryMatcher,
  type HeaderPredicate,
  headerForMatch,
  type MatchInput,
} from './matchers.js';

/** What the actions read of a request. */
export interface RateLimitInput {
  /** The routed request (headers, path with query). */
  readonly request: MatchInput & { readonly sourceAddress: string };
  /** The cluster the route picked (`destination_cluster`). */
  readonly clusterName: string | undefined;
  /** The proxy's own cluster, `node.cluster` (`source_cluster`). */
  readonly localCluster: string;
}

/** How the virtual host's rate_limits combine with the route's (`vh_rate_limits`). */
export type VhRateLimits = 'OVERRIDE' | 'INCLUDE' | 'IGNORE';

/** One action: appends its entry to `out` and returns it, or returns undefined to drop the descriptor. */
type Producer = (input: RateLimitInput, out: string) => string | undefined;

/** Separators of the descriptor key: neither may appear in a header value. */
const KV = '\u0000';
const END = '\u0001';

/** The map key of a descriptor given as entries (the filter indexes its `descriptors` by it). */
export function descriptorKey(entries: readonly { readonly key: string; readonly value: string }[]): string {
  let out = '';
  for (const e of entries) out += `${e.key}${KV}${e.value}${END}`;
  return out;
}

/** A compiled `rate_limits` entry. */
export class RateLimitPolicy {
  constructor(
    /** The entry's `stage`. */
    readonly stage: number,
    private readonly producers: readonly Producer[],
  ) {}

  /** This entry's descriptor for a request (see {@link descriptorKey}), or undefined when it has none. */
  descriptor(input: RateLimitInput): string | undefined {
    let out = '';
    for (const p of this.producers) {
      const next = p(input, out);
      if (next === undefined) return undefined;
      out = next;
    }
    return out === '' ? undefined : out;
  }
}

/** A route's compiled rate limits (its own and its virtual host's). */
export interface RouteRateLimits {
  readonly route: readonly RateLimitPolicy[];
  readonly virtualHost: readonly RateLimitPolicy[];
  /** The deprecated `include_vh_rate_limits`: wins over the filter's `vh_rate_limits`. */
  readonly includeVirtualHost: boolean;
}

/** No rate limits at all (most routes). */
export const NO_RATE_LIMITS: RouteRateLimits = Object.freeze({
  route: [],
  virtualHost: [],
  includeVirtualHost: false,
});

/**
 * Appends to `out` the descriptors of every applicable entry for a filter of `stage`, as Envoy's
 * local rate limit filter gathers them: the route's entries, then the virtual host's when
 * `vhRateLimits` is INCLUDE, or OVERRIDE and the route has no entries of its own.
 */
export function collectDescriptors(
  limits: RouteRateLimits,
  stage: number,
  vhRateLimits: VhRateLimits,
  input: RateLimitInput,
  out: string[],
): void {
  addFrom(limits.route, stage, input, out);
  const mode = limits.includeVirtualHost ? 'INCLUDE' : vhRateLimits;
  if (mode === 'INCLUDE' || (mode === 'OVERRIDE' && limits.route.length === 0))
    addFrom(limits.virtualHost, stage, input, out);
}

function addFrom(
  policies: readonly RateLimitPolicy[],
  stage: number,
  input: RateLimitInput,
  out: string[],
): void {
  for (const p of policies) {
    if (p.stage !== stage) continue;
    const d = p.descriptor(input);
    if (d !== undefined) out.push(d);
  }
}

function invalid(path: string, message: string, value?: unknown, allowed?: string): MeshError {
  return new MeshError('PROXY_E_INVALID', message, {
    path,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}

const ACTIONS = [
  'source_cluster',
  'destination_cluster',
  'request_headers',
  'remote_address',
  'masked_remote_address',
  'generic_key',
  'header_value_match',
  'query_parameter_value_match',
  'dynamic_metadata',
  'metadata',
  'extension',
] as const;

/**
 * Compiles a `rate_limits` list. Entries with a `disable_key` are left out (see the module doc).
 * @throws MeshError naming the field at fault
 */
export function compileRateLimits(list: readonly RateLimit[] | undefined, path: string): RateLimitPolicy[] {
  const out: RateLimitPolicy[] = [];
  (list ?? []).forEach((rl, i) => {
    const p = `${path}[${i}]`;
    const stage = rl.stage ?? 0;
    if (!(Number.isInteger(stage) && stage >= 0 && stage <= 10))
      throw invalid(`${p}.stage`, `stage must be 0..10, got ${stage}`, stage, '0..10');
    if (rl.limit !== undefined)
      throw new MeshError('PROXY_E_UNSUPPORTED', 'rate_limits limit overrides are not supported', {
        path: `${p}.limit`,
        allowed: 'leave limit out: the local rate limit filter does not read it',
      });
    if (!Array.isArray(rl.actions) || rl.actions.length === 0)
      throw invalid(
        `${p}.actions`,
        'a rate limit needs at least one action',
        rl.actions,
        'one or more actions',
      );
    const producers = rl.actions.map((a, j) => compileAction(a, `${p}.actions[${j}]`));
    if (rl.disable_key !== undefined && rl.disable_key !== '') return;
    out.push(new RateLimitPolicy(stage, producers));
  });
  return out;
}

function entry(out: string, key: string, value: string): string {
  return `${out}${key}${KV}${value}${END}`;
}

function compileAction(a: RateLimitAction, path: string): Producer {
  const set = ACTIONS.filter((k) => a[k] !== undefined);
  if (set.length !== 1) {
    throw invalid(
      path,
      `a rate limit action needs exactly one action; got ${set.length === 0 ? 'none' : set.join(', ')}`,
      set,
      'one of source_cluster, destination_cluster, request_headers, remote_address, masked_remote_address, generic_key, header_value_match, query_parameter_value_match',
    );
  }
  const kind = set[0] as (typeof ACTIONS)[number];
  switch (kind) {
    case 'source_cluster':
      return (input, out) => entry(out, 'source_cluster', input.localCluster);
    case 'destination_cluster':
      return (input, out) =>
        input.clusterName === undefined ? undefined : entry(out, 'destination_cluster', input.clusterName);
    case 'request_headers': {
      const rh = a.request_headers as NonNullable<RateLimitAction['request_headers']>;
      if (typeof rh.header_name !== 'string' || rh.header_name === '')
        throw invalid(
          `${path}.request_headers.header_name`,
          'header_name is required',
          rh.header_name,
          'a header name',
        );
      if (typeof rh.descriptor_key !== 'string' || rh.descriptor_key === '')
        throw invalid(
          `${path}.request_headers.descriptor_key`,
          'descriptor_key is required',
          rh.descriptor_key,
          'a non-empty key',
        );
      const name = rh.header_name.toLowerCase();
      const key = rh.descriptor_key;
      const skip = rh.skip_if_absent === true;
      return (input, out) => {
        // Envoy reads the first value of the header (pseudo-headers included).
        const v = firstHeader(input.request, name);
        if (v === undefined) return skip ? out : undefined;
        return entry(out, key, v);
      };
    }
    case 'remote_address':
      return (input, out) => {
        const ip = ipOf(input.request.sourceAddress);
        return ip === '' ? undefined : entry(out, 'remote_address', ip);
      };
    case 'masked_remote_address': {
      const m = a.masked_remote_address as NonNullable<RateLimitAction['masked_remote_address']>;
      const v4 = m.v4_prefix_mask_len ?? 32;
      const v6 = m.v6_prefix_mask_len ?? 128;
      if (!(Number.isInteger(v4) && v4 >= 0 && v4 <= 32))
        throw invalid(`${path}.masked_remote_address.v4_prefix_mask_len`, 'must be 0..32', v4, '0..32');
      if (!(Number.isInteger(v6) && v6 >= 0 && v6 <= 128))
        throw invalid(`${path}.masked_remote_address.v6_prefix_mask_len`, 'must be 0..128', v6, '0..128');
      return (input, out) => {
        const cidr = maskedAddress(ipOf(input.request.sourceAddress), v4, v6);
        return cidr === undefined ? undefined : entry(out, 'masked_remote_address', cidr);
      };
    }
    case 'generic_key': {
      const g = a.generic_key as NonNullable<RateLimitAction['generic_key']>;
      if (typeof g.descriptor_value !== 'string' || g.descriptor_value === '')
        throw invalid(
          `${path}.generic_key.descriptor_value`,
          'descriptor_value is required',
          g.descriptor_value,
          'a non-empty value',
        );
      const key =
        g.descriptor_key === undefined || g.descriptor_key === '' ? 'generic_key' : g.descriptor_key;
      const value = g.descriptor_value;
      return (_input, out) => entry(out, key, value);
    }
    case 'header_value_match': {
      const h = a.header_value_match as NonNullable<RateLimitAction['header_value_match']>;
      const hp = `${path}.header_value_match`;
      const value = requiredValue(h.descriptor_value, `${hp}.descriptor_value`);
      if (!Array.isArray(h.headers) || h.headers.length === 0)
        throw invalid(
          `${hp}.headers`,
          'header_value_match needs at least one header matcher',
          h.headers,
          'one or more',
        );
      const matchers: HeaderPredicate[] = h.headers.map((m, k) =>
        compileHeaderMatcher(m, `${hp}.headers[${k}]`),
      );
      const expect = h.expect_match !== false;
      const key =
        h.descriptor_key === undefined || h.descriptor_key === '' ? 'header_match' : h.descriptor_key;
      return (input, out) => {
        let all = true;
        for (const m of matchers) {
          if (!m(input.request)) {
            all = false;
            break;
          }
        }
        return all === expect ? entry(out, key, value) : undefined;
      };
    }
    case 'query_parameter_value_match': {
      const q = a.query_parameter_value_match as NonNullable<RateLimitAction['query_parameter_value_match']>;
      const qp = `${path}.query_parameter_value_match`;
      const value = requiredValue(q.descriptor_value, `${qp}.descriptor_value`);
      if (!Array.isArray(q.query_parameters) || q.query_parameters.length === 0)
        throw invalid(
          `${qp}.query_parameters`,
          'query_parameter_value_match needs at least one query parameter matcher',
          q.query_parameters,
          'one or more',
        );
      const matchers = q.query_parameters.map((m, k) =>
        compileQueryMatcher(m, `${qp}.query_parameters[${k}]`),
      );
      const expect = q.expect_match !== false;
      const key =
        q.descriptor_key === undefined || q.descriptor_key === '' ? 'query_match' : q.descriptor_key;
      return (input, out) => {
        let all = true;
        for (const m of matchers) {
          if (!m(input.request.path)) {
            all = false;
            break;
          }
        }
        return all === expect ? entry(out, key, value) : undefined;
      };
    }
    default:
      throw new MeshError('PROXY_E_UNSUPPORTED', `the rate limit action ${kind} is not supported`, {
        path: `${path}.${kind}`,
        allowed:
          'source_cluster, destination_cluster, request_headers, remote_address, masked_remote_address, generic_key, header_value_match, query_parameter_value_match',
      });
  }
}

function requiredValue(v: string | undefined, path: string): string {
  if (typeof v !== 'string' || v === '')
    throw invalid(path, 'descriptor_value is required', v, 'a non-empty value');
  return v;
}

/** The first value of a header (`:authority`, `:path`, `:method` included), as Envoy reads it. */
function firstHeader(req: MatchInput, name: string): string | undefined {
  if (name.startsWith(':') || name === 'host') return headerForMatch(req, name);
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1] as string;
  return undefined;
}

/** The IP of `ip`, `ip:port` or `[ip]:port`. */
function ipOf(address: string): string {
  let ip = address;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    ip = end < 0 ? address : address.slice(1, end);
  } else {
    const colon = address.indexOf(':');
    if (colon >= 0 && colon === address.lastIndexOf(':')) ip = address.slice(0, colon);
  }
  // A Unix socket peer (its address is a path) has no IP: Envoy then produces no descriptor.
  return isIP(ip) === 0 ? '' : ip;
}

/** `ip/len` with the host bits cleared, as Envoy's CidrRange prints it; undefined for a non-IP. */
export function maskedAddress(ip: string, v4Len: number, v6Len: number): string | undefined {
  const v4 = parseV4(ip);
  if (v4 !== undefined) {
    const mask = v4Len === 0 ? 0 : (0xffffffff << (32 - v4Len)) >>> 0;
    const n = (v4 & mask) >>> 0;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${v4Len}`;
  }
  const v6 = parseV6(ip);
  if (v6 === undefined) return undefined;
  for (let g = 0; g < 8; g++) {
    const keep = Math.max(0, Math.min(16, v6Len - g * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    v6[g] = (v6[g] as number) & mask;
  }
  return `${formatV6(v6)}/${v6Len}`;
}

function parseV4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function parseV6(ip: string): number[] | undefined {
  const pct = ip.indexOf('%');
  const s = pct < 0 ? ip : ip.slice(0, pct);
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (const [i, item] of items.entries()) {
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseV4(item);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) out.push(Number.parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/** RFC 5952 text form: lowercase, the longest run of two or more zero groups as `::`. */
function formatV6(g: readonly number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
