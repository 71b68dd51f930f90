/**
 * Stage 5 of loading: rewrites deprecated spellings into their current form, the way Envoy does
 * internally, so the runtime reads one form only:
 * - `HeaderMatcher.{exact,prefix,suffix,contains,safe_regex}_match` → `string_match.{...}`;
 * - `HeaderValueOption.append` (BoolValue) → `append_action`;
 * - a cluster's `http2_protocol_options`, `http_protocol_options`, `common_http_protocol_options`
 *   and `max_requests_per_connection` → `typed_extension_protocol_options` with
 *   `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` (explicit HTTP/2 when
 *   `http2_protocol_options` is present, explicit HTTP/1.1 otherwise). As in Envoy, typed options,
 *   when present, take precedence over the three deprecated protocol fields.
 * - in a bootstrap, `tls_certificate_sds_secret_configs` and `validation_context_sds_secret_config`
 *   naming a secret of `static_resources.secrets` (no `sds_config`) → the secret's
 *   `tls_certificates` / `validation_context` inline, as Envoy resolves static secrets;
 *   `combined_validation_context` → `validation_context`, the default merged with the secret's.
 * Conflicting old and new forms are PROXY_E_INVALID problems where Envoy rejects them too.
 */
import type { DescMessage } from '@bufbuild/protobuf';
import type { Problem } from '../../errors/index.js';
import { envoyRegistry, TYPE_URL_PREFIX, typeNameOf } from './descriptors.js';
import { type Json, joinPath, mapKeyPath } from './strict.js';

type Obj = { [key: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Name (and type) of the upstream HTTP protocol options extension. */
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** What a rewrite may read: the problem list and, in a bootstrap, its static secrets by name. */
interface Ctx {
  readonly problems: Problem[];
  readonly secrets: ReadonlyMap<string, Obj> | undefined;
}

type Rewrite = (obj: Obj, path: string, ctx: Ctx) => void;

const REWRITES: Readonly<Record<string, Rewrite>> = {
  'envoy.config.route.v3.HeaderMatcher': (obj) => {
    const legacy: Record<string, string> = {
      exact_match: 'exact',
      prefix_match: 'prefix',
      suffix_match: 'suffix',
      contains_match: 'contains',
      safe_regex_match: 'safe_regex',
    };
    // These and string_match share one oneof, so at most one is present.
    for (const [old, current] of Object.entries(legacy)) {
      const value = obj[old];
      if (value === undefined) continue;
      delete obj[old];
      obj['string_match'] = { [current]: value };
    }
  },
  'envoy.config.core.v3.HeaderValueOption': (obj, path, { problems }) => {
    const append = obj['append'];
    if (append === undefined) return;
    if (obj['append_action'] !== undefined) {
      conflict(problems, joinPath(path, 'append'), 'append', 'append_action');
      return;
    }
    delete obj['append'];
    // append: true is the default action (APPEND_IF_EXISTS_OR_ADD), which canonical JSON omits.
    if (append === false) obj['append_action'] = 'OVERWRITE_IF_EXISTS_OR_ADD';
  },
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext': (obj, path, { problems, secrets }) => {
    if (secrets === undefined) return; // a lone resource: secrets come from SDS, not from here
    const certs = obj['tls_certificate_sds_secret_configs'];
    if (Array.isArray(certs)) {
      const inline: Json[] = Array.isArray(obj['tls_certificates']) ? [...obj['tls_certificates']] : [];
      certs.forEach((ref, i) => {
        const name = isObj(ref) ? ref['name'] : undefined;
        const secret = typeof name === 'string' ? secrets.get(name) : undefined;
        if (secret?.['tls_certificate'] === undefined) {
          unknownSecret(
            problems,
            joinPath(path, `tls_certificate_sds_secret_configs[${i}].name`),
            'secret',
            name,
            secrets,
          );
        } else inline.push(secret['tls_certificate']);
      });
      delete obj['tls_certificate_sds_secret_configs'];
      obj['tls_certificates'] = inline;
    }
    const validation = obj['validation_context_sds_secret_config'];
    if (isObj(validation)) {
      const name = validation['name'];
      const secret = typeof name === 'string' ? secrets.get(name) : undefined;
      if (secret?.['validation_context'] === undefined) {
        unknownSecret(
          problems,
          joinPath(path, 'validation_context_sds_secret_config.name'),
          'certificate validation context',
          name,
          secrets,
        );
      } else obj['validation_context'] = secret['validation_context'];
      delete obj['validation_context_sds_secret_config'];
    }
    // mTLS (proxy-mtls): combined_validation_context is the default context merged with the
    // secret's, as Envoy merges them (protobuf MergeFrom: the secret's fields win, lists append).
    const combined = obj['combined_validation_context'];
    if (isObj(combined)) {
      const base = combined['default_validation_context'];
      const ref = combined['validation_context_sds_secret_config'];
      const name = isObj(ref) ? ref['name'] : undefined;
      const dynamic = typeof name === 'string' ? secrets.get(name)?.['validation_context'] : undefined;
      if (!isObj(dynamic)) {
        unknownSecret(
          problems,
          joinPath(path, 'combined_validation_context.validation_context_sds_secret_config.name'),
          'certificate validation context',
          name,
          secrets,
        );
      } else obj['validation_context'] = mergeValidation(isObj(base) ? base : {}, dynamic);
      delete obj['combined_validation_context'];
    }
  },
  'envoy.config.cluster.v3.Cluster': (obj, path, { problems }) => {
    // Mirrors Envoy's upstream_impl.cc: typed HttpProtocolOptions win over the deprecated protocol
    // fields; max_requests_per_connection may be given in only one of the two places.
    const legacy = ['http2_protocol_options', 'http_protocol_options', 'common_http_protocol_options'];
    const maxRequests = obj['max_requests_per_connection'];
    if (maxRequests === undefined && !legacy.some((k) => obj[k] !== undefined)) return;
    const typedMap = isObj(obj['typed_extension_protocol_options'])
      ? obj['typed_extension_protocol_options']
      : {};
    const typed = typedMap[HTTP_OPTIONS];
    let options: Obj;
    if (isObj(typed)) {
      options = { ...typed };
    } else {
      if (obj['http2_protocol_options'] !== undefined && obj['http_protocol_options'] !== undefined) {
        conflict(
          problems,
          joinPath(path, 'http_protocol_options'),
          'http_protocol_options',
          'http2_protocol_options',
        );
        return;
      }
      options = { '@type': TYPE_URL_PREFIX + HTTP_OPTIONS };
      if (obj['common_http_protocol_options'] !== undefined) {
        options['common_http_protocol_options'] = obj['common_http_protocol_options'];
      }
      options['explicit_http_config'] =
        obj['http2_protocol_options'] !== undefined
          ? { http2_protocol_options: obj['http2_protocol_options'] }
          : { http_protocol_options: obj['http_protocol_options'] ?? {} };
    }
    if (maxRequests !== undefined) {
      const common = isObj(options['common_http_protocol_options'])
        ? options['common_http_protocol_options']
        : {};
      if (common['max_requests_per_connection'] !== undefined) {
        problems.push({
          code: 'PROXY_E_INVALID',
          path: joinPath(path, 'max_requests_per_connection'),
          message: `${joinPath(path, 'max_requests_per_connection')}: only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified`,
          value: maxRequests,
          allowed: 'common_http_protocol_options.max_requests_per_connection only',
        });
        return;
      }
      options['common_http_protocol_options'] = { ...common, max_requests_per_connection: maxRequests };
    }
    for (const k of [...legacy, 'max_requests_per_connection']) delete obj[k];
    obj['typed_extension_protocol_options'] = { ...typedMap, [HTTP_OPTIONS]: options };
  },
};

/** Protobuf MergeFrom over canonical JSON, for CertificateValidationContext: lists append, the rest is replaced. */
function mergeValidation(base: Obj, dynamic: Obj): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(dynamic)) {
    const current = out[key];
    out[key] = Array.isArray(current) && Array.isArray(value) ? [...current, ...value] : value;
  }
  return out;
}

function unknownSecret(
  problems: Problem[],
  path: string,
  kind: string,
  name: Json | undefined,
  secrets: ReadonlyMap<string, Obj>,
): void {
  const known = [...secrets.keys()].sort().join(', ') || 'none';
  problems.push({
    code: 'PROXY_E_INVALID',
    path,
    message: `${path}: unknown static ${kind}: ${String(name)} (static_resources.secrets: ${known})`,
    value: name,
    allowed: `a secret of static_resources.secrets: ${known}`,
  });
}

function conflict(problems: Problem[], path: string, old: string, current: string): void {
  problems.push({
    code: 'PROXY_E_INVALID',
    path,
    message: `${path}: ${old} and ${current} cannot both be set; keep only ${current}`,
    value: old,
    allowed: `only ${current}`,
  });
}

/** Rewrites deprecated forms in place in canonical JSON (a `desc` message); problems are appended. */
export function canonicalize(desc: DescMessage, json: Json, path: string, problems: Problem[]): void {
  let secrets: Map<string, Obj> | undefined;
  if (desc.typeName === 'envoy.config.bootstrap.v3.Bootstrap' && isObj(json)) {
    const statics = json['static_resources'];
    const list = isObj(statics) && Array.isArray(statics['secrets']) ? statics['secrets'] : [];
    secrets = new Map();
    for (const secret of list) {
      if (isObj(secret) && typeof secret['name'] === 'string') secrets.set(secret['name'], secret);
    }
  }
  walk(desc, json, path, { problems, secrets });
}

function walk(desc: DescMessage, json: Json, path: string, ctx: Ctx): void {
  if (!isObj(json) || desc.typeName.startsWith('google.protobuf.')) return;
  for (const field of desc.fields) {
    const value = json[field.name];
    const message = field.message;
    if (value === undefined || message === undefined) continue;
    const fieldPath = joinPath(path, field.name);
    if (field.fieldKind === 'map') {
      if (isObj(value))
        for (const [k, v] of Object.entries(value)) visit(message, v, mapKeyPath(fieldPath, k), ctx);
    } else if (field.fieldKind === 'list') {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          visit(message, v, `${fieldPath}[${i}]`, ctx);
        });
      }
    } else {
      visit(message, value, fieldPath, ctx);
    }
  }
  REWRITES[desc.typeName]?.(json, path, ctx);
}

function visit(desc: DescMessage, value: Json, path: string, ctx: Ctx): void {
  if (desc.typeName === 'google.protobuf.Any' && isObj(value) && typeof value['@type'] === 'string') {
    const inner = envoyRegistry().getMessage(typeNameOf(value['@type']));
    if (inner !== undefined) walk(inner, value, path, ctx);
    return;
  }
  walk(desc, value, path, ctx);
}
