/**
 * The cluster manager: every static cluster by name, built and validated at start-up (a bad
 * cluster stops start-up with its path; nothing is half-built), DNS refresh timers for DNS
 * clusters, and Envoy's `cluster_manager.*` stats.
 */
import { promises as dns } from 'node:dns';
import { MeshError, type Problem } from '../../errors/index.js';
import type { Cluster } from '../config/envoy.js';
import type { StatsStore } from '../stats/store.js';
import { type LookupFn, UpstreamCluster } from './cluster.js';
import { HealthChecker } from './health/checker.js';
import { OutlierDetector } from './outlier.js';

/** Options for {@link ClusterManager}. */
export interface ClusterManagerOptions {
  /** Config path of the cluster list, for errors. @default `static_resources.clusters` */
  readonly path?: string;
  /** Name lookup for STRICT_DNS / LOGICAL_DNS. @default - the OS resolver (`dns.lookup`, reads /etc/hosts) */
  readonly lookup?: LookupFn;
  /** Random source in [0, 1) for the load balancers and health check jitter. @default Math.random */
  readonly random?: () => number;
  /** Longest one DNS round may take before it counts as a failure (c-ares' 5 s in Envoy). @default 5000 */
  readonly dnsTimeoutMs?: number;
  /**
   * The manager this one replaces (an xDS update). Endpoints that did not change keep their Host
   * objects, so connection pools, per-host stats, in-flight counts and active health results carry
   * over instead of starting cold. @default - every host is new
   */
  readonly previous?: ClusterManager;
  /**
   * Run the clusters' `health_checks` and `outlier_detection`. Off for config validation, where
   * no timer or socket should start. @default true
   */
  readonly healthChecks?: boolean;
}

const osLookup: LookupFn = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** Every upstream cluster. */
export class ClusterManager {
  private readonly byName = new Map<string, UpstreamCluster>();
  private readonly checkers: HealthChecker[] = [];

  /**
   * Builds every cluster. Problems in several clusters are reported together in one MeshError.
   * @throws MeshError naming each field at fault
   */
  constructor(clusters: readonly Cluster[], stats: StatsStore, opts: ClusterManagerOptions = {}) {
    const base = opts.path ?? 'static_resources.clusters';
    const options = {
      lookup: opts.lookup ?? osLookup,
      random: opts.random ?? Math.random,
      dnsTimeoutMs: opts.dnsTimeoutMs ?? 5000,
    };
    const problems: Problem[] = [];
    const names = new Set<string>();
    clusters.forEach((c, i) => {
      const path = `${base}[${i}]`;
      try {
        if (names.has(c.name)) {
          throw new MeshError('PROXY_E_INVALID', `cluster name ${JSON.stringify(c.name)} is used twice`, {
            path: `${path}.name`,
            value: c.name,
            allowed: 'unique cluster names',
          });
        }
        names.add(c.name);
        const before = opts.previous?.get(c.name);
        const reuse = before === undefined ? undefined : new Map(before.hosts.map((h) => [h.reuseKey, h]));
        const cluster = new UpstreamCluster(
          c,
          stats,
          path,
          reuse === undefined ? options : { ...options, reuse },
        );
        this.byName.set(c.name, cluster);
        if (opts.healthChecks !== false) {
          if (c.outlier_detection !== undefined) {
            cluster.outlierDetector = new OutlierDetector(
              cluster,
              c.outlier_detection,
              stats,
              `${path}.outlier_detection`,
              {
                random: options.random,
              },
            );
          }
          const detector = cluster.outlierDetector;
          (c.health_checks ?? []).forEach((hc, hi) => {
            this.checkers.push(
              new HealthChecker(cluster, hc, `${path}.health_checks[${hi}]`, {
                random: options.random,
                hooks: detector === undefined ? {} : { onSuccess: (h) => detector.onHealthCheckSuccess(h) },
              }),
            );
          });
        }
      } catch (error) {
        if (!(error instanceof MeshError)) throw error;
        problems.push(...error.problems);
      }
    });
    if (problems.length > 0) {
      this.close();
      throw MeshError.fromProblems(problems);
    }
    // Accepted whole: each updated cluster keeps counting on its previous circuit breakers.
    for (const cluster of this.byName.values()) {
      const before = opts.previous?.get(cluster.name);
      if (before !== undefined) cluster.keepResources(before);
    }
    stats.gauge('cluster_manager.active_clusters').set(this.byName.size);
    stats.counter('cluster_manager.cluster_added').add(this.byName.size);
    stats.gauge('cluster_manager.warming_clusters').set(0);
  }

  /** The cluster called `name`, or undefined. */
  get(name: string): UpstreamCluster | undefined {
    return this.byName.get(name);
  }

  /** Every cluster, in config order. */
  all(): UpstreamCluster[] {
    return [...this.byName.values()];
  }

  /**
   * Resolves when every DNS cluster finished its first resolution and every health-checked host
   * had its first check (Envoy's cluster warming).
   */
  async ready(): Promise<void> {
    await Promise.all(this.all().map((c) => c.initialized));
    await Promise.all(this.checkers.map((h) => h.initialized()));
  }

  /** The active health checkers, one per cluster `health_checks` entry. */
  healthCheckers(): readonly HealthChecker[] {
    return this.checkers;
  }

  /** Stops every DNS refresh timer, health checker and outlier detector. */
  close(): void {
    for (const h of this.checkers) h.stop();
    for (const c of this.byName.values()) {
      c.outlierDetector?.stop();
      c.close();
    }
  }
}
