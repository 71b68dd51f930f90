/**
 * The proxy's stats: a store of counters, gauges and histograms with Envoy's names, pre-resolved
 * bundles for the hot path, and Envoy's text, JSON and Prometheus renderings.
 */

export type { StatsFilter, StatsJson } from './format.js';
export { formatStatsJson, formatStatsPrometheus, formatStatsText, prometheusName } from './format.js';
export {
  ClusterStats,
  HttpConnectionManagerStats,
  ListenerHttpStats,
  ListenerStats,
  listenerStatAddress,
  ResponseCodeCounters,
  SERVER_STATE,
  ServerStats,
  sanitizeStatName,
  TcpProxyStats,
} from './scopes.js';
export type { Stat } from './store.js';
export {
  Counter,
  DEFAULT_HISTOGRAM_BUCKETS,
  Gauge,
  Histogram,
  StatsStore,
  SUPPORTED_QUANTILES,
} from './store.js';
export type { StatTag } from './tags.js';
export { extractTags } from './tags.js';
