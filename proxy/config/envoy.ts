/**
 * TypeScript shapes of the Envoy v3 configuration subset the bundled proxy reads, exactly as the
 * loader (`proxy/config/load.ts`) returns them: CANONICAL proto3 JSON.
 *
 * Conventions (the loader guarantees them, consumers rely on them):
 * - Field names are the proto field names (snake_case), as Envoy's docs write them.
 * - Enums are their UPPERCASE proto names (`'STRICT_DNS'`), whatever case the file used.
 * - `google.protobuf.Duration` is a string of seconds with an `s` suffix: `"5s"`, `"0.250s"`,
 *   `"1.500s"`. Use `parseDuration()` from `proxy/config/values.ts` to get milliseconds.
 * - Wrapper types (`UInt32Value`, `BoolValue`, `DoubleValue`...) are plain values.
 * - 64-bit integers (`int64`, `uint64` and their wrappers) are STRINGS, as proto3 JSON writes them
 *   (`Int64Range.start`, `maglev_lb_config.table_size`, ...). 32-bit integers are numbers.
 * - `google.protobuf.Any` is `{ "@type": "type.googleapis.com/<full name>", ...fields }`; the typed
 *   configs the proxy understands are narrowed by discriminated unions on `@type` below.
 * - A field at its proto default is ABSENT (proto3 JSON omits defaults): an absent `lb_policy` is
 *   `ROUND_ROBIN`, an absent `use_remote_address` is false. Each field's JSDoc says its default.
 * - Lists are always arrays in the output, even when the file gave a single object.
 * - Deprecated spellings are rewritten (proxy/config/canonicalize.ts), so they never reach the
 *   runtime: HeaderMatcher `exact_match`... become `string_match`, HeaderValueOption `append`
 *   becomes `append_action`, and a cluster's legacy `http2_protocol_options`,
 *   `http_protocol_options`, `common_http_protocol_options`, `max_requests_per_connection` move
 *   into `typed_extension_protocol_options` (HttpProtocolOptions).
 * - The object is deeply frozen.
 *
 * Only fields listed in `proxy/config/supported.ts` can be set in a loaded config (anything else
 * stops start-up with PROXY_E_UNSUPPORTED), so these interfaces declare the supported subset plus
 * the issue-6 resilience fields; they are not the whole Envoy API.
 */

/* ------------------------------------------------------------------------------------------------
 * Common value types (envoy.config.core.v3, envoy.type.v3, envoy.type.matcher.v3)
 * --------------------------------------------------------------------------------------------- */

/** A Duration in canonical proto3 JSON: decimal seconds with an `s` suffix, e.g. `"0.250s"`. */
export type Duration = string;

/** Any typed config: the full type URL plus the message's own fields. */
export interface AnyConfig {
  /** `type.googleapis.com/<full message name>`. */
  readonly '@type': string;
  readonly [field: string]: unknown;
}

/**
 * A message this file does not spell out (outside the supported subset, or tolerated and ignored):
 * its proto3 JSON object.
 */
export type MessageJson = Readonly<Record<string, unknown>>;

/** `envoy.config.core.v3.SocketAddress`. */
export interface SocketAddress {
  /** @default - `TCP` */
  readonly protocol?: 'TCP' | 'UDP';
  /** IP address or (for clusters of type STRICT_DNS/LOGICAL_DNS) a hostname. */
  readonly address: string;
  /** Port; a listener may use 0 for an ephemeral port. @default - 0 */
  readonly port_value?: number;
  /** Named port (not supported by the bundled proxy). */
  readonly named_port?: string;
  /** @default - false */
  readonly ipv4_compat?: boolean;
}

/** `envoy.config.core.v3.Pipe`: a Unix domain socket. */
export interface Pipe {
  readonly path: string;
  /** @default - 0 (no mode change) */
  readonly mode?: number;
}

/** `envoy.config.core.v3.Address`: exactly one of the members is set. */
export interface Address {
  readonly socket_address?: SocketAddress;
  readonly pipe?: Pipe;
}

/** `envoy.config.core.v3.DataSource`: inline data or a file; exactly one is set. */
export interface DataSource {
  readonly filename?: string;
  /** Base64 of the bytes, as proto3 JSON writes `bytes`. */
  readonly inline_bytes?: string;
  readonly inline_string?: string;
  readonly environment_variable?: string;
}

/** `envoy.config.core.v3.HeaderValue`. */
export interface HeaderValue {
  readonly key: string;
  /** @default - `''` */
  readonly value?: string;
  /** Base64 of raw bytes (alternative to `value`). */
  readonly raw_value?: string;
}

/** `envoy.config.core.v3.HeaderValueOption`. */
export interface HeaderValueOption {
  readonly header: HeaderValue;
  /** @deprecated Never set in a loaded config: the loader rewrites it to `append_action`. */
  readonly append?: boolean;
  /** @default - `APPEND_IF_EXISTS_OR_ADD` */
  readonly append_action?:
    | 'APPEND_IF_EXISTS_OR_ADD'
    | 'ADD_IF_ABSENT'
    | 'OVERWRITE_IF_EXISTS_OR_ADD'
    | 'OVERWRITE_IF_EXISTS';
  /** @default - false */
  readonly keep_empty_value?: boolean;
}

/** `envoy.config.core.v3.Node`: identifies the proxy to a control plane. */
export interface Node {
  readonly id?: string;
  readonly cluster?: string;
  /** Free-form `google.protobuf.Struct`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly locality?: Locality;
  readonly user_agent_name?: string;
}

/** `envoy.config.core.v3.Locality`. */
export interface Locality {
  readonly region?: string;
  readonly zone?: string;
  readonly sub_zone?: string;
}

/** `envoy.config.core.v3.RuntimeFractionalPercent`. */
export interface RuntimeFractionalPercent {
  readonly default_value: FractionalPercent;
  readonly runtime_key?: string;
}

/** `envoy.type.v3.FractionalPercent`. */
export interface FractionalPercent {
  /** @default - 0 */
  readonly numerator?: number;
  /** @default - `HUNDRED` */
  readonly denominator?: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';
}

/** `envoy.type.v3.Percent`: a double 0..100. */
export interface Percent {
  /** @default - 0 */
  readonly value?: number;
}

/** `envoy.type.v3.Int64Range`: `[start, end)`; 64-bit so both are strings. */
export interface Int64Range {
  /** @default - `"0"` (absent) */
  readonly start?: string;
  /** @default - `"0"` (absent) */
  readonly end?: string;
}

/** `envoy.config.core.v3.RuntimeUInt32`. */
export interface RuntimeUInt32 {
  /** @default - 0 */
  readonly default_value?: number;
  readonly runtime_key: string;
}

/** `envoy.config.core.v3.RuntimeFeatureFlag`. */
export interface RuntimeFeatureFlag {
  readonly default_value: boolean;
  readonly runtime_key: string;
}

/** `envoy.config.core.v3.TransportSocket`. */
export interface TransportSocket {
  readonly name: string;
  readonly typed_config?: DownstreamTlsContext | UpstreamTlsContext | AnyConfig;
}

/** `envoy.config.core.v3.ConfigSource` (for `rds`, `eds_cluster_config`, `ads_config` users). */
export interface ConfigSource {
  readonly ads?: Readonly<Record<string, never>>;
  readonly api_config_source?: ApiConfigSource;
  readonly path_config_source?: { readonly path: string };
  readonly resource_api_version?: 'AUTO' | 'V2' | 'V3';
  readonly initial_fetch_timeout?: Duration;
}

/** `envoy.config.core.v3.ApiConfigSource`. */
export interface ApiConfigSource {
  readonly api_type:
    | 'DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE'
    | 'REST'
    | 'GRPC'
    | 'DELTA_GRPC'
    | 'AGGREGATED_GRPC';
  readonly transport_api_version?: 'AUTO' | 'V2' | 'V3';
  readonly grpc_services?: readonly GrpcService[];
  readonly set_node_on_first_message_only?: boolean;
  readonly refresh_delay?: Duration;
  readonly request_timeout?: Duration;
}

/** `envoy.config.core.v3.GrpcService`. */
export interface GrpcService {
  readonly envoy_grpc?: { readonly cluster_name: string; readonly authority?: string };
  readonly timeout?: Duration;
}

/** `envoy.type.matcher.v3.RegexMatcher`. */
export interface RegexMatcher {
  /** The RE2 regular expression. */
  readonly regex: string;
  /** Deprecated engine selector; only `google_re2` exists. */
  readonly google_re2?: { readonly max_program_size?: number };
}

/** `envoy.type.matcher.v3.StringMatcher`: exactly one of the match members is set. */
export interface StringMatcher {
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly safe_regex?: RegexMatcher;
  readonly contains?: string;
  /** @default - false */
  readonly ignore_case?: boolean;
}

/* ------------------------------------------------------------------------------------------------
 * Bootstrap
 * --------------------------------------------------------------------------------------------- */

/** `envoy.config.bootstrap.v3.Bootstrap`: the root of a proxy configuration file. */
export interface Bootstrap {
  readonly node?: Node;
  readonly static_resources?: StaticResources;
  readonly dynamic_resources?: DynamicResources;
  readonly admin?: Admin;
  /** Tolerated and ignored: the bundled proxy has no runtime (see supported.ts for why). */
  readonly layered_runtime?: MessageJson;
  /** Tolerated and ignored: stats tag extraction uses the built-in Envoy defaults. */
  readonly stats_config?: MessageJson;
  readonly stats_flush_interval?: Duration;
  readonly cluster_manager?: {
    readonly local_cluster_name?: string;
    readonly outlier_detection?: { readonly event_log_path?: string };
  };
}

/** `Bootstrap.StaticResources`. */
export interface StaticResources {
  readonly listeners?: readonly Listener[];
  readonly clusters?: readonly Cluster[];
  readonly secrets?: readonly Secret[];
}

/** `Bootstrap.DynamicResources`: xDS sources. Not in the supported subset until issue 7 (xDS client). */
export interface DynamicResources {
  readonly lds_config?: ConfigSource;
  readonly cds_config?: ConfigSource;
  readonly ads_config?: ApiConfigSource;
}

/** `envoy.config.bootstrap.v3.Admin`. */
export interface Admin {
  readonly address?: Address;
  readonly access_log?: readonly AccessLog[];
  /** Deprecated path form of an admin access log. */
  readonly access_log_path?: string;
  readonly profile_path?: string;
}

/* ------------------------------------------------------------------------------------------------
 * Listener and network filters
 * --------------------------------------------------------------------------------------------- */

/** `envoy.config.listener.v3.Listener`. */
export interface Listener {
  readonly name?: string;
  readonly address: Address;
  readonly filter_chains?: readonly FilterChain[];
  readonly default_filter_chain?: FilterChain;
  readonly listener_filters?: readonly ListenerFilter[];
  /** UInt32Value. @default - 1 MiB */
  readonly per_connection_buffer_limit_bytes?: number;
  readonly stat_prefix?: string;
  readonly drain_type?: 'DEFAULT' | 'MODIFY_ONLY';
  readonly access_log?: readonly AccessLog[];
}

/** `envoy.config.listener.v3.ListenerFilter`, e.g. `envoy.filters.listener.tls_inspector`. */
export interface ListenerFilter {
  readonly name: string;
  readonly typed_config?: AnyConfig;
}

/** `envoy.config.listener.v3.FilterChain`. */
export interface FilterChain {
  readonly name?: string;
  readonly filter_chain_match?: FilterChainMatch;
  readonly filters?: readonly NetworkFilter[];
  readonly transport_socket?: TransportSocket;
  readonly transport_socket_connect_timeout?: Duration;
}

/** `envoy.config.listener.v3.FilterChainMatch`. */
export interface FilterChainMatch {
  /** UInt32Value. */
  readonly destination_port?: number;
  readonly server_names?: readonly string[];
  /** `raw_buffer` or `tls`. */
  readonly transport_protocol?: string;
  readonly application_protocols?: readonly string[];
}

/** `envoy.config.listener.v3.Filter`: a network filter. */
export interface NetworkFilter {
  readonly name: string;
  readonly typed_config?: HttpConnectionManager | TcpProxy | AnyConfig;
}

/** Type URL of {@link HttpConnectionManager}. */
export const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
/** Type URL of {@link TcpProxy}. */
export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`. */
export interface HttpConnectionManager {
  readonly '@type': typeof HCM_TYPE;
  /** @default - `AUTO` */
  readonly codec_type?: 'AUTO' | 'HTTP1' | 'HTTP2' | 'HTTP3';
  readonly stat_prefix: string;
  readonly rds?: Rds;
  readonly route_config?: RouteConfiguration;
  readonly http_filters?: readonly HttpFilter[];
  /** Value of the `server` response header. @default - `envoy` */
  readonly server_name?: string;
  /** @default - `OVERWRITE` */
  readonly server_header_transformation?: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  readonly common_http_protocol_options?: HttpProtocolOptions;
  readonly http_protocol_options?: Http1ProtocolOptions;
  readonly http2_protocol_options?: Http2ProtocolOptions;
  /** @default - 5 minutes */
  readonly stream_idle_timeout?: Duration;
  /** @default - disabled */
  readonly request_timeout?: Duration;
  /** @default - disabled */
  readonly request_headers_timeout?: Duration;
  /** @default - 5s */
  readonly drain_timeout?: Duration;
  /** @default - Envoy's own default */
  readonly delayed_close_timeout?: Duration;
  readonly access_log?: readonly AccessLog[];
  /** BoolValue. @default - false */
  readonly use_remote_address?: boolean;
  /** @default - 0 */
  readonly xff_num_trusted_hops?: number;
  /** BoolValue. @default - true */
  readonly generate_request_id?: boolean;
  /** @default - false */
  readonly preserve_external_request_id?: boolean;
  /** @default - `SANITIZE` */
  readonly forward_client_cert_details?:
    | 'SANITIZE'
    | 'FORWARD_ONLY'
    | 'APPEND_FORWARD'
    | 'SANITIZE_SET'
    | 'ALWAYS_FORWARD_ONLY';
  /** What an x-forwarded-client-cert element carries besides By and Hash. @default - nothing */
  readonly set_current_client_cert_details?: {
    readonly subject?: boolean;
    readonly cert?: boolean;
    readonly chain?: boolean;
    readonly dns?: boolean;
    readonly uri?: boolean;
  };
  readonly upgrade_configs?: readonly UpgradeConfig[];
  /** BoolValue. @default - false */
  readonly normalize_path?: boolean;
  /** @default - false */
  readonly merge_slashes?: boolean;
  /** UInt32Value. @default - 60 KiB */
  readonly max_request_headers_kb?: number;
  /** @default - `KEEP_UNCHANGED` */
  readonly path_with_escaped_slashes_action?:
    | 'IMPLEMENTATION_SPECIFIC_DEFAULT'
    | 'KEEP_UNCHANGED'
    | 'REJECT_REQUEST'
    | 'UNESCAPE_AND_REDIRECT'
    | 'UNESCAPE_AND_FORWARD';
  readonly internal_address_config?: MessageJson;
  readonly local_reply_config?: MessageJson;
  readonly tracing?: MessageJson;
}

/** `HttpConnectionManager.UpgradeConfig`. */
export interface UpgradeConfig {
  /** e.g. `websocket`. */
  readonly upgrade_type: string;
  /** BoolValue. @default - true */
  readonly enabled?: boolean;
}

/** `envoy.extensions.filters.network.http_connection_manager.v3.Rds`. */
export interface Rds {
  readonly config_source: ConfigSource;
  readonly route_config_name: string;
}

/** `envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter`. */
export interface HttpFilter {
  readonly name: string;
  readonly typed_config?: RouterFilter | LocalRateLimit | HttpFault | Rbac | AnyConfig;
  /** @default - false */
  readonly is_optional?: boolean;
  /** @default - false */
  readonly disabled?: boolean;
}

/** `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`. */
export interface TcpProxy {
  readonly '@type': typeof TCP_PROXY_TYPE;
  readonly stat_prefix: string;
  readonly cluster?: string;
  readonly weighted_clusters?: {
    readonly clusters: readonly { readonly name: string; readonly weight: number }[];
  };
  /** @default - 1 hour */
  readonly idle_timeout?: Duration;
  readonly access_log?: readonly AccessLog[];
  /** UInt32Value. @default - 1 */
  readonly max_connect_attempts?: number;
  readonly max_downstream_connection_duration?: Duration;
}

/* ------------------------------------------------------------------------------------------------
 * HTTP protocol options (envoy.config.core.v3.protocol)
 * --------------------------------------------------------------------------------------------- */

/** `envoy.config.core.v3.HttpProtocolOptions`: shared by downstream and upstream. */
export interface HttpProtocolOptions {
  /** @default - 1 hour for upstream connections, none downstream */
  readonly idle_timeout?: Duration;
  readonly max_connection_duration?: Duration;
  /** UInt32Value. @default - 100 */
  readonly max_headers_count?: number;
  readonly max_stream_duration?: Duration;
  /** @default - `ALLOW` */
  readonly headers_with_underscores_action?: 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';
  /** UInt32Value. @default - unlimited */
  readonly max_requests_per_connection?: number;
}

/** `envoy.config.core.v3.Http1ProtocolOptions`. */
export interface Http1ProtocolOptions {
  /** BoolValue. @default - false */
  readonly allow_absolute_url?: boolean;
  /** @default - false */
  readonly accept_http_10?: boolean;
  readonly default_host_for_http_10?: string;
  /** @default - false */
  readonly enable_trailers?: boolean;
}

/** `envoy.config.core.v3.Http2ProtocolOptions`. */
export interface Http2ProtocolOptions {
  /** UInt32Value. @default - 100 */
  readonly hpack_table_size?: number;
  /** UInt32Value. @default - 2147483647 */
  readonly max_concurrent_streams?: number;
  /** UInt32Value. @default - 256 MiB */
  readonly initial_stream_window_size?: number;
  /** UInt32Value. @default - 256 MiB */
  readonly initial_connection_window_size?: number;
  /** @default - false */
  readonly allow_connect?: boolean;
  readonly connection_keepalive?: {
    readonly interval?: Duration;
    readonly timeout: Duration;
    readonly interval_jitter?: Percent;
    readonly connection_idle_interval?: Duration;
  };
}

/** Type URL of {@link UpstreamHttpProtocolOptions}. */
export const UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE =
  'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** `envoy.extensions.upstreams.http.v3.HttpProtocolOptions`: a cluster's upstream protocol. */
export interface UpstreamHttpProtocolOptions {
  readonly '@type': typeof UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE;
  readonly common_http_protocol_options?: HttpProtocolOptions;
  readonly upstream_http_protocol_options?: {
    readonly auto_sni?: boolean;
    readonly auto_san_validation?: boolean;
  };
  /** Exactly one of explicit_http_config, use_downstream_protocol_config, auto_config is set. */
  readonly explicit_http_config?: {
    readonly http_protocol_options?: Http1ProtocolOptions;
    readonly http2_protocol_options?: Http2ProtocolOptions;
  };
  readonly use_downstream_protocol_config?: {
    readonly http_protocol_options?: Http1ProtocolOptions;
    readonly http2_protocol_options?: Http2ProtocolOptions;
  };
  readonly auto_config?: {
    readonly http_protocol_options?: Http1ProtocolOptions;
    readonly http2_protocol_options?: Http2ProtocolOptions;
  };
}

/* ------------------------------------------------------------------------------------------------
 * TLS (envoy.extensions.transport_sockets.tls.v3)
 * --------------------------------------------------------------------------------------------- */

/** Type URL of {@link DownstreamTlsContext}. */
export const DOWNSTREAM_TLS_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
/** Type URL of {@link UpstreamTlsContext}. */
export const UPSTREAM_TLS_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** TLS protocol versions as Envoy names them. */
export type TlsProtocol = 'TLS_AUTO' | 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';

/** `TlsParameters`. */
export interface TlsParameters {
  /** @default - `TLS_AUTO` (TLSv1.2 for both sides) */
  readonly tls_minimum_protocol_version?: TlsProtocol;
  /** @default - `TLS_AUTO` (TLSv1.3 for both sides) */
  readonly tls_maximum_protocol_version?: TlsProtocol;
  readonly cipher_suites?: readonly string[];
  readonly ecdh_curves?: readonly string[];
}

/** `TlsCertificate`. */
export interface TlsCertificate {
  readonly certificate_chain?: DataSource;
  readonly private_key?: DataSource;
  readonly password?: DataSource;
}

/** `CertificateValidationContext`. */
export interface CertificateValidationContext {
  readonly trusted_ca?: DataSource;
  readonly match_typed_subject_alt_names?: readonly {
    readonly san_type: 'SAN_TYPE_UNSPECIFIED' | 'EMAIL' | 'DNS' | 'URI' | 'IP_ADDRESS' | 'OTHER_NAME';
    readonly matcher: StringMatcher;
  }[];
  /** Deprecated form of `match_typed_subject_alt_names` (SAN of any type). */
  readonly match_subject_alt_names?: readonly StringMatcher[];
  /** @default - `VERIFY_TRUST_CHAIN` */
  readonly trust_chain_verification?: 'VERIFY_TRUST_CHAIN' | 'ACCEPT_UNTRUSTED';
}

/** `SdsSecretConfig`: a secret by name (static `secrets` or SDS). */
export interface SdsSecretConfig {
  readonly name: string;
  readonly sds_config?: ConfigSource;
}

/** `CommonTlsContext`. */
export interface CommonTlsContext {
  readonly tls_params?: TlsParameters;
  readonly tls_certificates?: readonly TlsCertificate[];
  /** Never set in a loaded bootstrap: static secrets are inlined into `tls_certificates`. */
  readonly tls_certificate_sds_secret_configs?: readonly SdsSecretConfig[];
  readonly validation_context?: CertificateValidationContext;
  /** Never set in a loaded bootstrap: a static secret is inlined into `validation_context`. */
  readonly validation_context_sds_secret_config?: SdsSecretConfig;
  readonly alpn_protocols?: readonly string[];
}

/** `DownstreamTlsContext`. */
export interface DownstreamTlsContext {
  readonly '@type': typeof DOWNSTREAM_TLS_TYPE;
  readonly common_tls_context?: CommonTlsContext;
  /** BoolValue. @default - false */
  readonly require_client_certificate?: boolean;
  readonly session_timeout?: Duration;
}

/** `UpstreamTlsContext`. */
export interface UpstreamTlsContext {
  readonly '@type': typeof UPSTREAM_TLS_TYPE;
  readonly common_tls_context?: CommonTlsContext;
  /** SNI sent upstream. @default - none */
  readonly sni?: string;
  /** @default - false */
  readonly allow_renegotiation?: boolean;
}

/** `envoy.extensions.transport_sockets.tls.v3.Secret` (static `secrets`, SDS). */
export interface Secret {
  readonly name: string;
  readonly tls_certificate?: TlsCertificate;
  readonly validation_context?: CertificateValidationContext;
}

/* ------------------------------------------------------------------------------------------------
 * Routes (envoy.config.route.v3)
 * --------------------------------------------------------------------------------------------- */

/** `RouteConfiguration`. */
export interface RouteConfiguration {
  readonly name?: string;
  readonly virtual_hosts?: readonly VirtualHost[];
  readonly response_headers_to_add?: readonly HeaderValueOption[];
  readonly response_headers_to_remove?: readonly string[];
  readonly request_headers_to_add?: readonly HeaderValueOption[];
  readonly request_headers_to_remove?: readonly string[];
  /** BoolValue. @default - true when the config has a cluster_header route */
  readonly validate_clusters?: boolean;
  readonly internal_only_headers?: readonly string[];
  /** @default - false */
  readonly most_specific_header_mutations_wins?: boolean;
  readonly typed_per_filter_config?: Readonly<Record<string, AnyConfig>>;
}

/** `VirtualHost`. */
export interface VirtualHost {
  readonly name: string;
  /** `*`, `example.com`, `*.example.com`, `example.*`, optionally with `:port`. */
  readonly domains: readonly string[];
  readonly routes?: readonly Route[];
  /** @default - `NONE` */
  readonly require_tls?: 'NONE' | 'EXTERNAL_ONLY' | 'ALL';
  readonly request_headers_to_add?: readonly HeaderValueOption[];
  readonly request_headers_to_remove?: readonly string[];
  readonly response_headers_to_add?: readonly HeaderValueOption[];
  readonly response_headers_to_remove?: readonly string[];
  readonly retry_policy?: RetryPolicy;
  readonly hedge_policy?: MessageJson;
  readonly typed_per_filter_config?: Readonly<Record<string, AnyConfig>>;
  readonly include_request_attempt_count?: boolean;
  readonly include_attempt_count_in_response?: boolean;
  /** Issue 6: descriptors for the local rate limit filter (see {@link RateLimit}). */
  readonly rate_limits?: readonly RateLimit[];
}

/**
 * `envoy.config.route.v3.RateLimit` (issue 6): the actions that turn a request into one
 * rate-limit descriptor, read by `envoy.filters.http.local_ratelimit`.
 */
export interface RateLimit {
  /** UInt32Value, 0..10; only filters of the same stage read this entry. @default - 0 */
  readonly stage?: number;
  /** A runtime key that disables the entry; any non-empty key skips it, as Envoy does. */
  readonly disable_key?: string;
  readonly actions: readonly RateLimitAction[];
  readonly limit?: MessageJson;
}

/** `RateLimit.Action`: exactly one action member. */
export interface RateLimitAction {
  readonly source_cluster?: Readonly<Record<string, never>>;
  readonly destination_cluster?: Readonly<Record<string, never>>;
  readonly request_headers?: {
    readonly header_name: string;
    readonly descriptor_key: string;
    /** @default - false */
    readonly skip_if_absent?: boolean;
  };
  readonly remote_address?: Readonly<Record<string, never>>;
  readonly masked_remote_address?: {
    /** UInt32Value, 0..32. @default - 32 */
    readonly v4_prefix_mask_len?: number;
    /** UInt32Value, 0..128. @default - 128 */
    readonly v6_prefix_mask_len?: number;
  };
  readonly generic_key?: { readonly descriptor_value: string; readonly descriptor_key?: string };
  readonly header_value_match?: {
    readonly descriptor_key?: string;
    readonly descriptor_value: string;
    /** BoolValue. @default - true */
    readonly expect_match?: boolean;
    readonly headers: readonly HeaderMatcher[];
  };
  readonly query_parameter_value_match?: {
    readonly descriptor_key?: string;
    readonly descriptor_value: string;
    /** BoolValue. @default - true */
    readonly expect_match?: boolean;
    readonly query_parameters: readonly QueryParameterMatcher[];
  };
  readonly dynamic_metadata?: MessageJson;
  readonly metadata?: MessageJson;
  readonly extension?: MessageJson;
}

/** `Route`: exactly one of route, redirect, direct_response is set. */
export interface Route {
  readonly name?: string;
  readonly match: RouteMatch;
  readonly route?: RouteAction;
  readonly redirect?: RedirectAction;
  readonly direct_response?: DirectResponseAction;
  readonly request_headers_to_add?: readonly HeaderValueOption[];
  readonly request_headers_to_remove?: readonly string[];
  readonly response_headers_to_add?: readonly HeaderValueOption[];
  readonly response_headers_to_remove?: readonly string[];
  readonly typed_per_filter_config?: Readonly<Record<string, AnyConfig>>;
  readonly decorator?: { readonly operation: string; readonly propagate?: boolean };
}

/** `RouteMatch`: exactly one path specifier (prefix, path, safe_regex, path_separated_prefix). */
export interface RouteMatch {
  readonly prefix?: string;
  readonly path?: string;
  readonly safe_regex?: RegexMatcher;
  readonly path_separated_prefix?: string;
  readonly connect_matcher?: Readonly<Record<string, never>>;
  /** BoolValue. @default - true */
  readonly case_sensitive?: boolean;
  readonly runtime_fraction?: RuntimeFractionalPercent;
  readonly headers?: readonly HeaderMatcher[];
  readonly query_parameters?: readonly QueryParameterMatcher[];
  /** Present (as `{}`) to match only gRPC requests. */
  readonly grpc?: Readonly<Record<string, never>>;
  readonly tls_context?: { readonly presented?: boolean; readonly validated?: boolean };
}

/** `HeaderMatcher`: at most one match member; none set means "present". */
export interface HeaderMatcher {
  /** Header name; pseudo-headers like `:method` allowed. */
  readonly name: string;
  /** @deprecated Never set in a loaded config: rewritten to `string_match.exact`. */
  readonly exact_match?: string;
  /** @deprecated Never set in a loaded config: rewritten to `string_match.safe_regex`. */
  readonly safe_regex_match?: RegexMatcher;
  readonly range_match?: Int64Range;
  readonly present_match?: boolean;
  /** @deprecated Never set in a loaded config: rewritten to `string_match.prefix`. */
  readonly prefix_match?: string;
  /** @deprecated Never set in a loaded config: rewritten to `string_match.suffix`. */
  readonly suffix_match?: string;
  /** @deprecated Never set in a loaded config: rewritten to `string_match.contains`. */
  readonly contains_match?: string;
  /** Also carries the deprecated `exact_match`, `prefix_match`... forms (rewritten by the loader). */
  readonly string_match?: StringMatcher;
  /** @default - false */
  readonly invert_match?: boolean;
  /** @default - false */
  readonly treat_missing_header_as_empty?: boolean;
}

/** `QueryParameterMatcher`: string_match or present_match (none = present). */
export interface QueryParameterMatcher {
  readonly name: string;
  readonly string_match?: StringMatcher;
  readonly present_match?: boolean;
}

/** `RouteAction`: exactly one of cluster, cluster_header, weighted_clusters. */
export interface RouteAction {
  readonly cluster?: string;
  readonly cluster_header?: string;
  readonly weighted_clusters?: WeightedCluster;
  /** @default - `SERVICE_UNAVAILABLE` (503) */
  readonly cluster_not_found_response_code?: 'SERVICE_UNAVAILABLE' | 'NOT_FOUND' | 'INTERNAL_SERVER_ERROR';
  readonly prefix_rewrite?: string;
  readonly regex_rewrite?: { readonly pattern: RegexMatcher; readonly substitution: string };
  readonly host_rewrite_literal?: string;
  /** BoolValue. */
  readonly auto_host_rewrite?: boolean;
  readonly host_rewrite_header?: string;
  /** @default - 15s; `"0s"` disables */
  readonly timeout?: Duration;
  readonly idle_timeout?: Duration;
  readonly retry_policy?: RetryPolicy;
  readonly request_mirror_policies?: readonly {
    readonly cluster: string;
    readonly runtime_fraction?: RuntimeFractionalPercent;
    readonly trace_sampled?: boolean;
  }[];
  /** @default - `DEFAULT` */
  readonly priority?: 'DEFAULT' | 'HIGH';
  readonly hash_policy?: readonly HashPolicy[];
  readonly upgrade_configs?: readonly {
    readonly upgrade_type: string;
    readonly enabled?: boolean;
    /** Present (empty): the proxy terminates CONNECT itself (proxy_protocol_config, allow_post unsupported). */
    readonly connect_config?: Readonly<Record<string, never>>;
  }[];
  readonly max_stream_duration?: {
    readonly max_stream_duration?: Duration;
    readonly grpc_timeout_header_max?: Duration;
    readonly grpc_timeout_header_offset?: Duration;
  };
  /** Issue 6: descriptors for the local rate limit filter. */
  readonly rate_limits?: readonly RateLimit[];
  /** BoolValue, deprecated: INCLUDE the virtual host's rate_limits too. @default - false */
  readonly include_vh_rate_limits?: boolean;
}

/** `WeightedCluster`. */
export interface WeightedCluster {
  readonly clusters: readonly {
    readonly name: string;
    /** UInt32Value. */
    readonly weight?: number;
    readonly request_headers_to_add?: readonly HeaderValueOption[];
    readonly request_headers_to_remove?: readonly string[];
    readonly response_headers_to_add?: readonly HeaderValueOption[];
    readonly response_headers_to_remove?: readonly string[];
    readonly host_rewrite_literal?: string;
    readonly typed_per_filter_config?: Readonly<Record<string, AnyConfig>>;
  }[];
  /** UInt32Value, deprecated: the sum of weights is the total. */
  readonly total_weight?: number;
  readonly runtime_key_prefix?: string;
}

/** `RouteAction.HashPolicy`: exactly one policy member. */
export interface HashPolicy {
  readonly header?: { readonly header_name: string; readonly regex_rewrite?: MessageJson };
  readonly cookie?: { readonly name: string; readonly ttl?: Duration; readonly path?: string };
  readonly connection_properties?: { readonly source_ip?: boolean };
  readonly query_parameter?: { readonly name: string };
  readonly filter_state?: { readonly key: string };
  /** @default - false */
  readonly terminal?: boolean;
}

/** `RetryPolicy` (issue 6). */
export interface RetryPolicy {
  /** Comma-separated conditions: `5xx,gateway-error,reset,connect-failure,...`. */
  readonly retry_on?: string;
  /** UInt32Value. @default - 1 */
  readonly num_retries?: number;
  readonly per_try_timeout?: Duration;
  readonly per_try_idle_timeout?: Duration;
  readonly retry_host_predicate?: readonly { readonly name: string; readonly typed_config?: AnyConfig }[];
  /** @default - 0 */
  readonly host_selection_retry_max_attempts?: string;
  readonly retriable_status_codes?: readonly number[];
  readonly retry_back_off?: { readonly base_interval: Duration; readonly max_interval?: Duration };
  readonly retriable_headers?: readonly HeaderMatcher[];
  readonly retriable_request_headers?: readonly HeaderMatcher[];
}

/** `RedirectAction`. */
export interface RedirectAction {
  readonly https_redirect?: boolean;
  readonly scheme_redirect?: string;
  readonly host_redirect?: string;
  /** @default - 0 (keep) */
  readonly port_redirect?: number;
  readonly path_redirect?: string;
  readonly prefix_rewrite?: string;
  readonly regex_rewrite?: { readonly pattern: RegexMatcher; readonly substitution: string };
  /** @default - `MOVED_PERMANENTLY` (301) */
  readonly response_code?:
    | 'MOVED_PERMANENTLY'
    | 'FOUND'
    | 'SEE_OTHER'
    | 'TEMPORARY_REDIRECT'
    | 'PERMANENT_REDIRECT';
  /** @default - false */
  readonly strip_query?: boolean;
}

/** `DirectResponseAction`. */
export interface DirectResponseAction {
  /** HTTP status, 200..599. */
  readonly status: number;
  readonly body?: DataSource;
}

/* ------------------------------------------------------------------------------------------------
 * HTTP filters
 * --------------------------------------------------------------------------------------------- */

/** Type URL of {@link RouterFilter}. */
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
/** Type URL of {@link LocalRateLimit}. */
export const LOCAL_RATELIMIT_TYPE =
  'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
/** Type URL of {@link HttpFault}. */
export const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
/** Type URL of {@link Rbac}. */
export const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

/** `envoy.extensions.filters.http.router.v3.Router`. */
export interface RouterFilter {
  readonly '@type': typeof ROUTER_TYPE;
  /** BoolValue. @default - true */
  readonly dynamic_stats?: boolean;
  /** @default - false */
  readonly suppress_envoy_headers?: boolean;
  readonly upstream_log?: readonly AccessLog[];
  /** @default - false */
  readonly respect_expected_rq_timeout?: boolean;
}

/** `envoy.type.v3.TokenBucket`. */
export interface TokenBucket {
  readonly max_tokens: number;
  /** UInt32Value. @default - 1 */
  readonly tokens_per_fill?: number;
  readonly fill_interval: Duration;
}

/** `envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor`: entries matched exactly, in order. */
export interface LocalRateLimitDescriptor {
  readonly entries: readonly { readonly key: string; readonly value: string }[];
  readonly token_bucket: TokenBucket;
}

/** `envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit` (issue 6). */
export interface LocalRateLimit {
  readonly '@type': typeof LOCAL_RATELIMIT_TYPE;
  readonly stat_prefix: string;
  readonly status?: { readonly code: number };
  readonly token_bucket?: TokenBucket;
  readonly filter_enabled?: RuntimeFractionalPercent;
  readonly filter_enforced?: RuntimeFractionalPercent;
  readonly request_headers_to_add_when_not_enforced?: readonly HeaderValueOption[];
  readonly response_headers_to_add?: readonly HeaderValueOption[];
  readonly descriptors?: readonly LocalRateLimitDescriptor[];
  /** 0..10: which route `rate_limits` entries this filter reads. @default - 0 */
  readonly stage?: number;
  /** Per-route configs only: how the virtual host's rate_limits combine with the route's. @default - `OVERRIDE` */
  readonly vh_rate_limits?: 'OVERRIDE' | 'INCLUDE' | 'IGNORE';
  readonly local_rate_limit_per_downstream_connection?: boolean;
  /** @default - `DRAFT_VERSION_03` */
  readonly enable_x_ratelimit_headers?: 'OFF' | 'DRAFT_VERSION_03';
  readonly always_consume_default_token_bucket?: boolean;
}

/** `envoy.extensions.filters.http.fault.v3.HTTPFault` (issue 6). */
export interface HttpFault {
  readonly '@type': typeof FAULT_TYPE;
  readonly delay?: {
    readonly fixed_delay?: Duration;
    readonly header_delay?: Readonly<Record<string, never>>;
    readonly percentage?: FractionalPercent;
  };
  readonly abort?: {
    readonly http_status?: number;
    readonly grpc_status?: number;
    readonly header_abort?: Readonly<Record<string, never>>;
    readonly percentage?: FractionalPercent;
  };
  readonly upstream_cluster?: string;
  readonly headers?: readonly HeaderMatcher[];
  readonly downstream_nodes?: readonly string[];
  /** UInt32Value. */
  readonly max_active_faults?: number;
  readonly response_rate_limit?: MessageJson;
  readonly delay_percent_runtime?: string;
  readonly abort_percent_runtime?: string;
  readonly delay_duration_runtime?: string;
  readonly abort_http_status_runtime?: string;
  readonly max_active_faults_runtime?: string;
  readonly abort_grpc_status_runtime?: string;
}

/** `envoy.extensions.filters.http.rbac.v3.RBAC`: shape kept open (policy trees are deep). */
export interface Rbac {
  readonly '@type': typeof RBAC_TYPE;
  readonly rules?: Readonly<Record<string, unknown>>;
  readonly matcher?: Readonly<Record<string, unknown>>;
  readonly shadow_rules?: Readonly<Record<string, unknown>>;
  readonly rules_stat_prefix?: string;
}

/* ------------------------------------------------------------------------------------------------
 * Access logs
 * --------------------------------------------------------------------------------------------- */

/** Type URL of {@link FileAccessLog}. */
export const FILE_ACCESS_LOG_TYPE =
  'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
/** Type URL of {@link StdoutAccessLog}. */
export const STDOUT_ACCESS_LOG_TYPE =
  'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
/** Type URL of {@link StderrAccessLog}. */
export const STDERR_ACCESS_LOG_TYPE =
  'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

/** `envoy.config.accesslog.v3.AccessLog`. */
export interface AccessLog {
  readonly name?: string;
  readonly filter?: MessageJson;
  readonly typed_config?: FileAccessLog | StdoutAccessLog | StderrAccessLog | AnyConfig;
}

/** `envoy.config.core.v3.SubstitutionFormatString`: text or JSON format. */
export interface SubstitutionFormatString {
  /** Deprecated inline text format. */
  readonly text_format?: string;
  readonly text_format_source?: DataSource;
  /** `google.protobuf.Struct` whose string leaves are format strings. */
  readonly json_format?: Readonly<Record<string, unknown>>;
  /** @default - false */
  readonly omit_empty_values?: boolean;
  readonly content_type?: string;
}

/** `envoy.extensions.access_loggers.file.v3.FileAccessLog`. */
export interface FileAccessLog {
  readonly '@type': typeof FILE_ACCESS_LOG_TYPE;
  readonly path: string;
  /** Deprecated text format. */
  readonly format?: string;
  /** Deprecated JSON format. */
  readonly json_format?: Readonly<Record<string, unknown>>;
  readonly log_format?: SubstitutionFormatString;
}

/** `envoy.extensions.access_loggers.stream.v3.StdoutAccessLog`. */
export interface StdoutAccessLog {
  readonly '@type': typeof STDOUT_ACCESS_LOG_TYPE;
  readonly log_format?: SubstitutionFormatString;
}

/** `envoy.extensions.access_loggers.stream.v3.StderrAccessLog`. */
export interface StderrAccessLog {
  readonly '@type': typeof STDERR_ACCESS_LOG_TYPE;
  readonly log_format?: SubstitutionFormatString;
}

/* ------------------------------------------------------------------------------------------------
 * Clusters and endpoints (envoy.config.cluster.v3, envoy.config.endpoint.v3)
 * --------------------------------------------------------------------------------------------- */

/** Cluster discovery types. */
export type ClusterDiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';

/** Load-balancing policies. */
export type LbPolicy =
  | 'ROUND_ROBIN'
  | 'LEAST_REQUEST'
  | 'RING_HASH'
  | 'RANDOM'
  | 'MAGLEV'
  | 'CLUSTER_PROVIDED'
  | 'LOAD_BALANCING_POLICY_CONFIG';

/** `envoy.config.cluster.v3.Cluster`. */
export interface Cluster {
  readonly name: string;
  readonly alt_stat_name?: string;
  /** Oneof with cluster_type; present whenever the file set it. @default - `STATIC` */
  readonly type?: ClusterDiscoveryType;
  readonly eds_cluster_config?: { readonly eds_config?: ConfigSource; readonly service_name?: string };
  /** @default - 5s */
  readonly connect_timeout?: Duration;
  /** UInt32Value. @default - 1 MiB */
  readonly per_connection_buffer_limit_bytes?: number;
  /** @default - `ROUND_ROBIN` */
  readonly lb_policy?: LbPolicy;
  readonly load_assignment?: ClusterLoadAssignment;
  readonly health_checks?: readonly HealthCheck[];
  readonly circuit_breakers?: CircuitBreakers;
  /**
   * Options by extension name. The upstream HTTP protocol lives under the key
   * `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` (the loader also moves the deprecated
   * cluster-level protocol fields there). Absent: HTTP/1.1 upstream.
   */
  readonly typed_extension_protocol_options?: Readonly<
    Record<string, UpstreamHttpProtocolOptions | AnyConfig>
  >;
  /** @default - 5s */
  readonly dns_refresh_rate?: Duration;
  readonly dns_failure_refresh_rate?: { readonly base_interval: Duration; readonly max_interval?: Duration };
  /** @default - false */
  readonly respect_dns_ttl?: boolean;
  /** @default - `AUTO` (Envoy prefers IPv6 with IPv4 fallback) */
  readonly dns_lookup_family?: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  readonly outlier_detection?: OutlierDetection;
  readonly cleanup_interval?: Duration;
  readonly upstream_bind_config?: { readonly source_address: SocketAddress };
  readonly ring_hash_lb_config?: {
    /** UInt64Value (string). @default - `"1024"` */
    readonly minimum_ring_size?: string;
    /** UInt64Value (string). @default - `"8388608"` */
    readonly maximum_ring_size?: string;
    /** @default - `XX_HASH` */
    readonly hash_function?: 'XX_HASH' | 'MURMUR_HASH_2';
  };
  readonly maglev_lb_config?: {
    /** UInt64Value (string), a prime. @default - `"65537"` */
    readonly table_size?: string;
  };
  readonly least_request_lb_config?: {
    /** UInt32Value. @default - 2 */
    readonly choice_count?: number;
    readonly active_request_bias?: { readonly default_value: number; readonly runtime_key: string };
  };
  readonly common_lb_config?: {
    /** Percent. @default - 50 */
    readonly healthy_panic_threshold?: Percent;
    readonly locality_weighted_lb_config?: Readonly<Record<string, never>>;
    readonly zone_aware_lb_config?: MessageJson;
    readonly update_merge_window?: Duration;
  };
  readonly transport_socket?: TransportSocket;
  readonly upstream_connection_options?: {
    readonly tcp_keepalive?: {
      /** UInt32Value. */
      readonly keepalive_probes?: number;
      /** UInt32Value, seconds. */
      readonly keepalive_time?: number;
      /** UInt32Value, seconds. */
      readonly keepalive_interval?: number;
    };
  };
  /** @default - false */
  readonly close_connections_on_host_health_failure?: boolean;
  /** @default - false */
  readonly ignore_health_on_host_removal?: boolean;
  readonly metadata?: MessageJson;
}

/** `envoy.config.endpoint.v3.ClusterLoadAssignment` (inline `load_assignment` or an EDS resource). */
export interface ClusterLoadAssignment {
  readonly cluster_name: string;
  readonly endpoints?: readonly LocalityLbEndpoints[];
  readonly policy?: {
    readonly drop_overloads?: readonly MessageJson[];
    /** UInt32Value. @default - 140 */
    readonly overprovisioning_factor?: number;
    readonly endpoint_stale_after?: Duration;
    readonly weighted_priority_health?: boolean;
  };
}

/** `LocalityLbEndpoints`. */
export interface LocalityLbEndpoints {
  readonly locality?: Locality;
  readonly lb_endpoints?: readonly LbEndpoint[];
  /** UInt32Value: the locality's weight for locality-weighted LB. */
  readonly load_balancing_weight?: number;
  /** 0 is the highest priority. @default - 0 */
  readonly priority?: number;
}

/** `LbEndpoint`. */
export interface LbEndpoint {
  readonly endpoint?: Endpoint;
  readonly endpoint_name?: string;
  /** @default - `UNKNOWN` (treated as healthy) */
  readonly health_status?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';
  readonly metadata?: MessageJson;
  /** UInt32Value. @default - 1 */
  readonly load_balancing_weight?: number;
}

/** `Endpoint`. */
export interface Endpoint {
  readonly address?: Address;
  readonly health_check_config?: {
    /** Port the active health checker uses instead of the endpoint's. @default - 0 (same port) */
    readonly port_value?: number;
    readonly hostname?: string;
    readonly address?: Address;
    readonly disable_active_health_check?: boolean;
  };
  /** Host header / SNI name for this endpoint. */
  readonly hostname?: string;
}

/** `envoy.config.cluster.v3.CircuitBreakers` (issue 6). */
export interface CircuitBreakers {
  readonly thresholds?: readonly CircuitBreakerThresholds[];
  readonly per_host_thresholds?: readonly CircuitBreakerThresholds[];
}

/** `CircuitBreakers.Thresholds`. All counts are UInt32Value. */
export interface CircuitBreakerThresholds {
  /** @default - `DEFAULT` */
  readonly priority?: 'DEFAULT' | 'HIGH';
  /** @default - 1024 */
  readonly max_connections?: number;
  /** @default - 1024 */
  readonly max_pending_requests?: number;
  /** @default - 1024 */
  readonly max_requests?: number;
  /** @default - 3 */
  readonly max_retries?: number;
  readonly retry_budget?: {
    readonly budget_percent?: Percent;
    /** UInt32Value. */
    readonly min_retry_concurrency?: number;
  };
  /** @default - false */
  readonly track_remaining?: boolean;
  /** UInt32Value. */
  readonly max_connection_pools?: number;
}

/** `envoy.config.cluster.v3.OutlierDetection` (issue 6). Counts and percents are UInt32Value. */
export interface OutlierDetection {
  /** @default - 5 */
  readonly consecutive_5xx?: number;
  /** @default - 10s */
  readonly interval?: Duration;
  /** @default - 30s */
  readonly base_ejection_time?: Duration;
  /** @default - 10 (%) */
  readonly max_ejection_percent?: number;
  /** @default - 100 */
  readonly enforcing_consecutive_5xx?: number;
  /** @default - 100 */
  readonly enforcing_success_rate?: number;
  /** @default - 5 */
  readonly success_rate_minimum_hosts?: number;
  /** @default - 100 */
  readonly success_rate_request_volume?: number;
  /** @default - 1900 (1.9 standard deviations x 1000) */
  readonly success_rate_stdev_factor?: number;
  /** @default - 5 */
  readonly consecutive_gateway_failure?: number;
  /** @default - 0 */
  readonly enforcing_consecutive_gateway_failure?: number;
  /** @default - false */
  readonly split_external_local_origin_errors?: boolean;
  /** @default - 5 */
  readonly consecutive_local_origin_failure?: number;
  /** @default - 100 */
  readonly enforcing_consecutive_local_origin_failure?: number;
  /** @default - 100 */
  readonly enforcing_local_origin_success_rate?: number;
  /** @default - 85 */
  readonly failure_percentage_threshold?: number;
  /** @default - 0 */
  readonly enforcing_failure_percentage?: number;
  /** @default - 0 */
  readonly enforcing_failure_percentage_local_origin?: number;
  /** @default - 5 */
  readonly failure_percentage_minimum_hosts?: number;
  /** @default - 50 */
  readonly failure_percentage_request_volume?: number;
  /** @default - 300s or base_ejection_time, whichever is larger */
  readonly max_ejection_time?: Duration;
  readonly max_ejection_time_jitter?: Duration;
  /** BoolValue. @default - true */
  readonly successful_active_health_check_uneject_host?: boolean;
}

/** `envoy.config.core.v3.HealthCheck` (issue 6): exactly one checker member is set. */
export interface HealthCheck {
  readonly timeout: Duration;
  readonly interval: Duration;
  readonly initial_jitter?: Duration;
  readonly interval_jitter?: Duration;
  /** @default - 0 */
  readonly interval_jitter_percent?: number;
  /** UInt32Value. */
  readonly unhealthy_threshold: number;
  /** UInt32Value. */
  readonly healthy_threshold: number;
  /** UInt32Value: port override for the check. */
  readonly alt_port?: number;
  /** BoolValue. @default - true */
  readonly reuse_connection?: boolean;
  readonly http_health_check?: {
    readonly host?: string;
    readonly path: string;
    readonly request_headers_to_add?: readonly HeaderValueOption[];
    readonly request_headers_to_remove?: readonly string[];
    /** Ranges `[start, end)` of accepted statuses (64-bit: strings). @default - 200 only */
    readonly expected_statuses?: readonly Int64Range[];
    readonly retriable_statuses?: readonly Int64Range[];
    /** @default - `HTTP1` */
    readonly codec_client_type?: 'HTTP1' | 'HTTP2' | 'HTTP3';
    /** @default - `GET` */
    readonly method?: string;
  };
  readonly tcp_health_check?: {
    readonly send?: { readonly text?: string; readonly binary?: string };
    readonly receive?: readonly { readonly text?: string; readonly binary?: string }[];
  };
  readonly grpc_health_check?: { readonly service_name?: string; readonly authority?: string };
  /** @default - 60s */
  readonly no_traffic_interval?: Duration;
  readonly no_traffic_healthy_interval?: Duration;
  readonly unhealthy_interval?: Duration;
  readonly unhealthy_edge_interval?: Duration;
  readonly healthy_edge_interval?: Duration;
  readonly event_log_path?: string;
  /** @default - false */
  readonly always_log_health_check_failures?: boolean;
}

/* ------------------------------------------------------------------------------------------------
 * xDS resource type URLs (validateEnvoyResource)
 * --------------------------------------------------------------------------------------------- */

/** Type URLs of the xDS resources `validateEnvoyResource` accepts, with their TS shapes. */
export interface XdsResourceTypes {
  'type.googleapis.com/envoy.config.listener.v3.Listener': Listener;
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': RouteConfiguration;
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': Cluster;
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': ClusterLoadAssignment;
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret': Secret;
}

/** One of the xDS resource type URLs. */
export type XdsTypeUrl = keyof XdsResourceTypes;
