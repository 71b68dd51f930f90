// The issue-6 row of the proxy benchmark: the same listener, route and cluster as the plain
// crossmesh row, with every resilience feature on, none of them tripping on healthy traffic:
// local_ratelimit (checked and enforced on every request, a bucket far above the offered rate),
// the fault filter (header-controlled abort and delay, evaluated per request, no header sent),
// a retry policy with per-try timeout and previous_hosts, outlier detection, circuit breakers
// with a retry budget, and an active HTTP health check. run.mjs imports it and adds the row.

/** The Envoy config of the resilience row, as YAML. */
export function resilienceConfig(listenerPort, upstreamPort) {
  return `static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: ${listenerPort} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: upstream
                  retry_policy:
                    retry_on: 5xx,reset,connect-failure
                    num_retries: 2
                    per_try_timeout: 2s
                    retry_host_predicate:
                    - name: envoy.retry_host_predicates.previous_hosts
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate }
          http_filters:
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: http_local_rate_limiter
              token_bucket: { max_tokens: 10000000, tokens_per_fill: 10000000, fill_interval: 1s }
              filter_enabled: { default_value: { numerator: 100, denominator: HUNDRED } }
              filter_enforced: { default_value: { numerator: 100, denominator: HUNDRED } }
          - name: envoy.filters.http.fault
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
              abort: { header_abort: {}, percentage: { numerator: 100 } }
              delay: { header_delay: {}, percentage: { numerator: 100 } }
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    circuit_breakers:
      thresholds:
      - max_connections: 1024
        max_pending_requests: 1024
        max_requests: 1024
        retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: 3 }
    outlier_detection: { consecutive_5xx: 5, interval: 1s, base_ejection_time: 30s }
    health_checks:
    - timeout: 1s
      interval: 1s
      no_traffic_interval: 1s
      unhealthy_threshold: 2
      healthy_threshold: 1
      http_health_check: { path: / }
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;
}
