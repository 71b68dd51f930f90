/**
 * docs/proxy-compatibility.md, generated from the allow-list (supported.ts) and the recorded corpus
 * outcomes (corpus.ts), so the page says exactly what the loader enforces.
 */
import { ENVOY_CORPUS } from './corpus.js';
import {
  type FieldRule,
  type Slot,
  SUPPORTED_FIELDS,
  SUPPORTED_TYPED_CONFIGS,
  typedConfigsFor,
} from './supported.js';

const SLOT_ORDER: readonly Slot[] = [
  'network filter',
  'HTTP filter',
  'listener filter',
  'downstream transport socket',
  'upstream transport socket',
  'access logger',
  'upstream protocol options',
  'per-route filter config',
  'retry host predicate',
  'matching input',
  'matching action',
];

function issueOf(rule: { readonly issue?: number }): string {
  return rule.issue === undefined || rule.issue === 5
    ? 'core'
    : rule.issue === 6
      ? 'resilience (issue 6)'
      : `issue ${rule.issue}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function fieldRow(name: string, rule: FieldRule): string {
  const values = rule.values === undefined ? '' : rule.values.map((v) => `\`${v}\``).join(', ');
  return `| \`${name}\` | ${rule.status} | ${values} | ${issueOf(rule)} | ${cell(rule.note ?? '')} |`;
}

/** The page's Markdown. */
export function proxyCompatibilityPage(): string {
  const typed = SLOT_ORDER.flatMap((slot) =>
    typedConfigsFor(slot).map((t) => {
      const rule = SUPPORTED_TYPED_CONFIGS[t];
      const ext = slot === 'per-route filter config' ? 'filter name' : `\`${rule?.extension ?? t}\``;
      return `| ${slot} | ${ext} | \`type.googleapis.com/${t}\` | supported | ${issueOf(rule ?? {})} | ${cell(rule?.note ?? '')} |`;
    }),
  );
  const messages = Object.entries(SUPPORTED_FIELDS).flatMap(([message, fields]) => {
    const rows = Object.entries(fields).map(([name, rule]) => fieldRow(name, rule));
    if (rows.length === 0)
      return [`### \`${message}\``, '', 'May be present; no field of it may be set.', ''];
    return [
      `### \`${message}\``,
      '',
      '| field | status | supported values | feature | note |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ];
  });
  const ignored = Object.entries(SUPPORTED_FIELDS).flatMap(([message, fields]) =>
    Object.entries(fields)
      .filter(([, r]) => r.status === 'ignored')
      .map(([name, r]) => `- \`${message}.${name}\`: ${r.note ?? ''}`),
  );
  const corpus = ENVOY_CORPUS.map((e) => {
    const warned = (e.warnings ?? []).map((w) => `\`${w.feature}\``).join(', ');
    const result =
      e.problems.length > 0
        ? `rejected: ${e.problems.map((p) => `\`${p.path}\` (${p.names}, ${p.code})`).join('; ')}`
        : warned === ''
          ? 'loads'
          : `loads, warning that ${warned} is deprecated`;
    return `| \`${e.file}\` | ${cell(e.summary)} | ${result} |`;
  });
  return [
    '# Envoy compatibility of the bundled proxy',
    '',
    '<!-- Generated from proxy/config/supported.ts and proxy/config/corpus.ts by `npm run docs`; do not edit by hand. -->',
    '',
    '`crossmesh proxy -c envoy.yaml` reads Envoy v3 bootstrap configuration. This page lists the subset it',
    'implements. Anything else stops start-up with `PROXY_E_UNSUPPORTED` naming the exact field path, e.g.',
    '`static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0] (envoy.filters.http.ext_authz)`:',
    'nothing is silently ignored except the fields listed as `ignored` below, each with its reason.',
    '',
    '## How configuration is read',
    '',
    "The loader reads configuration the way Envoy does, against Envoy's own v3 protos (vendored in",
    '`@grpc/grpc-js-xds`, compiled into `gen/envoy.binpb` by `npm run build`):',
    '',
    '- `-c file`: `.json` is JSON, anything else YAML 1.2; `--config-yaml` is merged over the file with',
    '  protobuf MergeFrom semantics (scalars replaced, messages merged, lists appended), as in Envoy.',
    '- Strict proto3 JSON: an unknown field is `PROXY_E_UNKNOWN_FIELD` with its full path and the closest',
    '  field name; wrong JSON types, unknown enum values, two members of one oneof, and malformed',
    '  durations are `PROXY_E_INVALID`.',
    '- Enum names are case-insensitive (`strict_dns`, `tlsv1_3`); a single object is accepted where a list',
    '  is expected; `null` means "not set"; field names may be proto (`lb_policy`) or JSON (`lbPolicy`) names.',
    '- Durations are strings of seconds (`"5s"`, `"0.250s"`); a bare number is refused.',
    '- Typed configs are resolved by `@type`; a type URL outside the shipped v3 API (contrib and alpha',
    '  extensions included) is `PROXY_E_UNSUPPORTED`, named with its element and extension name. A',
    '  `TypedStruct` (`udpa.type.v1` or `xds.type.v3`) is read as the typed config it names, as in Envoy.',
    "- Envoy's protoc-gen-validate rules are enforced: required fields and oneofs, string lengths, header",
    '  name forms, number and duration bounds, list sizes.',
    '- A key given twice with different values is a parse error; nesting deeper than 100 levels is refused.',
    "- Envoy's start-up checks: every listener has an IP address or a pipe, cluster and listener names are",
    '  unique, routes of an inline route_config name existing clusters (unless `validate_clusters: false`),',
    '  weights add up to more than 0, a domain is in one virtual host only, the router ends each HTTP filter',
    '  chain, STATIC endpoints are IPs or pipes (pipes only in STATIC clusters), LOGICAL_DNS has one',
    '  endpoint, a downstream TLS context has a certificate, request mirrors name existing clusters, a pipe',
    '  path fits 107 bytes and an abstract (`@name`) pipe has no mode.',
    '- Unix domain sockets (`Address.pipe`): a listener or the admin on a pipe removes a stale socket file',
    '  at its path before binding, as Envoy does (a file that is not a socket is refused, not removed; a',
    '  `--concurrency` worker leaves the file to the primary), then applies `mode` with chmod. A pipe peer',
    "  is reported by the listener's path (`%DOWNSTREAM_REMOTE_ADDRESS%`, no port) and adds nothing to",
    '  `x-forwarded-for`; pipe hosts appear by their path in `/clusters` and `%UPSTREAM_HOST%`.',
    '- Deprecated spellings are rewritten before the runtime sees them: `HeaderMatcher.*_match` to',
    '  `string_match`, `HeaderValueOption.append` to `append_action`, cluster-level HTTP protocol options',
    '  to `typed_extension_protocol_options` (`envoy.extensions.upstreams.http.v3.HttpProtocolOptions`).',
    '- Static secrets (`static_resources.secrets`) named by `tls_certificate_sds_secret_configs` or',
    '  `validation_context_sds_secret_config` without `sds_config` are inlined, as Envoy resolves them;',
    '  `combined_validation_context` becomes its default context merged with the secret (MergeFrom).',
    '  Under xDS (`dynamic_resources.ads_config`), secrets with `sds_config: {ads: {}}` are fetched on the',
    '  ADS stream, listeners and clusters wait for them, and a rotated secret applies to new connections',
    '  while established ones keep theirs; a static bootstrap has no ADS stream and refuses `sds_config`.',
    '- A bootstrap with `dynamic_resources` (ADS: `lds_config` and `cds_config` set to `ads: {}`,',
    '  `ads_config` with api_type `GRPC` or `DELTA_GRPC` naming one `envoy_grpc` cluster) is served from',
    '  that control plane: the ADS cluster must be STATIC or STRICT_DNS with one endpoint (an address or a pipe), HTTP/2 and no',
    '  transport socket (plaintext h2c). The proxy starts once a first complete state arrives (listeners',
    '  wait for their routes, clusters for their endpoints, both for their secrets), validates every',
    '  pushed resource with this same loader, NACKs what it cannot run (the last good configuration keeps',
    '  serving) and applies route and cluster changes in place. The admin server binds before the first',
    '  configuration arrives (`/ready` answers 503 `INITIALIZING` until it runs) and keeps its address',
    '  when a listener change replaces the runtime. `crossmesh up`, `crossmesh compose`',
    '  sidecars and `crossmesh proxy -c` share this code (proxy/xds/). REST, path-based config sources,',
    '  `google_grpc` and TLS to the control plane are refused, naming the field. With `--concurrency N`',
    '  each worker runs its own xDS client on its own ADS stream with the same node (the control plane',
    '  sees N streams, where Envoy opens one): each worker compiles, ACKs or NACKs every state itself',
    '  and keeps its last good configuration; a socket file at a pushed pipe listener is removed (by the',
    '  primary) only when nothing accepts on it. Pushed listeners should name their ports there: one on',
    '  port 0 gets the same port in every worker at start-up, but may not after a listener change.',
    '- Deprecated fields load, with a start-up warning each (`PROXY_W_DEPRECATED`), as Envoy warns.',
    '- The result is canonical proto3 JSON (proto field names, enum names, defaults omitted, 64-bit',
    '  integers as strings), deeply frozen; its TypeScript shape is `proxy/config/envoy.ts`.',
    '',
    '## Typed configs',
    '',
    '| where | extension | type | status | feature | note |',
    '| --- | --- | --- | --- | --- | --- |',
    ...typed,
    '',
    '## Tolerated and ignored',
    '',
    'These fields are accepted so that existing configs load, and have no effect:',
    '',
    ...ignored,
    '',
    '## Real configs',
    '',
    'Each config in `../shared/envoy-corpus/` (third-party Envoy configs) through the loader; checked by',
    '`test/proxy/config/corpus.test.ts`.',
    '',
    '| config | what it uses | result |',
    '| --- | --- | --- |',
    ...corpus,
    '',
    '## Supported fields by message',
    '',
    'A message not listed may appear only empty (e.g. `locality_weighted_lb_config: {}`).',
    '',
    ...messages,
  ].join('\n');
}
