/**
 * The supported subset: every Envoy field and typed config the bundled proxy implements, as data.
 * After strict parsing (load.ts), `checkSupported` walks the canonical config and reports every set
 * field that is not listed here as PROXY_E_UNSUPPORTED, naming its exact path. Nothing outside this
 * list is ever silently ignored; fields that are accepted but have no effect are listed explicitly
 * as `ignored` with the reason, and docs/proxy-compatibility.md is generated from this file.
 *
 * For the runtime engineers: when you implement a field, add it here (one line) in the same
 * commit. A field is listed only once the runtime honours it (or, as `ignored`, once it is known to
 * have no effect here): there is no "accepted but not enforced" state.
 */
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import type { Problem } from '../../errors/index.js';
import { envoyRegistry, TYPE_URL_PREFIX, typeNameOf } from './descriptors.js';
import { type Json, joinPath, mapKeyPath } from './strict.js';

/** How the proxy treats one field. */
export interface FieldRule {
  /** `supported`: implemented; `ignored`: accepted and has no effect (see `note` for why). */
  readonly status: 'supported' | 'ignored';
  /** For enum fields: the values implemented (others are PROXY_E_UNSUPPORTED). @default - every value */
  readonly values?: readonly string[];
  /** Caveat or reason shown in docs/proxy-compatibility.md. @default - none */
  readonly note?: string;
  /** The issue that brings the feature. @default - 5 (the proxy core) */
  readonly issue?: 5 | 6 | 7;
}

/** A typed config (`google.protobuf.Any`) the proxy implements. */
export interface TypedConfigRule {
  /** Where it may appear (see {@link SLOTS}). */
  readonly slot: Slot;
  /** Envoy's extension name, as written in the `name` beside the typed config. */
  readonly extension: string;
  /** @default - 5 */
  readonly issue?: 5 | 6 | 7;
  /** Caveat shown in the docs. @default - none */
  readonly note?: string;
}

/** Places a typed config can appear in, each with its own set of allowed types. */
export type Slot =
  | 'network filter'
  | 'HTTP filter'
  | 'listener filter'
  | 'downstream transport socket'
  | 'upstream transport socket'
  | 'access logger'
  | 'upstream protocol options'
  | 'per-route filter config'
  | 'retry host predicate'
  | 'matching input'
  | 'matching action';

const S: FieldRule = { status: 'supported' };
const PER_FILTER: FieldRule = {
  status: 'supported',
  issue: 6,
  note: 'local_ratelimit and fault configs, keyed by the filter name; they replace the filter settings for the route',
};
const note = (text: string): FieldRule => ({ status: 'supported', note: text });
/** Supported with the resilience work (issue 6). */
const R6: FieldRule = { status: 'supported', issue: 6 };
const RATE_LIMITS: FieldRule = {
  status: 'supported',
  issue: 6,
  note: 'descriptors for envoy.filters.http.local_ratelimit (the limit override is not supported)',
};
const only = (values: readonly string[], text?: string): FieldRule => ({
  status: 'supported',
  values,
  ...(text ? { note: text } : {}),
});
const ignored = (reason: string): FieldRule => ({ status: 'ignored', note: reason });
const all = (names: string, rule: FieldRule = S): Record<string, FieldRule> =>
  Object.fromEntries(names.split(/\s+/).map((n) => [n, rule]));

const HEADER_MUTATIONS = all(
  'request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove',
);
const MOVED_PROTOCOL =
  'deprecated: the loader moves it into typed_extension_protocol_options; as in Envoy it has no effect when that already holds HttpProtocolOptions';
const RUNTIME_KEY_IGNORED = ignored(
  'the bundled proxy has no runtime: the configured default value always applies',
);

/** Supported fields, by message full name. A message absent here may be present but empty. */
export const SUPPORTED_FIELDS: Readonly<Record<string, Readonly<Record<string, FieldRule>>>> = {
  // Bootstrap
  'envoy.config.bootstrap.v3.Bootstrap': {
    node: S,
    static_resources: S,
    dynamic_resources: {
      status: 'supported',
      issue: 7,
      note: 'LDS and CDS over one ADS stream to a static cluster (RDS, EDS and SDS follow); see DynamicResources',
    },
    admin: S,
    layered_runtime: ignored(
      'no runtime: runtime keys resolve to the default values written in the config (e.g. filter_enabled.default_value)',
    ),
    stats_config: ignored(
      "stat names and tags follow Envoy's built-in tag extraction; custom stats_tags and stats_matcher are not applied",
    ),
    stats_flush_interval: ignored('no stats sinks: stats are read from the admin endpoints'),
    cluster_manager: S,
  },
  'envoy.config.bootstrap.v3.ClusterManager': {
    outlier_detection: S,
  },
  'envoy.config.bootstrap.v3.ClusterManager.OutlierDetection': {
    event_log_path: ignored(
      'ejections are counted in stats and shown in /clusters; no event log file is written',
    ),
  },
  'envoy.config.core.v3.Node': {
    id: note('shown in /server_info; identifies the proxy to the control plane'),
    cluster: note('shown in /server_info; sent to the control plane'),
    metadata: note('sent to the control plane on the ADS stream; the proxy itself does not read it'),
    locality: note('sent to the control plane on the ADS stream'),
  },
  // Issue 7: a bootstrap that points at a control plane (proxy/xds/). Only ADS is implemented:
  // listeners and clusters (with the routes, endpoints and secrets they name) over one gRPC stream.
  'envoy.config.bootstrap.v3.Bootstrap.DynamicResources': {
    ads_config: { status: 'supported', issue: 7, note: 'the one ADS stream (required)' },
    lds_config: { status: 'supported', issue: 7, note: '`ads: {}` only; required with cds_config' },
    cds_config: { status: 'supported', issue: 7, note: '`ads: {}` only; required with lds_config' },
  },
  'envoy.config.core.v3.ConfigSource': {
    ads: { status: 'supported', issue: 7, note: 'fetched on the ADS stream of dynamic_resources.ads_config' },
    resource_api_version: { status: 'supported', issue: 7, values: ['V3'] },
    initial_fetch_timeout: {
      status: 'ignored',
      issue: 7,
      note: 'the proxy serves once a first complete LDS + CDS state arrives (`crossmesh proxy -c` waits for it as long as it takes; `crossmesh up` and the compose sidecar entry give up after 10 s); a listener or cluster waits at most 1 s for its routes or endpoints',
    },
  },
  'envoy.config.core.v3.ApiConfigSource': {
    api_type: {
      status: 'supported',
      issue: 7,
      values: ['GRPC', 'DELTA_GRPC'],
      note: 'GRPC: state-of-the-world ADS; DELTA_GRPC: incremental ADS (DeltaAggregatedResources)',
    },
    transport_api_version: { status: 'supported', issue: 7, values: ['V3'] },
    grpc_services: {
      status: 'supported',
      issue: 7,
      note: 'exactly one, envoy_grpc, naming a STATIC or STRICT_DNS cluster with HTTP/2 and no transport_socket (plaintext h2c)',
    },
    set_node_on_first_message_only: { status: 'supported', issue: 7 },
  },
  'envoy.config.core.v3.GrpcService': {
    envoy_grpc: { status: 'supported', issue: 7 },
  },
  'envoy.config.core.v3.GrpcService.EnvoyGrpc': {
    cluster_name: { status: 'supported', issue: 7 },
  },
  'envoy.config.core.v3.Locality': all('region zone sub_zone'),
  'envoy.config.bootstrap.v3.Bootstrap.StaticResources': {
    ...all('listeners clusters'),
    secrets: note('named by *_sds_secret_config without sds_config; the loader inlines them'),
  },
  'envoy.extensions.transport_sockets.tls.v3.Secret': all('name tls_certificate validation_context'),
  'envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig': {
    name: note(
      'a secret of static_resources.secrets; or, when the proxy runs from dynamic_resources.ads_config, a Secret fetched over its ADS stream (`sds_config: {ads: {}}`, consumed by the xDS client; a static bootstrap has no ADS and refuses sds_config)',
    ),
  },
  'envoy.config.bootstrap.v3.Admin': {
    address: S,
    access_log: S,
    profile_path: ignored('no CPU profiler'),
  },
  'envoy.config.core.v3.Address': {
    socket_address: S,
    pipe: note(
      'a Unix domain socket: listeners and the admin bind it (a stale socket file is removed first), STATIC cluster endpoints (the ADS cluster too) connect to it; `@name` is a Linux abstract socket',
    ),
  },
  'envoy.config.core.v3.Pipe': {
    path: S,
    mode: note('applied with chmod after the bind (listeners and admin)'),
  },
  'envoy.config.core.v3.SocketAddress': {
    protocol: only(['TCP']),
    address: note('an IP address; for STRICT_DNS/LOGICAL_DNS cluster endpoints a hostname'),
    port_value: note('0 binds an ephemeral port (reported by the admin /listeners endpoint)'),
  },

  // Listeners
  'envoy.config.listener.v3.Listener': {
    name: S,
    address: S,
    filter_chains: S,
    default_filter_chain: note('serves connections no filter_chain_match selects'),
    access_log: S,
    listener_filters: S,
    per_connection_buffer_limit_bytes: S,
    stat_prefix: S,
  },
  'envoy.config.listener.v3.ListenerFilter': all('name typed_config'),
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': {},
  'envoy.config.listener.v3.FilterChain': all('name filter_chain_match filters transport_socket'),
  'envoy.config.listener.v3.FilterChainMatch': {
    server_names: note('matched against the TLS SNI'),
    transport_protocol: note('raw_buffer or tls'),
    application_protocols: note('matched against the TLS ALPN offer'),
  },
  'envoy.config.listener.v3.Filter': all('name typed_config'),
  'envoy.config.core.v3.TransportSocket': all('name typed_config'),

  // HTTP connection manager
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': {
    codec_type: only(['AUTO', 'HTTP1', 'HTTP2']),
    stat_prefix: S,
    route_config: S,
    http_filters: S,
    server_name: S,
    server_header_transformation: S,
    http_protocol_options: S,
    common_http_protocol_options: S,
    http2_protocol_options: S,
    stream_idle_timeout: S,
    request_timeout: S,
    request_headers_timeout: S,
    access_log: S,
    use_remote_address: S,
    xff_num_trusted_hops: S,
    generate_request_id: S,
    preserve_external_request_id: S,
    forward_client_cert_details: note('x-forwarded-client-cert; SANITIZE (remove) when unset, as in Envoy'),
    set_current_client_cert_details: S,
    upgrade_configs: S,
    max_request_headers_kb: S,
  },
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig':
    all('upgrade_type enabled'),
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter': all('name typed_config'),
  'envoy.config.core.v3.HttpProtocolOptions': {
    idle_timeout: S,
    max_connection_duration: S,
    max_headers_count: S,
    max_stream_duration: note(
      'connection manager: the whole stream (408, DT) unless the route sets its own; cluster: each upstream request (408, UMSDR)',
    ),
    max_requests_per_connection: S,
  },
  'envoy.config.core.v3.Http1ProtocolOptions': {
    accept_http_10: note('without it an HTTP/1.0 request gets 426, as in Envoy'),
    default_host_for_http_10: note(
      'the Host of an HTTP/1.0 request that has none (with accept_http_10); without it such a request gets 400, as in Envoy',
    ),
  },
  'envoy.config.core.v3.Http2ProtocolOptions': {
    ...all('hpack_table_size initial_stream_window_size initial_connection_window_size'),
    max_concurrent_streams: note(
      "connection manager: advertised in SETTINGS; cluster: streams per upstream session (the upstream's SETTINGS_MAX_CONCURRENT_STREAMS may lower it): past it another session opens, within max_connections (upstream_cx_overflow otherwise, and the requests wait as pending), as Envoy's pool",
    ),
    allow_connect: note(
      "connection manager: advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441); a CONNECT stream with :protocol is routed and forwarded as an HTTP/1.1 upgrade (GET, upgrade: <protocol>) and the upstream's 101 becomes a 200; as in Envoy no Sec-WebSocket-Key is added, so the client must send one if the upstream wants it. On a cluster it has no effect (upgrades go upstream as HTTP/1.1)",
    ),
  },

  // TCP proxy
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': all(
    'stat_prefix cluster weighted_clusters idle_timeout',
  ),
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster': all('clusters'),
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight': all('name weight'),

  // Routes
  'envoy.config.route.v3.RouteConfiguration': {
    name: S,
    virtual_hosts: S,
    ...HEADER_MUTATIONS,
    validate_clusters: note('route targets are always checked against the static clusters'),
    typed_per_filter_config: PER_FILTER,
  },
  'envoy.config.route.v3.VirtualHost': {
    name: S,
    domains: S,
    routes: S,
    require_tls: note(
      'EXTERNAL_ONLY treats a request as internal only when it carries x-envoy-internal: true',
    ),
    ...HEADER_MUTATIONS,
    retry_policy: S,
    typed_per_filter_config: PER_FILTER,
    rate_limits: RATE_LIMITS,
    ...all('include_request_attempt_count include_attempt_count_in_response', {
      status: 'supported',
      issue: 6,
    }),
  },
  'envoy.config.route.v3.Route': {
    name: S,
    match: S,
    route: S,
    redirect: S,
    direct_response: S,
    ...HEADER_MUTATIONS,
    typed_per_filter_config: PER_FILTER,
  },
  'envoy.config.route.v3.RouteMatch': {
    ...all(
      'prefix path safe_regex path_separated_prefix case_sensitive headers query_parameters grpc runtime_fraction',
    ),
    connect_matcher: note(
      'matches CONNECT requests only (HTTP/1.1 authority-form or an HTTP/2 CONNECT stream); other routes never match CONNECT',
    ),
  },
  'envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions': {},
  'envoy.config.route.v3.HeaderMatcher': {
    name: S,
    string_match: S,
    present_match: S,
    range_match: S,
    invert_match: S,
    treat_missing_header_as_empty: S,
    exact_match: note('deprecated: the loader rewrites it to string_match.exact'),
    prefix_match: note('deprecated: the loader rewrites it to string_match.prefix'),
    suffix_match: note('deprecated: the loader rewrites it to string_match.suffix'),
    contains_match: note('deprecated: the loader rewrites it to string_match.contains'),
    safe_regex_match: note('deprecated: the loader rewrites it to string_match.safe_regex'),
  },
  'envoy.config.route.v3.QueryParameterMatcher': all('name string_match present_match'),
  'envoy.type.matcher.v3.StringMatcher': all('exact prefix suffix safe_regex contains ignore_case'),
  'envoy.type.matcher.v3.RegexMatcher': {
    regex: note('RE2 syntax, run by the JavaScript engine: RE2 and JS agree on the common subset'),
    google_re2: S,
  },
  'envoy.type.matcher.v3.RegexMatcher.GoogleRE2': {
    max_program_size: ignored('deprecated in Envoy; no program-size limit applies'),
  },
  'envoy.type.v3.Int64Range': all('start end'),
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails':
    all('subject uri dns'),
  // RBAC (proxy-mtls): proxy/filters/rbac.ts
  'envoy.extensions.filters.http.rbac.v3.RBAC': {
    rules: S,
    matcher: note(
      'the generic matcher API (first match wins; nothing matched and no on_no_match denies); wins over rules, as in Envoy',
    ),
    rules_stat_prefix: note('counters become http.<stat_prefix>.rbac.<rules_stat_prefix>allowed / denied'),
  },
  // RBAC matcher (proxy-mtls): proxy/filters/rbac-matcher.ts
  'xds.type.matcher.v3.Matcher': all('matcher_list on_no_match'),
  'xds.type.matcher.v3.Matcher.MatcherList': all('matchers'),
  'xds.type.matcher.v3.Matcher.MatcherList.FieldMatcher': all('predicate on_match'),
  'xds.type.matcher.v3.Matcher.MatcherList.Predicate': all(
    'single_predicate or_matcher and_matcher not_matcher',
  ),
  'xds.type.matcher.v3.Matcher.MatcherList.Predicate.SinglePredicate': all('input value_match'),
  'xds.type.matcher.v3.Matcher.MatcherList.Predicate.PredicateList': all('predicate'),
  'xds.type.matcher.v3.Matcher.OnMatch': all('matcher action'),
  'xds.core.v3.TypedExtensionConfig': all('name typed_config'),
  'xds.type.matcher.v3.StringMatcher': all('exact prefix suffix safe_regex contains ignore_case'),
  'xds.type.matcher.v3.RegexMatcher': {
    google_re2: ignored('RE2 is the only engine; its program-size limit is not applied'),
    regex: S,
  },
  'envoy.config.rbac.v3.Action': { name: S, action: only(['ALLOW', 'DENY']) },
  'envoy.type.matcher.v3.HttpRequestHeaderMatchInput': all('header_name'),
  'envoy.config.rbac.v3.RBAC': {
    action: only(['ALLOW', 'DENY']),
    policies: S,
  },
  'envoy.config.rbac.v3.Policy': all('permissions principals'),
  'envoy.config.rbac.v3.Permission': all('any header url_path and_rules or_rules not_rule destination_port'),
  'envoy.config.rbac.v3.Permission.Set': all('rules'),
  'envoy.config.rbac.v3.Principal': {
    ...all('any header url_path and_ids or_ids not_id direct_remote_ip remote_ip'),
    authenticated: note(
      "principal_name matches the client certificate's URI SANs, else DNS SANs, else its subject",
    ),
    source_ip: note('deprecated: the same as direct_remote_ip'),
  },
  'envoy.config.rbac.v3.Principal.Set': all('ids'),
  'envoy.config.rbac.v3.Principal.Authenticated': all('principal_name'),
  'envoy.type.matcher.v3.PathMatcher': {
    path: note('the path without the query string, as Envoy matches it'),
  },
  'envoy.config.core.v3.CidrRange': all('address_prefix prefix_len'),
  'envoy.config.route.v3.RouteAction': {
    cluster: S,
    upgrade_configs: note(
      'per-route upgrade switches over the connection manager ones; CONNECT needs connect_config (forwarding CONNECT upstream as is is not supported)',
    ),
    request_mirror_policies: {
      status: 'supported',
      issue: 7,
      note: 'copies sent once the request is received whole (body up to the buffer limit), fire and forget, host with -shadow; upgrades are not mirrored',
    },
    weighted_clusters: S,
    cluster_not_found_response_code: S,
    cluster_header: S,
    prefix_rewrite: S,
    regex_rewrite: note('RE2 pattern run by the JavaScript engine; \\1-style groups in the substitution'),
    host_rewrite_literal: S,
    timeout: S,
    idle_timeout: note('overrides the stream idle timeout for the route'),
    retry_policy: S,
    hash_policy: S,
    max_stream_duration: S,
    rate_limits: RATE_LIMITS,
    include_vh_rate_limits: {
      status: 'supported',
      issue: 6,
      note: 'deprecated: the same as vh_rate_limits INCLUDE in the local rate limit filter',
    },
  },
  // Issue 6: route rate_limits, read by envoy.filters.http.local_ratelimit (proxy/router/rate-limits.ts)
  'envoy.config.route.v3.RateLimit': {
    stage: R6,
    actions: R6,
    disable_key: {
      status: 'supported',
      issue: 6,
      note: 'no runtime: an entry with a disable_key is skipped, as the local rate limit filter does',
    },
  },
  'envoy.config.route.v3.RateLimit.Action': {
    ...all(
      'source_cluster destination_cluster request_headers remote_address generic_key header_value_match query_parameter_value_match',
      R6,
    ),
    masked_remote_address: {
      status: 'supported',
      issue: 6,
      note: 'the trusted client address masked to a CIDR, printed as Envoy does',
    },
  },
  'envoy.config.route.v3.RateLimit.Action.SourceCluster': {},
  'envoy.config.route.v3.RateLimit.Action.DestinationCluster': {},
  'envoy.config.route.v3.RateLimit.Action.RemoteAddress': {},
  'envoy.config.route.v3.RateLimit.Action.RequestHeaders': all(
    'header_name descriptor_key skip_if_absent',
    R6,
  ),
  'envoy.config.route.v3.RateLimit.Action.MaskedRemoteAddress': all(
    'v4_prefix_mask_len v6_prefix_mask_len',
    R6,
  ),
  'envoy.config.route.v3.RateLimit.Action.GenericKey': all('descriptor_value descriptor_key', R6),
  'envoy.config.route.v3.RateLimit.Action.HeaderValueMatch': all(
    'descriptor_key descriptor_value expect_match headers',
    R6,
  ),
  'envoy.config.route.v3.RateLimit.Action.QueryParameterValueMatch': all(
    'descriptor_key descriptor_value expect_match query_parameters',
    R6,
  ),
  'envoy.config.route.v3.RouteAction.UpgradeConfig': {
    ...all('upgrade_type enabled'),
    connect_config: note(
      'CONNECT termination: the proxy answers 200 and splices the stream with a TCP (or TLS, per the cluster) connection to a host of the cluster; must be empty (proxy_protocol_config and allow_post are not supported)',
    ),
  },
  'envoy.config.route.v3.RouteAction.MaxStreamDuration': {
    max_stream_duration: note('the whole stream, from its start: 408 (DT) before a response, a reset after'),
    grpc_timeout_header_max: {
      ...R6,
      note: "a request's grpc-timeout header becomes its max stream duration, capped here (0: uncapped); expiry answers DEADLINE_EXCEEDED (DT)",
    },
    grpc_timeout_header_offset: {
      ...R6,
      note: 'subtracted from the capped grpc-timeout; nothing left expires the stream at once',
    },
  },
  'envoy.config.route.v3.WeightedCluster': {
    clusters: S,
    total_weight: note('deprecated: the sum of the weights is used'),
    runtime_key_prefix: RUNTIME_KEY_IGNORED,
  },
  'envoy.config.route.v3.WeightedCluster.ClusterWeight': all(
    'name weight request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove host_rewrite_literal',
  ),
  'envoy.type.matcher.v3.RegexMatchAndSubstitute': all('pattern substitution'),
  'envoy.config.route.v3.RouteAction.HashPolicy': all(
    'header cookie connection_properties query_parameter terminal',
  ),
  'envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter': all('name'),
  'envoy.config.route.v3.RouteAction.HashPolicy.Header': all('header_name'),
  'envoy.config.route.v3.RouteAction.HashPolicy.Cookie': all('name ttl path'),
  'envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties': all('source_ip'),
  'envoy.config.route.v3.RetryPolicy': {
    ...all(
      'retry_on num_retries per_try_timeout retry_host_predicate retriable_status_codes retry_back_off retriable_headers',
    ),
    host_selection_retry_max_attempts: S,
  },
  'envoy.config.route.v3.RetryPolicy.RetryHostPredicate': all('name typed_config'),

  'envoy.config.route.v3.RetryPolicy.RetryBackOff': all('base_interval max_interval'),
  'envoy.config.route.v3.RedirectAction': {
    ...all(
      'https_redirect scheme_redirect host_redirect port_redirect path_redirect prefix_rewrite regex_rewrite strip_query',
    ),
    response_code: S,
  },
  'envoy.config.route.v3.DirectResponseAction': all('status body'),
  'envoy.config.core.v3.DataSource': all('filename inline_bytes inline_string'),
  'envoy.config.core.v3.HeaderValueOption': {
    header: S,
    append_action: S,
    keep_empty_value: S,
    append: note('deprecated: the loader rewrites it to append_action'),
  },
  'envoy.config.core.v3.HeaderValue': all('key value'),

  // HTTP filters
  'envoy.extensions.filters.http.router.v3.Router': {
    dynamic_stats: ignored('per-cluster request stats are always kept'),
  },
  'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit': {
    ...all(
      'stat_prefix status token_bucket filter_enabled filter_enforced response_headers_to_add local_rate_limit_per_downstream_connection enable_x_ratelimit_headers',
    ),
    descriptors: {
      status: 'supported',
      issue: 6,
      note: "matched exactly against the descriptors of the route's rate_limits of the same stage; lowest fill rate first",
    },
    stage: R6,
    always_consume_default_token_bucket: R6,
    vh_rate_limits: { status: 'supported', issue: 6, note: 'read from per-route configs only, as in Envoy' },
  },
  'envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor': all('entries token_bucket', R6),
  'envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry': all('key value', R6),
  'envoy.type.v3.HttpStatus': all('code'),
  'envoy.type.v3.TokenBucket': all('max_tokens tokens_per_fill fill_interval'),
  'envoy.config.route.v3.RouteAction.RequestMirrorPolicy': {
    cluster: { status: 'supported', issue: 7 },
    runtime_fraction: { status: 'supported', issue: 7, note: 'default_value; absent mirrors every request' },
    trace_sampled: ignored('no tracing'),
  },
  'envoy.config.core.v3.RuntimeFractionalPercent': {
    default_value: S,
    runtime_key: RUNTIME_KEY_IGNORED,
  },
  'envoy.type.v3.FractionalPercent': all('numerator denominator'),
  'envoy.extensions.filters.http.fault.v3.HTTPFault': {
    ...all('delay abort headers max_active_faults upstream_cluster'),
    ...all(
      'delay_percent_runtime abort_percent_runtime delay_duration_runtime abort_http_status_runtime max_active_faults_runtime abort_grpc_status_runtime',
      RUNTIME_KEY_IGNORED,
    ),
  },
  'envoy.extensions.filters.common.fault.v3.FaultDelay': all('fixed_delay header_delay percentage'),
  'envoy.extensions.filters.http.fault.v3.FaultAbort': all('http_status grpc_status header_abort percentage'),

  // Access logs
  'envoy.config.accesslog.v3.AccessLog': all('name typed_config filter'),
  'envoy.config.accesslog.v3.AccessLogFilter': all(
    'status_code_filter duration_filter not_health_check_filter runtime_filter and_filter or_filter header_filter response_flag_filter',
  ),
  'envoy.config.accesslog.v3.StatusCodeFilter': all('comparison'),
  'envoy.config.accesslog.v3.DurationFilter': all('comparison'),
  'envoy.config.accesslog.v3.ComparisonFilter': all('op value'),
  'envoy.config.core.v3.RuntimeUInt32': { default_value: S, runtime_key: RUNTIME_KEY_IGNORED },
  'envoy.config.accesslog.v3.NotHealthCheckFilter': {},
  'envoy.config.accesslog.v3.RuntimeFilter': {
    percent_sampled: note('sampled with the default percentage (no runtime)'),
    runtime_key: RUNTIME_KEY_IGNORED,
  },
  'envoy.config.accesslog.v3.AndFilter': all('filters'),
  'envoy.config.accesslog.v3.OrFilter': all('filters'),
  'envoy.config.accesslog.v3.HeaderFilter': all('header'),
  'envoy.config.accesslog.v3.ResponseFlagFilter': all('flags'),
  'envoy.extensions.access_loggers.file.v3.FileAccessLog': all('path log_format'),
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': all('log_format'),
  'envoy.extensions.access_loggers.stream.v3.StderrAccessLog': all('log_format'),
  'envoy.config.core.v3.SubstitutionFormatString': all(
    'text_format text_format_source json_format omit_empty_values',
  ),

  // Clusters
  'envoy.config.cluster.v3.Cluster': {
    name: S,
    alt_stat_name: note('names the cluster in stats instead of name'),
    type: only(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS']),
    connect_timeout: S,
    per_connection_buffer_limit_bytes: S,
    lb_policy: only(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV']),
    load_assignment: S,
    health_checks: S,
    circuit_breakers: S,
    typed_extension_protocol_options: S,
    http2_protocol_options: note(MOVED_PROTOCOL),
    http_protocol_options: note(MOVED_PROTOCOL),
    common_http_protocol_options: note(MOVED_PROTOCOL),
    max_requests_per_connection: note(
      'deprecated: the loader moves it into typed_extension_protocol_options (common_http_protocol_options)',
    ),
    dns_refresh_rate: S,
    dns_lookup_family: S,
    outlier_detection: S,
    ring_hash_lb_config: S,
    maglev_lb_config: S,
    least_request_lb_config: S,
    common_lb_config: S,
    transport_socket: S,
    upstream_connection_options: S,
  },
  'envoy.config.cluster.v3.Cluster.RingHashLbConfig': all('minimum_ring_size maximum_ring_size'),
  'envoy.config.cluster.v3.Cluster.MaglevLbConfig': all('table_size'),
  'envoy.config.cluster.v3.Cluster.LeastRequestLbConfig': all('choice_count'),
  'envoy.config.cluster.v3.Cluster.CommonLbConfig': all(
    'healthy_panic_threshold locality_weighted_lb_config',
  ),
  'envoy.type.v3.Percent': all('value'),
  'envoy.config.cluster.v3.UpstreamConnectionOptions': all('tcp_keepalive'),
  'envoy.config.core.v3.TcpKeepalive': {
    keepalive_time: note(
      'Node sets only the idle time before probes; probe count and interval are the OS defaults',
    ),
  },
  'envoy.config.endpoint.v3.ClusterLoadAssignment': all('cluster_name endpoints policy'),
  'envoy.config.endpoint.v3.ClusterLoadAssignment.Policy': all('overprovisioning_factor'),
  'envoy.config.endpoint.v3.LocalityLbEndpoints': {
    ...all('locality lb_endpoints priority'),
    load_balancing_weight: note('used with common_lb_config.locality_weighted_lb_config, as in Envoy'),
  },
  'envoy.config.endpoint.v3.LbEndpoint': all('endpoint health_status load_balancing_weight'),
  'envoy.config.endpoint.v3.Endpoint': {
    address: S,
    hostname: S,
    health_check_config: S,
  },
  'envoy.config.endpoint.v3.Endpoint.HealthCheckConfig': all('port_value'),
  'envoy.config.cluster.v3.CircuitBreakers': all('thresholds'),
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds': {
    priority: S,
    max_connections: note(
      "cluster-wide, as Envoy: a host's first connection is opened even at the limit (upstream_cx_overflow counted), so open connections may reach max_connections + hosts",
    ),
    ...all('max_pending_requests max_requests max_retries'),
    retry_budget: S,
    track_remaining: S,
  },
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget': all(
    'budget_percent min_retry_concurrency',
  ),
  'envoy.config.cluster.v3.OutlierDetection': all(
    'consecutive_5xx consecutive_gateway_failure consecutive_local_origin_failure interval base_ejection_time max_ejection_time max_ejection_time_jitter max_ejection_percent enforcing_consecutive_5xx enforcing_consecutive_gateway_failure enforcing_consecutive_local_origin_failure enforcing_success_rate success_rate_minimum_hosts success_rate_request_volume success_rate_stdev_factor split_external_local_origin_errors failure_percentage_threshold enforcing_failure_percentage failure_percentage_minimum_hosts failure_percentage_request_volume successful_active_health_check_uneject_host',
  ),
  // Active health checking: proxy/upstream/health, run by the ClusterManager.
  'envoy.config.core.v3.HealthCheck': all(
    'timeout interval initial_jitter interval_jitter interval_jitter_percent unhealthy_threshold healthy_threshold alt_port reuse_connection http_health_check tcp_health_check grpc_health_check no_traffic_interval no_traffic_healthy_interval unhealthy_interval unhealthy_edge_interval healthy_edge_interval',
  ),
  'envoy.config.core.v3.HealthCheck.HttpHealthCheck': {
    ...all('host path method request_headers_to_add expected_statuses retriable_statuses'),
    codec_client_type: only(['HTTP1', 'HTTP2']),
  },
  'envoy.config.core.v3.HealthCheck.TcpHealthCheck': all('send receive'),
  'envoy.config.core.v3.HealthCheck.Payload': all('text binary'),
  'envoy.config.core.v3.HealthCheck.GrpcHealthCheck': all('service_name authority'),
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': all(
    'common_http_protocol_options explicit_http_config auto_config',
  ),
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig': all(
    'http_protocol_options http2_protocol_options',
  ),
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig': all(
    'http_protocol_options http2_protocol_options',
  ),

  // TLS
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': all(
    'common_tls_context require_client_certificate',
  ),
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': all('common_tls_context sni'),
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext': {
    ...all('tls_params tls_certificates validation_context alpn_protocols'),
    ...all(
      'tls_certificate_sds_secret_configs validation_context_sds_secret_config',
      note(
        'static secrets, or SDS over ADS under xDS; the loader inlines them as tls_certificates / validation_context (a rotated secret applies to new connections)',
      ),
    ),
    combined_validation_context: note(
      'default_validation_context merged with the secret, as Envoy merges them',
    ),
  },
  'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext': all(
    'default_validation_context validation_context_sds_secret_config',
  ),
  'envoy.extensions.transport_sockets.tls.v3.TlsParameters': {
    tls_minimum_protocol_version: only(['TLS_AUTO', 'TLSv1_2', 'TLSv1_3']),
    tls_maximum_protocol_version: only(['TLS_AUTO', 'TLSv1_2', 'TLSv1_3']),
    cipher_suites: note('OpenSSL cipher names (Node), which match BoringSSL names for TLS 1.2 suites'),
    ecdh_curves: S,
  },
  'envoy.extensions.transport_sockets.tls.v3.TlsCertificate': all('certificate_chain private_key password'),
  'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext': {
    trusted_ca: note('downstream: asks clients for a certificate (required with require_client_certificate)'),
    match_typed_subject_alt_names: note(
      'checked after the handshake (ssl.fail_verify_san); needs trusted_ca, as in Envoy',
    ),
    match_subject_alt_names: note('deprecated: matches SANs of every type'),
  },
  'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher': {
    san_type: only(['URI', 'DNS', 'EMAIL', 'IP_ADDRESS']),
    matcher: S,
  },
};

/** Every typed config the proxy implements, by full message name. */
export const SUPPORTED_TYPED_CONFIGS: Readonly<Record<string, TypedConfigRule>> = {
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': {
    slot: 'network filter',
    extension: 'envoy.filters.network.http_connection_manager',
  },
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': {
    slot: 'network filter',
    extension: 'envoy.filters.network.tcp_proxy',
  },
  'envoy.extensions.filters.http.router.v3.Router': {
    slot: 'HTTP filter',
    extension: 'envoy.filters.http.router',
  },
  'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit': {
    slot: 'HTTP filter',
    extension: 'envoy.filters.http.local_ratelimit',
    issue: 6,
    note: 'descriptors from the route and virtual host rate_limits; with --concurrency N the workers share each bucket as in Envoy: the primary owns it and workers lease tokens in batches of at most 20 ms of the fill rate (measured with 2 workers: 1000 admitted in 10 s at 100/s, the one-bucket count)',
  },
  'envoy.extensions.filters.http.fault.v3.HTTPFault': {
    slot: 'HTTP filter',
    extension: 'envoy.filters.http.fault',
    issue: 6,
  },
  'envoy.extensions.filters.http.rbac.v3.RBAC': {
    slot: 'HTTP filter',
    extension: 'envoy.filters.http.rbac',
    note: 'rules (ALLOW/DENY policies) or a matcher list; denied requests get 403 `RBAC: access denied`; shadow rules and matcher trees (matcher_tree) are not supported',
  },
  'envoy.type.matcher.v3.HttpRequestHeaderMatchInput': {
    slot: 'matching input',
    extension: 'envoy.matching.inputs.request_headers',
    note: 'RBAC matcher; pseudo-headers included',
  },
  ...Object.fromEntries(
    ['SourceIPInput', 'DirectSourceIPInput', 'DestinationPortInput', 'ServerNameInput'].map((t) => [
      `envoy.extensions.matching.common_inputs.network.v3.${t}`,
      {
        slot: 'matching input',
        extension: `envoy.extensions.matching.common_inputs.network.v3.${t}`,
        note: 'RBAC matcher',
      },
    ]),
  ),
  ...Object.fromEntries(
    ['UriSanInput', 'DnsSanInput', 'SubjectInput'].map((t) => [
      `envoy.extensions.matching.common_inputs.ssl.v3.${t}`,
      {
        slot: 'matching input',
        extension: `envoy.extensions.matching.common_inputs.ssl.v3.${t}`,
        note: 'RBAC matcher: the client certificate (several SANs joined by commas)',
      },
    ]),
  ),
  'envoy.config.rbac.v3.Action': {
    slot: 'matching action',
    extension: 'envoy.config.rbac.v3.Action',
    note: 'RBAC matcher',
  },
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': {
    slot: 'listener filter',
    extension: 'envoy.filters.listener.tls_inspector',
    note: 'SNI and ALPN are always inspected on TLS listeners; accepted so Envoy configs load unchanged',
  },
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': {
    slot: 'downstream transport socket',
    extension: 'envoy.transport_sockets.tls',
  },
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': {
    slot: 'upstream transport socket',
    extension: 'envoy.transport_sockets.tls',
  },
  'envoy.extensions.access_loggers.file.v3.FileAccessLog': {
    slot: 'access logger',
    extension: 'envoy.access_loggers.file',
  },
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': {
    slot: 'access logger',
    extension: 'envoy.access_loggers.stdout',
  },
  'envoy.extensions.access_loggers.stream.v3.StderrAccessLog': {
    slot: 'access logger',
    extension: 'envoy.access_loggers.stderr',
  },
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    slot: 'upstream protocol options',
    extension: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  },
  'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate': {
    slot: 'retry host predicate',
    extension: 'envoy.retry_host_predicates.previous_hosts',
    issue: 6,
  },
};

/** Per-route configs are the HTTP filters' own messages, allowed for these filters only. */
const PER_ROUTE_TYPES = new Set([
  'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  'envoy.extensions.filters.http.fault.v3.HTTPFault',
]);

/**
 * Which slot an Any field is: keyed by `<message>.<field>` of the Any field itself, or by
 * `<field that led to the parent>/<field>` where the parent message is shared (TransportSocket).
 */
const SLOTS: Readonly<Record<string, Slot>> = {
  'envoy.config.listener.v3.Filter.typed_config': 'network filter',
  'envoy.config.listener.v3.ListenerFilter.typed_config': 'listener filter',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter.typed_config': 'HTTP filter',
  'envoy.config.accesslog.v3.AccessLog.typed_config': 'access logger',
  'envoy.config.listener.v3.FilterChain.transport_socket/typed_config': 'downstream transport socket',
  'envoy.config.cluster.v3.Cluster.transport_socket/typed_config': 'upstream transport socket',
  'envoy.config.cluster.v3.Cluster.typed_extension_protocol_options': 'upstream protocol options',
  'envoy.config.route.v3.RouteConfiguration.typed_per_filter_config': 'per-route filter config',
  'envoy.config.route.v3.VirtualHost.typed_per_filter_config': 'per-route filter config',
  'envoy.config.route.v3.Route.typed_per_filter_config': 'per-route filter config',
  'envoy.config.route.v3.RetryPolicy.RetryHostPredicate.typed_config': 'retry host predicate',
  'xds.type.matcher.v3.Matcher.MatcherList.Predicate.SinglePredicate.input/typed_config': 'matching input',
  'xds.type.matcher.v3.Matcher.OnMatch.action/typed_config': 'matching action',
};

/** Typed configs of one slot (full message names). */
export function typedConfigsFor(slot: Slot): string[] {
  const all =
    slot === 'per-route filter config'
      ? [...PER_ROUTE_TYPES]
      : Object.entries(SUPPORTED_TYPED_CONFIGS)
          .filter(([, r]) => r.slot === slot)
          .map(([t]) => t);
  return all.sort();
}

/** One use of a field in a config (a deprecated field, for its warning). */
export interface FieldUse {
  /** Path of the field or of the element holding the typed config. */
  readonly path: string;
  /** `path`, plus the element's name for typed configs (`http_filters[0] (envoy.filters.http.fault)`). */
  readonly label: string;
  /** The feature: `<message>.<field>` or an extension name. */
  readonly feature: string;
}

/** What {@link checkSupported} collects besides problems. */
export interface SupportedOptions {
  /** Collects the deprecated fields the config sets (Envoy logs a warning for each). @default - not collected */
  readonly deprecated?: FieldUse[];
}

interface Walk {
  readonly problems: Problem[];
  readonly deprecated: FieldUse[] | undefined;
}

/**
 * Reports every set field of `json` (a canonical `desc` message) outside the supported subset.
 * `path` prefixes the reported paths; problems are appended in document order.
 */
export function checkSupported(
  desc: DescMessage,
  json: Json,
  path: string,
  problems: Problem[],
  options: SupportedOptions = {},
): void {
  walkMessage(desc, json, path, '', { problems, deprecated: options.deprecated });
}

type Obj = { readonly [key: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function unsupported(
  problems: Problem[],
  path: string,
  message: string,
  value: unknown,
  allowed: string,
): void {
  problems.push({ code: 'PROXY_E_UNSUPPORTED', path, message, value, allowed });
}

function walkMessage(desc: DescMessage, json: Json, path: string, via: string, walk: Walk): void {
  if (!isObj(json)) return;
  const rules = SUPPORTED_FIELDS[desc.typeName] ?? {};
  for (const [key, value] of Object.entries(json)) {
    if (key === '@type') continue;
    const field = desc.fields.find((f) => f.name === key);
    if (field === undefined) continue; // canonical JSON only carries known fields
    const fieldPath = joinPath(path, key);
    const rule = rules[key];
    if (rule === undefined) {
      const supported = Object.keys(rules).filter((k) => rules[k]?.status === 'supported');
      unsupported(
        walk.problems,
        fieldPath,
        `${fieldPath}: ${desc.typeName}.${key} is not supported by the bundled proxy${
          supported.length > 0 ? ` (supported fields here: ${supported.join(', ')})` : ''
        }; see docs/proxy-compatibility.md`,
        sampleOf(value),
        supported.length > 0 ? supported.join(', ') : 'no fields',
      );
      continue;
    }
    if (field.deprecated)
      walk.deprecated?.push({ path: fieldPath, label: fieldPath, feature: `${desc.typeName}.${key}` });
    if (rule.status === 'ignored') continue;
    if (
      rule.values !== undefined &&
      rule.values.length > 0 &&
      typeof value === 'string' &&
      !rule.values.includes(value)
    ) {
      unsupported(
        walk.problems,
        fieldPath,
        `${fieldPath}: ${value} is not supported by the bundled proxy; supported: ${rule.values.join(', ')}`,
        value,
        rule.values.join(', '),
      );
      continue;
    }
    if (desc.typeName === 'envoy.config.listener.v3.FilterChainMatch' && key === 'transport_protocol') {
      if (value !== 'raw_buffer' && value !== 'tls') {
        unsupported(
          walk.problems,
          fieldPath,
          `${fieldPath}: transport protocol ${JSON.stringify(value)} is not supported; supported: raw_buffer, tls`,
          value,
          'raw_buffer, tls',
        );
      }
      continue;
    }
    walkField(desc, field, value, fieldPath, via, json, walk);
  }
}

function walkField(
  parent: DescMessage,
  field: DescField,
  value: Json,
  path: string,
  via: string,
  owner: Obj,
  walk: Walk,
): void {
  const fullName = `${parent.typeName}.${field.name}`;
  const message = field.message;
  if (message === undefined) return;
  const slot = SLOTS[fullName] ?? SLOTS[`${via}/${field.name}`];
  if (field.fieldKind === 'map') {
    if (!isObj(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const entryPath = mapKeyPath(path, k);
      if (message.typeName === 'google.protobuf.Any') walkAny(v, entryPath, k, entryPath, slot, walk);
      else walkMessage(message, v, entryPath, fullName, walk);
    }
    return;
  }
  const items = field.fieldKind === 'list' && Array.isArray(value) ? value : [value];
  items.forEach((item, i) => {
    const itemPath = field.fieldKind === 'list' ? `${path}[${i}]` : path;
    if (message.typeName === 'google.protobuf.Any') {
      const name = typeof owner['name'] === 'string' ? owner['name'] : undefined;
      // Name the element holding the typed config (`filters[1] (envoy.filters.http.x)`).
      const ownerPath = field.name === 'typed_config' ? path.slice(0, path.lastIndexOf('.')) : itemPath;
      walkAny(item, itemPath, name, ownerPath, slot, walk);
    } else if (!message.typeName.startsWith('google.protobuf.')) {
      walkMessage(message, item, itemPath, fullName, walk);
    }
  });
}

function walkAny(
  value: Json,
  path: string,
  name: string | undefined,
  ownerPath: string,
  slot: Slot | undefined,
  walk: Walk,
): void {
  if (!isObj(value) || typeof value['@type'] !== 'string') return;
  const typeUrl = value['@type'];
  const typeName = typeNameOf(typeUrl);
  const allowed = slot === undefined ? [] : typedConfigsFor(slot);
  const label = name === undefined ? ownerPath : `${ownerPath} (${name})`;
  if (!allowed.includes(typeName)) {
    const where = slot === undefined ? 'here' : `as ${article(slot)}`;
    const names = allowed.map((t) => SUPPORTED_TYPED_CONFIGS[t]?.extension ?? t);
    unsupported(
      walk.problems,
      ownerPath,
      `${label}: typed config ${typeUrl} is not supported by the bundled proxy ${where}${
        names.length > 0 ? `; supported: ${names.join(', ')}` : ''
      }`,
      typeUrl,
      allowed.length > 0 ? allowed.map((t) => TYPE_URL_PREFIX + t).join(', ') : 'none',
    );
    return;
  }
  const desc = envoyRegistry().getMessage(typeName);
  if (desc !== undefined) walkMessage(desc, value, path, '', walk);
}

function article(slot: Slot): string {
  return /^[aeiouH]/.test(slot) ? `an ${slot}` : `a ${slot}`;
}

function sampleOf(value: Json): unknown {
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'a list' : 'an object';
  return value;
}
