/**
 * `envoy.filters.http.rbac`: role-based access control, as Envoy's RBAC filter with `rules`.
 *
 * - `action: ALLOW` lets a request through when some policy matches it; `DENY` refuses it when
 *   some policy matches. No `rules` at all enforces nothing (Envoy's behaviour).
 * - A policy matches when ANY of its permissions and ANY of its principals match.
 * - Permissions: `any`, `header` (pseudo-headers `:method`, `:path`, `:authority` included),
 *   `url_path` (the path without query or fragment), `and_rules`, `or_rules`, `not_rule`,
 *   `destination_port` (the listener port the connection came in on).
 * - Principals: `any`, `authenticated` (`principal_name` against the client certificate's URI
 *   SANs, then DNS SANs, then subject; without `principal_name` any verified client certificate),
 *   `header`, `url_path`, `direct_remote_ip` / `source_ip` (the peer address), `remote_ip` (the
 *   client address the connection manager trusts from x-forwarded-for), `and_ids`, `or_ids`,
 *   `not_id`.
 * - A denied request gets 403 `RBAC: access denied` (gRPC: PERMISSION_DENIED), response code
 *   details `rbac_access_denied_matched_policy[<policy>|none]` and no response flag, as in Envoy.
 *   Stats: `http.<stat_prefix>.rbac.<rules_stat_prefix>allowed` / `denied`.
 *
 * The `matcher` form (Envoy's generic matcher API) is compiled by rbac-matcher.ts and wins over
 * `rules` when both are set, as in Envoy. Policies compile once into closures; a request
 * allocates nothing but its match input.
 */
import { BlockList, isIP } from 'node:net';
import { MeshError } from '../../errors/index.js';
import type { HeaderMatcher, Rbac, StringMatcher } from '../config/envoy.js';
import {
  compileHeaderMatcher,
  compileStringMatcher,
  type MatchInput,
  type StringPredicate,
} from '../router/matchers.js';
import type { Counter, StatsStore } from '../stats/store.js';
import { connectionPeer, type PeerIdentity } from '../tls/san.js';
import type { FilterCallbacks, FilterRequest, HttpFilter } from './filter.js';
import { compileRbacMatcher, type MatcherConfig } from './rbac-matcher.js';

/** `envoy.config.rbac.v3.RBAC` in canonical JSON. */
interface RbacRules {
  readonly action?: 'ALLOW' | 'DENY' | 'LOG';
  readonly policies?: Readonly<Record<string, PolicyConfig>>;
}

interface PolicyConfig {
  readonly permissions?: readonly PermissionConfig[];
  readonly principals?: readonly PrincipalConfig[];
}

interface CidrRange {
  readonly address_prefix?: string;
  readonly prefix_len?: number;
}

interface PermissionConfig {
  readonly any?: boolean;
  readonly header?: HeaderMatcher;
  readonly url_path?: { readonly path?: StringMatcher };
  readonly and_rules?: { readonly rules?: readonly PermissionConfig[] };
  readonly or_rules?: { readonly rules?: readonly PermissionConfig[] };
  readonly not_rule?: PermissionConfig;
  readonly destination_port?: number;
}

interface PrincipalConfig {
  readonly any?: boolean;
  readonly authenticated?: { readonly principal_name?: StringMatcher };
  readonly header?: HeaderMatcher;
  readonly url_path?: { readonly path?: StringMatcher };
  readonly and_ids?: { readonly ids?: readonly PrincipalConfig[] };
  readonly or_ids?: { readonly ids?: readonly PrincipalConfig[] };
  readonly not_id?: PrincipalConfig;
  readonly source_ip?: CidrRange;
  readonly direct_remote_ip?: CidrRange;
  readonly remote_ip?: CidrRange;
}

/**
 * What RBAC reads of a request beyond {@link FilterRequest}: the pipeline passes the routed
 * request (method, path, authority, scheme, trusted client address) as `request`. The connection
 * object carries the peer address, the local port and the verified client certificate.
 */
export interface RbacFacts {
  readonly request?: MatchInput & { readonly sourceAddress: string };
}

interface ConnectionFacts {
  readonly remoteAddress?: string;
  readonly localPort?: number;
  readonly sni?: string | undefined;
}

/** Everything a compiled matcher reads, gathered once per request. */
export interface RbacCtx {
  readonly input: MatchInput;
  /** Path without query and fragment. */
  readonly path: string;
  readonly directRemote: string;
  readonly remote: string;
  readonly localPort: number;
  /** SNI of a TLS connection. */
  readonly sni: string | undefined;
  readonly peer: PeerIdentity | undefined;
}

type Ctx = RbacCtx;
type Matcher = (ctx: Ctx) => boolean;

function invalid(path: string, message: string, value?: unknown, allowed?: string): MeshError {
  return new MeshError('PROXY_E_INVALID', `${path}: ${message}`, {
    path,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}

/** Exactly one member of a oneof-like rule object; names it for the error otherwise. */
function oneKey(obj: object, path: string, kinds: readonly string[]): string {
  const set = kinds.filter((k) => (obj as Record<string, unknown>)[k] !== undefined);
  if (set.length !== 1) {
    throw invalid(
      path,
      `exactly one rule kind must be set; got ${set.length === 0 ? 'none' : set.join(', ')}`,
      set,
      kinds.join(', '),
    );
  }
  return set[0] as string;
}

function cidr(range: CidrRange, path: string): (ip: string) => boolean {
  const prefix = range.address_prefix ?? '';
  const family = isIP(prefix);
  if (family === 0)
    throw invalid(`${path}.address_prefix`, 'not an IP address', prefix, 'an IPv4 or IPv6 address');
  const max = family === 4 ? 32 : 128;
  const len = range.prefix_len ?? max;
  if (len > max) throw invalid(`${path}.prefix_len`, `at most ${max} for this address`, len, `0..${max}`);
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(prefix, len, type);
  return (ip) => {
    const f = isIP(ip);
    return f !== 0 && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
  };
}

function pathMatcher(config: { readonly path?: StringMatcher }, path: string): Matcher {
  if (config.path === undefined)
    throw invalid(`${path}.path`, 'a path matcher needs path', undefined, 'a StringMatcher');
  const match = compileStringMatcher(config.path, `${path}.path`);
  return (ctx) => match(ctx.path);
}

const PERMISSION_KINDS = [
  'any',
  'header',
  'url_path',
  'and_rules',
  'or_rules',
  'not_rule',
  'destination_port',
];

function compilePermission(p: PermissionConfig, path: string): Matcher {
  const kind = oneKey(p, path, PERMISSION_KINDS);
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'any':
      return () => p.any === true;
    case 'header': {
      const match = compileHeaderMatcher(p.header as HeaderMatcher, at);
      return (ctx) => match(ctx.input);
    }
    case 'url_path':
      return pathMatcher(p.url_path ?? {}, at);
    case 'and_rules': {
      const all = (p.and_rules?.rules ?? []).map((r, i) => compilePermission(r, `${at}.rules[${i}]`));
      return (ctx) => all.every((m) => m(ctx));
    }
    case 'or_rules': {
      const any = (p.or_rules?.rules ?? []).map((r, i) => compilePermission(r, `${at}.rules[${i}]`));
      return (ctx) => any.some((m) => m(ctx));
    }
    case 'not_rule': {
      const inner = compilePermission(p.not_rule as PermissionConfig, at);
      return (ctx) => !inner(ctx);
    }
    default: {
      const port = p.destination_port as number;
      return (ctx) => ctx.localPort === port;
    }
  }
}

const PRINCIPAL_KINDS = [
  'any',
  'authenticated',
  'header',
  'url_path',
  'and_ids',
  'or_ids',
  'not_id',
  'source_ip',
  'direct_remote_ip',
  'remote_ip',
];

function authenticated(name: StringPredicate | undefined): Matcher {
  return (ctx) => {
    const peer = ctx.peer;
    if (peer === undefined) return false;
    if (name === undefined) return true;
    return peer.uris.some(name) || peer.dns.some(name) || name(peer.subject);
  };
}

function compilePrincipal(p: PrincipalConfig, path: string): Matcher {
  const kind = oneKey(p, path, PRINCIPAL_KINDS);
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'any':
      return () => p.any === true;
    case 'authenticated': {
      const pn = p.authenticated?.principal_name;
      return authenticated(pn === undefined ? undefined : compileStringMatcher(pn, `${at}.principal_name`));
    }
    case 'header': {
      const match = compileHeaderMatcher(p.header as HeaderMatcher, at);
      return (ctx) => match(ctx.input);
    }
    case 'url_path':
      return pathMatcher(p.url_path ?? {}, at);
    case 'and_ids': {
      const all = (p.and_ids?.ids ?? []).map((r, i) => compilePrincipal(r, `${at}.ids[${i}]`));
      return (ctx) => all.every((m) => m(ctx));
    }
    case 'or_ids': {
      const any = (p.or_ids?.ids ?? []).map((r, i) => compilePrincipal(r, `${at}.ids[${i}]`));
      return (ctx) => any.some((m) => m(ctx));
    }
    case 'not_id': {
      const inner = compilePrincipal(p.not_id as PrincipalConfig, at);
      return (ctx) => !inner(ctx);
    }
    case 'remote_ip': {
      const inRange = cidr(p.remote_ip as CidrRange, at);
      return (ctx) => inRange(ctx.remote);
    }
    default: {
      // source_ip is the deprecated name of direct_remote_ip.
      const inRange = cidr((p.direct_remote_ip ?? p.source_ip) as CidrRange, at);
      return (ctx) => inRange(ctx.directRemote);
    }
  }
}

interface CompiledPolicy {
  readonly name: string;
  readonly permissions: readonly Matcher[];
  readonly principals: readonly Matcher[];
}

/** A compiled RBAC rule set: which policy (if any) a request matches, and what that means. */
export class RbacEngine {
  readonly action: 'ALLOW' | 'DENY';
  private readonly policies: readonly CompiledPolicy[];

  /**
   * Compiles `config` (`envoy.config.rbac.v3.RBAC` in canonical JSON, as the loader checked it);
   * throws MeshError naming the field at fault.
   */
  constructor(config: Readonly<Record<string, unknown>>, path: string) {
    const rules = config as RbacRules;
    const action = rules.action ?? 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY') {
      throw new MeshError('PROXY_E_UNSUPPORTED', `${path}.action: RBAC action ${action} is not supported`, {
        path: `${path}.action`,
        value: action,
        allowed: 'ALLOW, DENY',
      });
    }
    this.action = action;
    // Envoy keeps policies in a sorted map: the first match by name is the one it reports.
    this.policies = Object.keys(rules.policies ?? {})
      .sort()
      .map((name) => {
        const policy = (rules.policies as Record<string, PolicyConfig>)[name] as PolicyConfig;
        const pp = `${path}.policies[${JSON.stringify(name)}]`;
        return {
          name,
          permissions: (policy.permissions ?? []).map((p, i) =>
            compilePermission(p, `${pp}.permissions[${i}]`),
          ),
          principals: (policy.principals ?? []).map((p, i) => compilePrincipal(p, `${pp}.principals[${i}]`)),
        };
      });
  }

  /** The name of the first policy matching the request, or undefined. */
  matchedPolicy(ctx: Ctx): string | undefined {
    for (const p of this.policies) {
      if (p.permissions.some((m) => m(ctx)) && p.principals.some((m) => m(ctx))) return p.name;
    }
    return undefined;
  }

  /** Whether the request may pass, and the policy that decided (for response details). */
  decide(ctx: Ctx): { readonly allowed: boolean; readonly policy: string | undefined } {
    const policy = this.matchedPolicy(ctx);
    return { allowed: this.action === 'ALLOW' ? policy !== undefined : policy === undefined, policy };
  }
}

const EMPTY_INPUT: MatchInput & { sourceAddress: string } = {
  authority: '',
  path: '',
  method: '',
  scheme: 'http',
  headers: [],
  sourceAddress: '',
};

/** Builds what the matchers read from what the pipeline hands a filter. */
export function rbacContext(request: FilterRequest & RbacFacts): Ctx {
  const routed = request.request ?? { ...EMPTY_INPUT, headers: request.headers };
  const full = routed.path;
  let end = full.length;
  const q = full.indexOf('?');
  if (q >= 0) end = q;
  const h = full.indexOf('#');
  if (h >= 0 && h < end) end = h;
  const conn = request.connection as ConnectionFacts;
  const direct = conn.remoteAddress ?? '';
  return {
    input: routed,
    path: end === full.length ? full : full.slice(0, end),
    directRemote: direct,
    remote: routed.sourceAddress === '' ? direct : routed.sourceAddress,
    localPort: conn.localPort ?? 0,
    sni: conn.sni,
    peer: connectionPeer(request.connection),
  };
}

/** The RBAC HTTP filter. */
export class RbacFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.rbac';
  private readonly decide:
    | ((ctx: Ctx) => { readonly allowed: boolean; readonly policy: string | undefined })
    | undefined;
  private readonly allowed: Counter;
  private readonly denied: Counter;

  /**
   * @param statPrefix the connection manager's stat_prefix
   * @throws MeshError naming the field at fault (the matcher tree and shadow rules are refused
   *   by the loader's allow-list before this runs)
   */
  constructor(config: Rbac, store: StatsStore, statPrefix: string, path: string) {
    // As in Envoy, a matcher wins over rules when both are set.
    if (config.matcher !== undefined) {
      this.decide = compileRbacMatcher(config.matcher as MatcherConfig, `${path}.matcher`);
    } else if (config.rules !== undefined) {
      const engine = new RbacEngine(config.rules, `${path}.rules`);
      this.decide = (ctx) => engine.decide(ctx);
    }
    const p = `http.${statPrefix}.rbac.${config.rules_stat_prefix ?? ''}`;
    this.allowed = store.counter(`${p}allowed`);
    this.denied = store.counter(`${p}denied`);
  }

  onRequest(request: FilterRequest, callbacks: FilterCallbacks): 'continue' | 'stop' {
    if (this.decide === undefined) return 'continue';
    const verdict = this.decide(rbacContext(request as FilterRequest & RbacFacts));
    if (verdict.allowed) {
      this.allowed.inc();
      return 'continue';
    }
    this.denied.inc();
    callbacks.reply({
      status: 403,
      body: 'RBAC: access denied',
      details: `rbac_access_denied_matched_policy[${verdict.policy ?? 'none'}]`,
      headers: [],
    });
    return 'stop';
  }
}
