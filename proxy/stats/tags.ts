/**
 * Envoy's default tag extraction (source/common/config/well_known_names.cc), the subset for the
 * stats this proxy emits. Each extractor's first capture group is the part removed from the name,
 * the second (when present) the tag value. Extractors run in Envoy's order on the progressively
 * shortened name, which is also the order the tags appear in Prometheus output:
 * `envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="backend"}`.
 */

/** One extracted tag: Envoy's tag name (`envoy.cluster_name`) and its value. */
export interface StatTag {
  readonly name: string;
  readonly value: string;
}

interface Extractor {
  readonly tag: string;
  readonly regex: RegExp;
}

const EXTRACTORS: readonly Extractor[] = [
  // *_rq(_<response_code>)
  { tag: 'envoy.response_code', regex: /_rq(_(\d{3}))$/d },
  // *_rq_(<response_code_class>)xx
  { tag: 'envoy.response_code_class', regex: /_rq_((\d))xx$/d },
  // http.[<stat_prefix>.]user_agent.[<user_agent>.]*
  { tag: 'envoy.http_user_agent', regex: /^http(?=\.).*?\.user_agent\.((.+?)\.)\w+?$/d },
  // listener.[<address>.]ssl.cipher.<cipher>
  { tag: 'envoy.ssl_cipher', regex: /^listener(?=\.).*?\.ssl\.cipher(\.(.+?))$/d },
  // listener.[<address>.]http.[<stat_prefix>.]*
  { tag: 'envoy.http_conn_manager_prefix', regex: /^listener(?=\.).*?\.http\.(([^.]+)\.)/d },
  // http.[<stat_prefix>.]*
  { tag: 'envoy.http_conn_manager_prefix', regex: /^http\.(([^.]+)\.)/d },
  // listener.[<address>.]*  (IPv4 with `_` for `:`, or bracketed IPv6)
  { tag: 'envoy.listener_address', regex: /^listener\.(((?:[_.\d]*|[_[\]a-fA-F\d]*))\.)/d },
  // tcp.[<stat_prefix>.]*
  { tag: 'envoy.tcp_prefix', regex: /^tcp\.(([^.]+)\.)/d },
  // cluster.[<cluster_name>.]*
  { tag: 'envoy.cluster_name', regex: /^cluster\.(([^.]+)\.)/d },
];

/** Splits a full stat name into its tag-extracted name and tags, the way Envoy's default extractors do. */
export function extractTags(fullName: string): { name: string; tags: StatTag[] } {
  let name = fullName;
  const tags: StatTag[] = [];
  for (const { tag, regex } of EXTRACTORS) {
    const m = regex.exec(name);
    const span = m?.indices?.[1];
    if (m === null || span === undefined || span[0] === span[1]) continue;
    const value = m[2] ?? (m[1] as string);
    name = name.slice(0, span[0]) + name.slice(span[1]);
    tags.push({ name: tag, value });
  }
  return { name, tags };
}
