// The configs the proxy benchmark runs, built from one set of pieces so that run.mjs and
// profile.mjs measure the same thing: the plain crossmesh row (one HTTP listener, a prefix route
// to one STATIC cluster, stats on, no access log), the issue-6 resilience row (the same listener,
// route and cluster with every resilience feature on, none of them tripping on healthy traffic),
// and the nginx `return 200` upstream both rows stand in front of.
import { stringify } from 'yaml';

const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

/** A socket address on loopback. */
function loopback(port) {
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

/**
 * The bootstrap both crossmesh rows share: listener `ingress` on `listenerPort`, one virtual host
 * routing every path to the STATIC cluster `upstream` at `upstreamPort`. `route` adds RouteAction
 * fields, `filters` go before the router, `cluster` adds Cluster fields.
 */
function crossmeshBootstrap(listenerPort, upstreamPort, { route = {}, filters = [], cluster = {} } = {}) {
  return {
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: loopback(listenerPort),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress_http',
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream', ...route } }],
                        },
                      ],
                    },
                    http_filters: [...filters, ROUTER],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'upstream',
          type: 'STATIC',
          connect_timeout: '1s',
          ...cluster,
          load_assignment: {
            cluster_name: 'upstream',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: loopback(upstreamPort) } }] }],
          },
        },
      ],
    },
  };
}

/** Plain YAML: a value used twice is written out twice, not as an anchor and an alias. */
function toYaml(bootstrap) {
  return stringify(bootstrap, { aliasDuplicateObjects: false });
}

/** The plain crossmesh row's config, as YAML: routing and stats, nothing else. */
export function plainConfig(listenerPort, upstreamPort) {
  return toYaml(crossmeshBootstrap(listenerPort, upstreamPort));
}

const ALWAYS = { default_value: { numerator: 100, denominator: 'HUNDRED' } };

/**
 * The resilience row's config, as YAML: local_ratelimit (checked and enforced on every request, a
 * bucket far above the offered rate), the fault filter (header-controlled abort and delay,
 * evaluated per request, no header sent), a retry policy with per-try timeout and
 * previous_hosts, outlier detection, circuit breakers with a retry budget, and an active HTTP
 * health check.
 */
export function resilienceConfig(listenerPort, upstreamPort) {
  return toYaml(
    crossmeshBootstrap(listenerPort, upstreamPort, {
      route: {
        retry_policy: {
          retry_on: '5xx,reset,connect-failure',
          num_retries: 2,
          per_try_timeout: '2s',
          retry_host_predicate: [
            {
              name: 'envoy.retry_host_predicates.previous_hosts',
              typed_config: {
                '@type':
                  'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
              },
            },
          ],
        },
      },
      filters: [
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
            stat_prefix: 'http_local_rate_limiter',
            token_bucket: { max_tokens: 10000000, tokens_per_fill: 10000000, fill_interval: '1s' },
            filter_enabled: ALWAYS,
            filter_enforced: ALWAYS,
          },
        },
        {
          name: 'envoy.filters.http.fault',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
            abort: { header_abort: {}, percentage: { numerator: 100 } },
            delay: { header_delay: {}, percentage: { numerator: 100 } },
          },
        },
      ],
      cluster: {
        circuit_breakers: {
          thresholds: [
            {
              max_connections: 1024,
              max_pending_requests: 1024,
              max_requests: 1024,
              retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: 3 },
            },
          ],
        },
        outlier_detection: { consecutive_5xx: 5, interval: '1s', base_ejection_time: '30s' },
        health_checks: [
          {
            timeout: '1s',
            interval: '1s',
            no_traffic_interval: '1s',
            unhealthy_threshold: 2,
            healthy_threshold: 1,
            http_health_check: { path: '/' },
          },
        ],
      },
    }),
  );
}

/**
 * nginx.conf of the upstream every row measures against: one worker answering `return 200`,
 * keep-alive effectively unlimited so wrk and the proxies never reconnect. `dir` holds its pid.
 */
export function upstreamNginxConfig(dir, upstreamPort) {
  return `worker_processes 1; daemon off; master_process off; pid ${dir}/up.pid; error_log stderr error;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 100000000; keepalive_timeout 300s;
  server { listen 127.0.0.1:${upstreamPort} reuseport backlog=4096; location / { return 200 'ok'; } } }
`;
}
