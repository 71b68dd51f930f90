/**
 * Envoy's access log filters (`access_log[].filter`, `envoy.config.accesslog.v3.AccessLogFilter`),
 * compiled to predicates over a finished request: status code and duration comparisons, response
 * flags, request headers, not-health-check, runtime sampling (its default percentage: there is no
 * runtime), and `and`/`or` combinations. Anything else is a start-up error naming the field.
 */
import { MeshError } from '../../errors/index.js';
import type { HeaderMatcher } from '../config/envoy.js';
import { compileHeaderMatcher } from '../router/matchers.js';
import { FLAG_BITS } from './flags.js';
import type { FormatContext } from './substitution.js';

/** A compiled filter: true when the request should be logged. */
export type LogFilter = (ctx: FormatContext) => boolean;

interface Comparison {
  readonly op?: 'EQ' | 'GE' | 'LE' | 'NE';
  readonly value?: { readonly default_value?: number; readonly runtime_key?: string };
}

function invalid(path: string, message: string, value?: unknown): MeshError {
  return new MeshError('PROXY_E_INVALID', message, { path, ...(value === undefined ? {} : { value }) });
}

function compare(c: Comparison | undefined, path: string): (n: number) => boolean {
  if (c === undefined) throw invalid(path, 'a comparison is required', c);
  const v = c.value?.default_value ?? 0;
  switch (c.op ?? 'EQ') {
    case 'EQ':
      return (n) => n === v;
    case 'GE':
      return (n) => n >= v;
    case 'LE':
      return (n) => n <= v;
    case 'NE':
      return (n) => n !== v;
    default:
      throw invalid(`${path}.op`, `unknown comparison ${String(c.op)}`, c.op);
  }
}

const DENOMINATORS: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};

const KINDS = [
  'status_code_filter',
  'duration_filter',
  'not_health_check_filter',
  'traceable_filter',
  'runtime_filter',
  'and_filter',
  'or_filter',
  'header_filter',
  'response_flag_filter',
  'grpc_status_filter',
  'metadata_filter',
  'log_type_filter',
  'extension_filter',
] as const;

/**
 * Compiles one AccessLogFilter (canonical proto3 JSON).
 * @param random source for runtime_filter sampling
 */
export function compileLogFilter(
  filter: unknown,
  path: string,
  random: () => number = Math.random,
): LogFilter {
  if (filter === null || typeof filter !== 'object')
    throw invalid(path, 'a filter must be an object', filter);
  const f = filter as Record<string, unknown>;
  const set = KINDS.filter((k) => f[k] !== undefined);
  if (set.length !== 1) {
    throw invalid(
      path,
      `an access log filter needs exactly one kind; got ${set.length === 0 ? 'none' : set.join(', ')}`,
      Object.keys(f),
    );
  }
  const kind = set[0] as (typeof KINDS)[number];
  const body = f[kind] as Record<string, unknown>;
  const p = `${path}.${kind}`;
  switch (kind) {
    case 'status_code_filter': {
      const test = compare(body.comparison as Comparison | undefined, `${p}.comparison`);
      return (ctx) => test(ctx.responseCode ?? 0);
    }
    case 'duration_filter': {
      const test = compare(body.comparison as Comparison | undefined, `${p}.comparison`);
      return (ctx) => test(Math.floor(ctx.durationMs ?? 0));
    }
    case 'not_health_check_filter':
      // Only Envoy's health_check HTTP filter marks requests as health checks; the bundled proxy
      // has none, so no request is one.
      return () => true;
    case 'runtime_filter': {
      const pct = body.percent_sampled as { numerator?: number; denominator?: string } | undefined;
      const share =
        pct === undefined ? 0 : (pct.numerator ?? 0) / (DENOMINATORS[pct.denominator ?? 'HUNDRED'] ?? 100);
      return () => random() < share;
    }
    case 'and_filter':
    case 'or_filter': {
      const list = (body.filters as unknown[] | undefined) ?? [];
      if (list.length < 2) throw invalid(`${p}.filters`, `${kind} needs at least two filters`, list.length);
      const parts = list.map((x, i) => compileLogFilter(x, `${p}.filters[${i}]`, random));
      return kind === 'and_filter' ? (ctx) => parts.every((t) => t(ctx)) : (ctx) => parts.some((t) => t(ctx));
    }
    case 'header_filter': {
      const m = compileHeaderMatcher(body.header as HeaderMatcher, `${p}.header`);
      return (ctx) =>
        m({
          authority: ctx.authority ?? '',
          path: ctx.path ?? '',
          method: ctx.method ?? '',
          scheme: ctx.scheme ?? '',
          headers: ctx.requestHeaders ?? [],
        });
    }
    case 'response_flag_filter': {
      const names = (body.flags as string[] | undefined) ?? [];
      let mask = 0;
      names.forEach((n, i) => {
        const bit = FLAG_BITS.get(n);
        if (bit === undefined) {
          throw new MeshError('PROXY_E_INVALID', `unknown response flag ${JSON.stringify(n)}`, {
            path: `${p}.flags[${i}]`,
            value: n,
            allowed: [...FLAG_BITS.keys()].join(', '),
          });
        }
        mask |= bit;
      });
      // No flags listed means "any flag set", as in Envoy.
      return mask === 0
        ? (ctx) => (ctx.responseFlags ?? 0) !== 0
        : (ctx) => ((ctx.responseFlags ?? 0) & mask) !== 0;
    }
    default:
      throw new MeshError(
        'PROXY_E_UNSUPPORTED',
        `access log filter ${kind} is not supported by the bundled proxy`,
        {
          path: p,
          allowed:
            'status_code_filter, duration_filter, not_health_check_filter, runtime_filter, and_filter, or_filter, header_filter, response_flag_filter',
        },
      );
  }
}
