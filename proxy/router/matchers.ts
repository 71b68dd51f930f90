/**
 * Compiled matchers for routes: string matchers, header matchers and query-parameter matchers,
 * with Envoy's semantics (multiple header values joined by `,`, `invert_match`,
 * `treat_missing_header_as_empty`, `present_match: false` meaning absent, `[start, end)` ranges).
 * Each compiles once to a closure so matching a request allocates nothing.
 */
import { MeshError } from '../../errors/index.js';
import type { HeaderMatcher, QueryParameterMatcher, StringMatcher } from '../config/envoy.js';
import type { HeaderList } from '../http/headers.js';
import { compileRe2 } from './re2.js';

/** What the matchers read from a request. */
export interface MatchInput {
  readonly authority: string;
  readonly path: string;
  readonly method: string;
  readonly scheme: string;
  readonly headers: HeaderList;
}

/** A compiled string matcher. */
export type StringPredicate = (value: string) => boolean;

function invalid(path: string, message: string, value?: unknown, allowed?: string): MeshError {
  return new MeshError('PROXY_E_INVALID', message, {
    path,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}

/** Compiles an Envoy `StringMatcher` (exactly one of exact/prefix/suffix/contains/safe_regex). */
export function compileStringMatcher(m: StringMatcher, path: string): StringPredicate {
  const set = (['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const).filter(
    (k) => m[k] !== undefined,
  );
  if (set.length !== 1) {
    throw invalid(
      path,
      `a string matcher needs exactly one of exact, prefix, suffix, contains, safe_regex; got ${set.length === 0 ? 'none' : set.join(', ')}`,
      set,
      'exactly one match kind',
    );
  }
  const ic = m.ignore_case === true;
  if (m.safe_regex !== undefined) {
    // Envoy: ignore_case has no effect on safe_regex.
    const re = compileRe2(m.safe_regex.regex, { path: `${path}.safe_regex.regex` });
    return (v) => re.test(v);
  }
  if (m.exact !== undefined) {
    const want = ic ? m.exact.toLowerCase() : m.exact;
    return ic ? (v) => v.toLowerCase() === want : (v) => v === want;
  }
  if (m.prefix !== undefined) {
    if (m.prefix === '')
      throw invalid(`${path}.prefix`, 'prefix must not be empty', m.prefix, 'a non-empty string');
    const want = ic ? m.prefix.toLowerCase() : m.prefix;
    return ic ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
  }
  if (m.suffix !== undefined) {
    if (m.suffix === '')
      throw invalid(`${path}.suffix`, 'suffix must not be empty', m.suffix, 'a non-empty string');
    const want = ic ? m.suffix.toLowerCase() : m.suffix;
    return ic ? (v) => v.toLowerCase().endsWith(want) : (v) => v.endsWith(want);
  }
  const contains = m.contains as string;
  if (contains === '')
    throw invalid(`${path}.contains`, 'contains must not be empty', contains, 'a non-empty string');
  const want = ic ? contains.toLowerCase() : contains;
  return ic ? (v) => v.toLowerCase().includes(want) : (v) => v.includes(want);
}

/**
 * Every value of header `name` joined by `,` (Envoy's getAllOfHeaderAsString), or undefined when
 * absent. Pseudo-headers come from the request line fields; `host` and `:authority` are the same.
 */
export function headerForMatch(input: MatchInput, name: string): string | undefined {
  switch (name) {
    case ':authority':
    case 'host':
      return input.authority;
    case ':path':
      return input.path;
    case ':method':
      return input.method;
    case ':scheme':
      return input.scheme;
    default:
      break;
  }
  const headers = input.headers;
  let found: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      const v = headers[i + 1] as string;
      found = found === undefined ? v : `${found},${v}`;
    }
  }
  return found;
}

const INTEGER = /^[+-]?\d+$/;

/** A compiled header matcher over a request. */
export type HeaderPredicate = (input: MatchInput) => boolean;

/** Compiles an Envoy `HeaderMatcher`. */
export function compileHeaderMatcher(m: HeaderMatcher, path: string): HeaderPredicate {
  if (typeof m.name !== 'string' || m.name === '') {
    throw invalid(`${path}.name`, 'a header matcher needs a header name', m.name, 'a non-empty header name');
  }
  const name = m.name.toLowerCase();
  const invert = m.invert_match === true;
  const missingAsEmpty = m.treat_missing_header_as_empty === true;
  // The deprecated direct members are string_match in disguise.
  const legacy: StringMatcher | undefined =
    m.exact_match !== undefined
      ? { exact: m.exact_match }
      : m.prefix_match !== undefined
        ? { prefix: m.prefix_match }
        : m.suffix_match !== undefined
          ? { suffix: m.suffix_match }
          : m.contains_match !== undefined
            ? { contains: m.contains_match }
            : m.safe_regex_match !== undefined
              ? { safe_regex: m.safe_regex_match }
              : undefined;
  const kinds = [m.string_match, legacy, m.range_match, m.present_match].filter((k) => k !== undefined);
  if (kinds.length > 1) {
    throw invalid(
      path,
      'a header matcher takes at most one of string_match, range_match, present_match',
      m,
      'one match kind',
    );
  }
  if (m.present_match !== undefined || kinds.length === 0) {
    // No member at all means "present" in Envoy's v3 API.
    const wantPresent = m.present_match ?? true;
    return (input) => {
      const present = headerForMatch(input, name) !== undefined || missingAsEmpty;
      return (present === wantPresent) !== invert;
    };
  }
  let valueMatch: StringPredicate;
  if (m.range_match !== undefined) {
    const start = Number(m.range_match.start ?? '0');
    const end = Number(m.range_match.end ?? '0');
    if (!(start < end)) {
      throw invalid(
        `${path}.range_match`,
        `range_match start ${start} must be below end ${end}`,
        m.range_match,
        'start < end',
      );
    }
    valueMatch = (v) => {
      if (!INTEGER.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  } else {
    const sm = (m.string_match ?? legacy) as StringMatcher;
    valueMatch = compileStringMatcher(sm, m.string_match === undefined ? path : `${path}.string_match`);
  }
  return (input) => {
    let value = headerForMatch(input, name);
    if (value === undefined) {
      if (!missingAsEmpty) return invert;
      value = '';
    }
    return valueMatch(value) !== invert;
  };
}

/**
 * First raw value of query parameter `name` in `path` (after `?`), `''` for a bare key, undefined
 * when absent. Not URL-decoded, as Envoy matches the raw query.
 */
export function queryParam(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  let i = q + 1;
  const end = path.indexOf('#', i) < 0 ? path.length : path.indexOf('#', i);
  while (i < end) {
    let amp = path.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    const eq = path.indexOf('=', i);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (keyEnd - i === name.length && path.startsWith(name, i)) {
      return keyEnd === amp ? '' : path.slice(eq + 1, amp);
    }
    i = amp + 1;
  }
  return undefined;
}

/** Compiles an Envoy `QueryParameterMatcher` (string_match, or present_match; neither = present). */
export function compileQueryMatcher(m: QueryParameterMatcher, path: string): (fullPath: string) => boolean {
  if (typeof m.name !== 'string' || m.name === '') {
    throw invalid(`${path}.name`, 'a query parameter matcher needs a name', m.name, 'a non-empty name');
  }
  const name = m.name;
  if (m.string_match !== undefined && m.present_match !== undefined) {
    throw invalid(
      path,
      'a query parameter matcher takes string_match or present_match, not both',
      m,
      'one of them',
    );
  }
  if (m.string_match !== undefined) {
    const pred = compileStringMatcher(m.string_match, `${path}.string_match`);
    return (p) => {
      const v = queryParam(p, name);
      return v !== undefined && pred(v);
    };
  }
  const wantPresent = m.present_match ?? true;
  return (p) => (queryParam(p, name) !== undefined) === wantPresent;
}
