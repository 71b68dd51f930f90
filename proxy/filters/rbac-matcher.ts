/**
 * The RBAC filter's `matcher` form (Envoy's generic xDS matcher API, `xds.type.matcher.v3.Matcher`)
 * compiled to a function from a request to an RBAC action. The subset:
 *
 * - `matcher_list` (first matching field matcher wins), `on_no_match`; an `on_match` holds an
 *   `envoy.config.rbac.v3.Action` (ALLOW or DENY) or a nested matcher;
 * - predicates: `single_predicate` with a `value_match` string matcher, `or_matcher`, `and_matcher`,
 *   `not_matcher`;
 * - inputs: request headers (`HttpRequestHeaderMatchInput`, pseudo-headers included), the
 *   connection's source IP / direct source IP / destination port / SNI, and the client
 *   certificate's URI SAN / DNS SAN / subject (`envoy.extensions.matching.common_inputs.*`);
 *   an input with no value (header absent, no certificate) does not match, as in Envoy.
 *
 * Nothing matching and no `on_no_match` denies, as the RBAC filter's docs say.
 */
import { MeshError } from '../../errors/index.js';
import type { StringMatcher } from '../config/envoy.js';
import { compileStringMatcher, headerForMatch } from '../router/matchers.js';
import type { RbacCtx } from './rbac.js';

/** What a matcher decides: the action and the name of the Action that said it. */
export interface MatcherDecision {
  readonly allowed: boolean;
  readonly policy: string | undefined;
}

interface TypedExtension {
  readonly name?: string;
  readonly typed_config?: { readonly '@type'?: string; readonly [key: string]: unknown };
}

interface Predicate {
  readonly single_predicate?: { readonly input?: TypedExtension; readonly value_match?: StringMatcher };
  readonly or_matcher?: { readonly predicate?: readonly Predicate[] };
  readonly and_matcher?: { readonly predicate?: readonly Predicate[] };
  readonly not_matcher?: Predicate;
}

interface OnMatch {
  readonly action?: TypedExtension;
  readonly matcher?: MatcherConfig;
}

/** `xds.type.matcher.v3.Matcher` in canonical JSON (the loader checked it). */
export interface MatcherConfig {
  readonly matcher_list?: {
    readonly matchers?: readonly { readonly predicate?: Predicate; readonly on_match?: OnMatch }[];
  };
  readonly on_no_match?: OnMatch;
}

const PREFIX = 'type.googleapis.com/';
const NET = `${PREFIX}envoy.extensions.matching.common_inputs.network.v3.`;
const SSL = `${PREFIX}envoy.extensions.matching.common_inputs.ssl.v3.`;
const RBAC_ACTION = `${PREFIX}envoy.config.rbac.v3.Action`;

type Input = (ctx: RbacCtx) => string | undefined;

/** The data inputs this matcher reads, by type URL. */
const INPUTS: Readonly<Record<string, (config: Readonly<Record<string, unknown>>) => Input>> = {
  [`${PREFIX}envoy.type.matcher.v3.HttpRequestHeaderMatchInput`]: (c) => {
    const name = String(c['header_name'] ?? '').toLowerCase();
    return (ctx) => headerForMatch(ctx.input, name);
  },
  [`${NET}SourceIPInput`]: () => (ctx) => ctx.remote,
  [`${NET}DirectSourceIPInput`]: () => (ctx) => ctx.directRemote,
  [`${NET}DestinationPortInput`]: () => (ctx) => String(ctx.localPort),
  [`${NET}ServerNameInput`]: () => (ctx) => ctx.sni,
  [`${SSL}UriSanInput`]: () => (ctx) => (ctx.peer === undefined ? undefined : ctx.peer.uris.join(',')),
  [`${SSL}DnsSanInput`]: () => (ctx) => (ctx.peer === undefined ? undefined : ctx.peer.dns.join(',')),
  [`${SSL}SubjectInput`]: () => (ctx) => ctx.peer?.subject,
};

/** Type URLs of the inputs the RBAC matcher reads (for the loader's allow-list). */
export const RBAC_MATCHER_INPUTS: readonly string[] = Object.keys(INPUTS);

type Pred = (ctx: RbacCtx) => boolean;
type Decide = (ctx: RbacCtx) => MatcherDecision | undefined;

function invalid(path: string, message: string, value?: unknown): MeshError {
  return new MeshError('PROXY_E_UNSUPPORTED', `${path}: ${message}`, {
    path,
    value,
    allowed: 'see docs/proxy-compatibility.md',
  });
}

function compilePredicate(p: Predicate, path: string): Pred {
  if (p.single_predicate !== undefined) {
    const sp = p.single_predicate;
    const at = `${path}.single_predicate`;
    const type = sp.input?.typed_config?.['@type'] ?? '';
    const make = INPUTS[type];
    if (make === undefined) throw invalid(`${at}.input`, `matching input ${type} is not supported`, type);
    if (sp.value_match === undefined)
      throw invalid(`${at}.custom_match`, 'only value_match is supported', undefined);
    const input = make(sp.input?.typed_config ?? {});
    const match = compileStringMatcher(sp.value_match, `${at}.value_match`);
    return (ctx) => {
      const v = input(ctx);
      return v !== undefined && match(v);
    };
  }
  if (p.or_matcher !== undefined) {
    const any = (p.or_matcher.predicate ?? []).map((q, i) =>
      compilePredicate(q, `${path}.or_matcher.predicate[${i}]`),
    );
    return (ctx) => any.some((q) => q(ctx));
  }
  if (p.and_matcher !== undefined) {
    const all = (p.and_matcher.predicate ?? []).map((q, i) =>
      compilePredicate(q, `${path}.and_matcher.predicate[${i}]`),
    );
    return (ctx) => all.every((q) => q(ctx));
  }
  if (p.not_matcher !== undefined) {
    const inner = compilePredicate(p.not_matcher, `${path}.not_matcher`);
    return (ctx) => !inner(ctx);
  }
  throw invalid(path, 'a predicate needs single_predicate, or_matcher, and_matcher or not_matcher');
}

function compileOnMatch(m: OnMatch, path: string): Decide {
  if (m.matcher !== undefined) return compileMatcher(m.matcher, `${path}.matcher`);
  const config = m.action?.typed_config;
  if (config?.['@type'] !== RBAC_ACTION) {
    throw invalid(
      `${path}.action`,
      `action ${String(config?.['@type'])} is not an RBAC action`,
      config?.['@type'],
    );
  }
  const action = config['action'] ?? 'ALLOW';
  if (action !== 'ALLOW' && action !== 'DENY') {
    throw invalid(
      `${path}.action.typed_config.action`,
      `RBAC action ${String(action)} is not supported (ALLOW, DENY)`,
      action,
    );
  }
  const decision: MatcherDecision = { allowed: action === 'ALLOW', policy: String(config['name'] ?? '') };
  return () => decision;
}

function compileMatcher(m: MatcherConfig, path: string): Decide {
  const fields = (m.matcher_list?.matchers ?? []).map((f, i) => {
    const at = `${path}.matcher_list.matchers[${i}]`;
    return {
      predicate: compilePredicate(f.predicate ?? {}, `${at}.predicate`),
      onMatch: compileOnMatch(f.on_match ?? {}, `${at}.on_match`),
    };
  });
  const noMatch =
    m.on_no_match === undefined ? undefined : compileOnMatch(m.on_no_match, `${path}.on_no_match`);
  return (ctx) => {
    for (const f of fields) {
      // A nested matcher that matches nothing lets the list go on to its next entry.
      const decision = f.predicate(ctx) ? f.onMatch(ctx) : undefined;
      if (decision !== undefined) return decision;
    }
    return noMatch?.(ctx);
  };
}

/**
 * Compiles an RBAC `matcher`; the result decides every request (nothing matched: denied).
 * @throws MeshError naming the field at fault
 */
export function compileRbacMatcher(m: MatcherConfig, path: string): (ctx: RbacCtx) => MatcherDecision {
  const decide = compileMatcher(m, path);
  return (ctx) => decide(ctx) ?? { allowed: false, policy: undefined };
}
