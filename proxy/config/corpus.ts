/**
 * What the loader does with each real-world config in `../shared/envoy-corpus/` (third-party
 * Envoy configs, kept outside the repository). test/proxy/config/corpus.test.ts loads every file
 * and fails unless the outcome is exactly the one recorded here, and docs/proxy-compatibility.md
 * prints this table, so the documentation cannot claim more than the code does.
 */
import type { ErrorCode } from '../../errors/index.js';

/** One expected problem: its code, its exact path, and the extension or field name the message must name. */
export interface ExpectedProblem {
  readonly code: ErrorCode;
  readonly path: string;
  readonly names: string;
}

/** One corpus file and its outcome. */
export interface CorpusEntry {
  /** File name in ../shared/envoy-corpus/. */
  readonly file: string;
  /** What the config exercises. */
  readonly summary: string;
  /** Every problem reported, in order; empty when the config loads. */
  readonly problems: readonly ExpectedProblem[];
  /** Deprecated fields a loading config uses (PROXY_W_DEPRECATED), each with every path. @default - none */
  readonly warnings?: readonly { readonly feature: string; readonly paths: readonly string[] }[];
}

/** The corpus, in file-name order. */
export const ENVOY_CORPUS: readonly CorpusEntry[] = [
  {
    file: 'envoy__examples__double-proxy__envoy-frontend.yaml',
    summary:
      'TCP listener with postgres_proxy + tcp_proxy, lowercase strict_dns, upstream TLS with file certs and SAN match',
    problems: [
      {
        code: 'PROXY_E_UNSUPPORTED',
        path: 'static_resources.listeners[0].filter_chains[0].filters[0]',
        names: 'envoy.filters.network.postgres_proxy',
      },
    ],
  },
  {
    file: 'examples__dynamic-config-cp__envoy.yaml',
    summary: 'ADS (LDS+CDS) from a control plane over an HTTP/2 STRICT_DNS cluster; no static listeners',
    problems: [],
  },
  {
    file: 'examples__fault-injection__envoy.yaml',
    summary:
      'HTTP listener, stdout access log, fault filter (abort + delay), STRICT_DNS cluster, disk runtime layer',
    problems: [],
  },
  {
    file: 'examples__front-proxy__envoy.yaml',
    summary:
      'Two HTTP listeners (plain and downstream TLS with inline cert), prefix routes, two STRICT_DNS clusters',
    problems: [],
  },
  {
    file: 'examples__local_ratelimit__envoy.yaml',
    summary:
      'local_ratelimit filter (token bucket, runtime-keyed enable/enforce, response header), STATIC + STRICT_DNS',
    problems: [],
  },
  {
    file: 'examples__locality-load-balancing__envoy.yaml',
    summary: 'Locality-weighted LB over priorities 0-2, HTTP active health checks, health_check_config port',
    problems: [],
  },
  {
    file: 'examples__rbac__envoy.yaml',
    summary: 'RBAC HTTP filter with an xDS matcher list (deny a referer by regex, allow the rest)',
    problems: [],
  },
  {
    file: 'examples__tls__envoy-https-https.yaml',
    summary: 'Downstream TLS listener, upstream TLS cluster pinned to TLS 1.3',
    problems: [],
  },
  {
    file: 'istio__pkg__bootstrap__testdata__default_golden.json',
    summary:
      "Istio's sidecar bootstrap: ADS over a Unix socket (pipe) cluster, an SDS pipe cluster, stats tags, circuit breakers, runtime layers; loads, and starts against a control plane on the mapped socket",
    problems: [],
    warnings: [
      {
        feature: 'envoy.config.cluster.v3.Cluster.max_requests_per_connection',
        paths: ['static_resources.clusters[3].max_requests_per_connection'],
      },
    ],
  },
];
