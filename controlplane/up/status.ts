/**
 * `crossmesh status`: the running topology with health, from three sources: the state file
 * `crossmesh up` writes (what runs where), the control plane's status API (which proxies are
 * connected, the versions they ACKed, their last NACK) and each proxy's admin `/clusters` (the
 * health of the upstream hosts it sees).
 */
import type { ControlPlaneStatus, NodeStatus } from '../server.js';
import type { LocalMeshState } from './state.js';

/** Health of one proxy's upstreams, from its admin `/clusters?format=json`. */
export interface UpstreamHealth {
  /** Hosts over every cluster. */
  readonly hosts: number;
  /** Hosts without a failed health flag. */
  readonly healthy: number;
  /** Clusters with no healthy host. */
  readonly emptyClusters: readonly string[];
}

/** One row of the status report. */
export interface StatusRow {
  readonly kind: 'sidecar' | 'gateway';
  readonly name: string;
  readonly version: string;
  readonly index: number;
  /** `running`, `exited`, `not running`. */
  readonly process: string;
  /** xDS: connected, in sync with the current snapshot, last NACK. */
  readonly xds: NodeStatus | undefined;
  /** Upstream health, or the reason it is unknown. */
  readonly upstreams: UpstreamHealth | string;
}

/** The whole report. */
export interface StatusReport {
  readonly mesh: string;
  readonly controlPlane: string;
  readonly upSince: string;
  readonly rows: readonly StatusRow[];
}

interface ClustersJson {
  readonly cluster_statuses?: readonly {
    readonly name: string;
    readonly host_statuses?: readonly { readonly health_status?: Readonly<Record<string, unknown>> }[];
  }[];
}

const FAILED = ['failed_active_health_check', 'failed_outlier_check', 'eds_health_status_unhealthy'];

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** Upstream health of the proxy whose admin listens on `port` (local and xDS clusters excluded). */
export async function upstreamHealth(port: number): Promise<UpstreamHealth | string> {
  try {
    const json = (await getJson(`http://127.0.0.1:${port}/clusters?format=json`)) as ClustersJson;
    let hosts = 0;
    let healthy = 0;
    const empty: string[] = [];
    for (const cluster of json.cluster_statuses ?? []) {
      if (cluster.name === 'xds' || cluster.name.startsWith('local|') || cluster.name === 'gateway|internal')
        continue;
      let good = 0;
      for (const host of cluster.host_statuses ?? []) {
        hosts += 1;
        const status = host.health_status ?? {};
        const bad = FAILED.some((flag) => status[flag] === true) || status.eds_health_status === 'UNHEALTHY';
        if (!bad) good += 1;
      }
      healthy += good;
      if (good === 0) empty.push(cluster.name);
    }
    return { hosts, healthy, emptyClusters: empty };
  } catch (error) {
    return `admin unreachable (${(error as Error).message})`;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Gathers the report for a state file. */
export async function gatherStatus(state: LocalMeshState): Promise<StatusReport> {
  let nodes: readonly NodeStatus[] = [];
  let controlPlane = state.controlPlane.grpc;
  try {
    nodes = ((await getJson(state.controlPlane.status)) as ControlPlaneStatus).nodes;
  } catch (error) {
    controlPlane = `${state.controlPlane.grpc} (unreachable: ${(error as Error).message})`;
  }
  const upAlive = alive(state.pid);
  const rows: StatusRow[] = await Promise.all([
    ...state.instances.map(
      async (i): Promise<StatusRow> => ({
        kind: 'sidecar',
        name: i.service,
        version: i.version,
        index: i.index,
        process: alive(i.pid) ? 'running' : i.process === 'running' ? 'not running' : i.process,
        xds: nodes.find((n) => n.id === i.node),
        upstreams: upAlive ? await upstreamHealth(i.adminPort) : 'crossmesh up is not running',
      }),
    ),
    ...state.gateways.map(
      async (g): Promise<StatusRow> => ({
        kind: 'gateway',
        name: g.name,
        version: '-',
        index: 0,
        process: upAlive ? 'running' : 'not running',
        xds: nodes.find((n) => n.id === g.node),
        upstreams: upAlive ? await upstreamHealth(g.adminPort) : 'crossmesh up is not running',
      }),
    ),
  ]);
  return { mesh: state.mesh, controlPlane, upSince: state.startedAt, rows };
}

function xdsText(node: NodeStatus | undefined): string {
  if (node === undefined) return 'never connected';
  const base = !node.connected
    ? 'disconnected'
    : node.inSync
      ? `in sync ${node.snapshotVersion ?? ''}`.trim()
      : 'updating';
  return node.lastNack === undefined
    ? base
    : `${base}; last NACK ${node.lastNack.type}: ${node.lastNack.message.slice(0, 80)}`;
}

function upstreamText(u: UpstreamHealth | string): string {
  if (typeof u === 'string') return u;
  const empty = u.emptyClusters.length === 0 ? '' : ` (no healthy host: ${u.emptyClusters.join(', ')})`;
  return `${u.healthy}/${u.hosts} healthy${empty}`;
}

/** The report as a table. */
export function formatStatus(report: StatusReport): string {
  const rows = [
    ['KIND', 'NAME', 'VERSION', '#', 'PROCESS', 'XDS', 'UPSTREAM HOSTS'],
    ...report.rows.map((r) => [
      r.kind,
      r.name,
      r.version,
      String(r.index),
      r.process,
      xdsText(r.xds),
      upstreamText(r.upstreams),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const table = rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  return `mesh ${report.mesh}, up since ${report.upSince}, control plane ${report.controlPlane}\n${table}\n`;
}
