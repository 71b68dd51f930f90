/**
 * `crossmesh up` as a library: the control plane, one bundled proxy per service instance and per
 * gateway, and the services' own commands, all on loopback with ports allocated at start.
 *
 * Proxies run in this process (each with its own xDS stream, bootstrap and admin port), services
 * as child processes. Why in-process proxies: starting a dozen Node processes for the proxies
 * costs seconds and hundreds of MB on a laptop, and a proxy that fails to configure is reported
 * at start (its NACK names the field) rather than as a dead child; the services, which are the
 * user's code, are isolated in their own processes.
 *
 * Mesh-file edits are rendered with the same placement and pushed over xDS. A change of topology
 * (services, versions, instances, ports, gateway listeners, commands) cannot be pushed to running
 * processes: it is reported and `crossmesh up` keeps serving the last good mesh.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proxyDirectory } from '../../adapters/envoy/files.js';
import { gatewayNodeId, meshDomain, primaryPort, sidecarNodeId } from '../../adapters/envoy/names.js';
import { localPlacement, localPortCount, type Placement } from '../../adapters/envoy/placement.js';
import { type EnvoyOutput, renderEnvoy } from '../../adapters/envoy/render.js';
import { formatProblem, MeshError } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import type { DroppedFeature } from '../../model/target.js';
import type { Mesh } from '../../model/types.js';
import { startXdsProxy, type XdsProxyHandle } from '../../proxy/xds/dynamic.js';
import { MeshPublisher } from '../publisher.js';
import { XdsServer } from '../server.js';
import { serveStatus } from '../status-http.js';
import { watchFile } from '../watch.js';
import { makeCertificates, meshWorkloads } from './certs.js';
import { freePorts, portIsFree } from './ports.js';
import { bundledProxySupport, refusedUses, withoutRefused } from './proxy-support.js';
import { type InstanceState, type LocalMeshState, statePath, writeState } from './state.js';

/** Options of {@link startLocalMesh}. */
export interface LocalMeshOptions {
  /** Where `.crossmesh/` (state, logs) goes. @default - the current directory */
  readonly stateDir?: string;
  /** Progress and warnings, one line each. @default - none */
  readonly log?: (line: string) => void;
  /** Watch the mesh file and push edits. @default - true */
  readonly watch?: boolean;
  /** How long each service gets to start listening. @default - 15000 ms */
  readonly startTimeoutMs?: number;
  /**
   * Run each proxy as its own process (proxy/xds/main.ts) instead of inside this one: a proxy that
   * crashes takes only itself down, at the cost of a Node process per proxy (~40 MB and ~0.3 s of
   * start each). `LocalMesh.proxies` is then empty. @default - false (in process)
   */
  readonly isolateProxies?: boolean;
  /**
   * Fail when the mesh uses features the bundled proxy cannot run yet, instead of serving the mesh
   * without them (each dropped use is logged either way). @default - false
   */
  readonly strict?: boolean;
}

/** A running local mesh. */
export interface LocalMesh {
  /** The mesh in force (as written; what the proxies get lacks {@link LocalMesh.dropped}). */
  readonly mesh: () => Mesh;
  /** Feature uses the bundled proxy cannot run yet, left out of what it is served. */
  readonly dropped: () => readonly DroppedFeature[];
  /** Where everything runs. */
  readonly placement: Placement;
  /** The control plane's addresses. */
  readonly controlPlane: { readonly grpc: string; readonly status: string };
  /** The running proxies, by node id. */
  readonly proxies: ReadonlyMap<string, XdsProxyHandle>;
  /** The state `crossmesh status` reads. */
  state(): LocalMeshState;
  /** A table of what runs where. */
  table(): string;
  /** Re-reads the mesh file and pushes it; false (with the reason logged) when it cannot. */
  reload(): Promise<boolean>;
  /** Stops services, proxies and the control plane, and removes the state file. */
  stop(): Promise<void>;
}

interface RunningInstance {
  readonly key: string;
  readonly service: string;
  readonly version: string;
  readonly index: number;
  readonly log: string;
  child?: ChildProcess;
  status: string;
}

/** What must stay the same for an edit to be pushed live. */
function topology(mesh: Mesh): string {
  return JSON.stringify({
    services: Object.entries(mesh.services).map(([name, s]) => [
      name,
      s.ports,
      Object.entries(s.versions).map(([v, x]) => [v, x.local]),
    ]),
    gateways: Object.entries(mesh.gateways ?? {}).map(([name, g]) => [name, g.listeners]),
  });
}

function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const attempt = () => {
      if (!alive()) {
        resolve(false);
        return;
      }
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) resolve(false);
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function pad(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Starts the local mesh of a mesh file.
 * @throws MeshError for an invalid mesh (MESH_E_*), a proxy that cannot be configured
 *   (PROXY_E_*), or a service that exits or does not listen in time (LOCAL_E_START); whatever was
 *   started is stopped again first
 */
export async function startLocalMesh(file: string, options: LocalMeshOptions = {}): Promise<LocalMesh> {
  // Ports are picked free, released, then bound by the proxies: another process can take one in
  // between. That is a race, not a user error: start again with fresh ports (everything started
  // was stopped by the failed attempt).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(file, options);
    } catch (error) {
      const raced = error instanceof MeshError && error.message.includes('EADDRINUSE');
      if (!raced || attempt >= 3) throw error;
      options.log?.(`a port picked for the local mesh was taken meanwhile; starting again with new ports`);
    }
  }
}

async function startOnce(file: string, options: LocalMeshOptions): Promise<LocalMesh> {
  const log = options.log ?? (() => undefined);
  const stateDir = resolve(options.stateDir ?? process.cwd());
  const logDir = join(stateDir, '.crossmesh', 'logs');
  mkdirSync(logDir, { recursive: true });
  const meshFile = resolve(file);
  let mesh = await loadMesh(meshFile);
  const ports = await freePorts(localPortCount(mesh));
  let next = 0;
  const placement = localPlacement(mesh, () => ports[next++] ?? 0);

  const publisher = new MeshPublisher();
  const xds = new XdsServer(publisher.cache, {
    onNack: (s, _type, version, message) => log(`NACK from ${s.nodeId} (version ${version}): ${message}`),
    onError: (s, error) => log(`cannot send to ${s.nodeId}: ${error.message}`),
  });
  const cp = await xds.listen('127.0.0.1', 0);
  const statusServer = await serveStatus(xds, '127.0.0.1', 0);
  const controlPlane = {
    grpc: `127.0.0.1:${cp.port}`,
    status: `http://127.0.0.1:${statusServer.port}/status`,
  };
  // Ask the bundled proxy what it runs (once per process): refused features are left out below.
  const support = await bundledProxySupport();
  // mTLS: a fresh CA and a certificate per workload, served over SDS as for a real Envoy (the
  // bundled proxy fetches them over its ADS stream: proxy-mtls); made even when the mesh has mTLS
  // off, so turning it on is an edit like any other.
  const certDir = join(stateDir, '.crossmesh', 'certs');
  try {
    await makeCertificates(certDir, mesh.name, meshWorkloads(mesh, placement));
  } catch (error) {
    statusServer.server.close();
    await xds.close();
    throw error;
  }
  const certificates = { directory: certDir, delivery: 'sds', verifyPeerIdentity: true } as const;
  if ((mesh.security?.mtls ?? 'off') !== 'off') {
    log(
      `mTLS ${mesh.security?.mtls}: certificates in ${certDir} (a throw-away CA; each peer's SPIFFE id is checked)`,
    );
  }
  const render = (m: Mesh) =>
    redirectStdLogs(
      renderEnvoy(withoutRefused(m, support), {
        placement,
        controlPlane: { host: '127.0.0.1', port: cp.port },
        certificates,
      }),
      (id) => join(logDir, `access-${proxyDirectory(id)}.log`),
    );
  let dropped = refusedUses(mesh, support);
  try {
    reportDrops(dropped, options.strict === true, log);
  } catch (error) {
    statusServer.server.close();
    await xds.close();
    throw error;
  }
  const output = render(mesh);
  publisher.publish(output);

  const proxies = new Map<string, XdsProxyHandle>();
  const proxyProcesses = new Map<string, ChildProcess>();
  const instances: RunningInstance[] = [];
  const startedAt = new Date().toISOString();
  let publishedAt = startedAt;
  let stopping = false;
  let stopWatching: () => void = () => undefined;

  const stop = async () => {
    stopping = true;
    stopWatching();
    await Promise.all(
      instances.map(
        (i) =>
          new Promise<void>((done) => {
            const child = i.child;
            if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await Promise.all([...proxyProcesses.values()].map((child) => terminate(child)));
    statusServer.server.close();
    await xds.close();
    await rm(statePath(stateDir), { force: true });
  };

  const state = (): LocalMeshState => ({
    mesh: mesh.name,
    file: meshFile,
    pid: process.pid,
    startedAt,
    publishedAt,
    controlPlane,
    instances: placement.sidecars.map((s): InstanceState => {
      const running = instances.find((i) => i.key === sidecarNodeId(s.service, s.version, s.index));
      const pid = running?.child?.pid;
      return {
        service: s.service,
        version: s.version,
        index: s.index,
        node: sidecarNodeId(s.service, s.version, s.index),
        ...(pid === undefined ? {} : { pid }),
        appPorts: s.appPorts,
        inboundPorts: s.inboundPorts,
        egressPort: s.egressPort,
        adminPort: proxies.get(sidecarNodeId(s.service, s.version, s.index))?.admin()?.port ?? s.adminPort,
        log: running?.log ?? '',
        process: running?.status ?? 'not started',
      };
    }),
    gateways: placement.gateways.map((g) => ({
      name: g.name,
      node: gatewayNodeId(g.name, g.index),
      ports: Object.values(g.listenerPorts),
      adminPort: proxies.get(gatewayNodeId(g.name, g.index))?.admin()?.port ?? g.adminPort,
    })),
  });
  const saveState = () => {
    if (!stopping)
      void writeState(stateDir, state()).catch((e: unknown) => log(`cannot write state: ${String(e)}`));
  };

  try {
    // Proxies first, so a service's first call finds its sidecar configured.
    for (const proxy of output.proxies) {
      const logFile = join(logDir, `proxy-${proxyDirectory(proxy.id)}.log`);
      const fd = openSync(logFile, 'a');
      const write = (line: string) => {
        try {
          appendLine(fd, line);
        } catch {
          // A log write failing must never take a proxy down.
        }
      };
      if (options.isolateProxies === true) {
        closeSync(fd);
        const child = await startProxyProcess(proxy.id, proxy.bootstrap, stateDir, logFile);
        child.once('exit', (code, signal) => {
          if (!stopping) log(`proxy ${proxy.id} exited with ${code ?? signal}; log: ${logFile}`);
        });
        proxyProcesses.set(proxy.id, child);
      } else {
        proxies.set(
          proxy.id,
          await startXdsProxy(proxy.bootstrap, { logLevel: 'warning', logWrite: write, log: write }),
        );
      }
    }
    for (const s of placement.sidecars) {
      const local = mesh.services[s.service]?.versions[s.version]?.local;
      if (local?.kind !== 'command') continue;
      const key = sidecarNodeId(s.service, s.version, s.index);
      const logFile = join(logDir, `${s.service}-${s.version}-${s.index}.log`);
      const instance: RunningInstance = {
        key,
        service: s.service,
        version: s.version,
        index: s.index,
        log: logFile,
        status: 'starting',
      };
      instances.push(instance);
      const service = mesh.services[s.service];
      const primary = service === undefined ? undefined : s.appPorts[primaryPort(service).port];
      for (const port of Object.values(s.appPorts)) {
        if (!(await portIsFree(port))) {
          // The message names EADDRINUSE so startLocalMesh starts again with new ports.
          throw new MeshError(
            'LOCAL_E_START',
            `${s.service} ${s.version} #${s.index}: port ${port} was taken by another process after it was picked (EADDRINUSE)`,
            { path: `services.${s.service}.versions.${s.version}.local` },
          );
        }
      }
      const fd = openSync(logFile, 'a');
      const [command = '', ...args] = local.command;
      const child = spawn(command, args, {
        cwd: resolve(dirname(meshFile), local.cwd ?? '.'),
        env: {
          ...process.env,
          ...local.env,
          PORT: String(primary ?? ''),
          CROSSMESH_PORTS: JSON.stringify(s.appPorts),
          CROSSMESH_SIDECAR: `127.0.0.1:${s.egressPort}`,
          ...tcpSidecars(s.tcpEgressPorts),
          CROSSMESH_SERVICE: s.service,
          CROSSMESH_VERSION: s.version,
          CROSSMESH_INSTANCE: String(s.index),
          CROSSMESH_DOMAIN: meshDomain(mesh),
        },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      instance.child = child;
      child.once('error', (error) => {
        instance.status = `failed: ${error.message}`;
      });
      child.once('exit', (code, signal) => {
        instance.status = `exited (${code ?? signal})`;
        if (!stopping) {
          log(`${s.service} ${s.version} #${s.index} exited with ${code ?? signal}; log: ${logFile}`);
          saveState();
        }
      });
      if (primary !== undefined) {
        const alive = () =>
          child.exitCode === null && child.signalCode === null && !instance.status.startsWith('failed');
        if (!(await waitForPort(primary, options.startTimeoutMs ?? 15_000, alive))) {
          throw new MeshError(
            'LOCAL_E_START',
            `${s.service} ${s.version} #${s.index} (${local.command.join(' ')}) did not listen on port ${primary} (${instance.status}); log: ${logFile}`,
            { path: `services.${s.service}.versions.${s.version}.local` },
          );
        }
      }
      instance.status = 'running';
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const reload = async (): Promise<boolean> => {
    let next: Mesh;
    try {
      next = await loadMesh(meshFile);
    } catch (error) {
      if (!(error instanceof MeshError)) throw error;
      log(
        `mesh not pushed; proxies keep their configuration:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      );
      return false;
    }
    if (topology(next) !== topology(mesh)) {
      log(
        'mesh not pushed: services, versions, instances, ports, commands or gateway listeners changed; restart crossmesh up to apply them',
      );
      return false;
    }
    const nextDropped = refusedUses(next, support);
    try {
      reportDrops(nextDropped, options.strict === true, log);
      const result = publisher.publish(render(next));
      mesh = next;
      dropped = nextDropped;
      publishedAt = new Date().toISOString();
      log(`pushed mesh ${JSON.stringify(next.name)} (${result.snapshots} snapshots)`);
      saveState();
      return true;
    } catch (error) {
      if (!(error instanceof MeshError)) throw error;
      log(`mesh not pushed: ${error.message}`);
      return false;
    }
  };
  if (options.watch !== false) stopWatching = watchFile(meshFile, () => void reload());
  saveState();

  return {
    mesh: () => mesh,
    dropped: () => dropped,
    placement,
    controlPlane,
    proxies,
    state,
    table() {
      const s = state();
      const rows = [
        ['SERVICE', 'VERSION', '#', 'PID', 'APP', 'SIDECAR IN', 'CROSSMESH_SIDECAR', 'ADMIN', 'LOG'],
        ...s.instances.map((i) => [
          i.service,
          i.version,
          String(i.index),
          String(i.pid ?? '-'),
          Object.values(i.appPorts)
            .map((p) => `127.0.0.1:${p}`)
            .join(','),
          Object.values(i.inboundPorts)
            .map((p) => `127.0.0.1:${p}`)
            .join(','),
          `127.0.0.1:${i.egressPort}`,
          `127.0.0.1:${i.adminPort}`,
          i.log.startsWith(stateDir) ? i.log.slice(stateDir.length + 1) : i.log,
        ]),
        ...s.gateways.map((g) => [
          'gateway',
          g.name,
          '0',
          String(process.pid),
          '-',
          g.ports.map((p) => `127.0.0.1:${p}`).join(','),
          '-',
          `127.0.0.1:${g.adminPort}`,
          '-',
        ]),
      ];
      return `${pad(rows)}\ncontrol plane: ${controlPlane.grpc} (xDS)  status: ${controlPlane.status}\n`;
    },
    reload,
    stop,
  };
}

/** Sends SIGTERM (SIGKILL after 3 s) and resolves when the process has exited. */
function terminate(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      done();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts one proxy as a process: its bootstrap written to `.crossmesh/bootstraps/`, the xDS proxy
 * entry run with it (from source through tsx, or the built one), stdout and stderr to its log.
 * Resolves once it says it is ready.
 * @throws MeshError LOCAL_E_START when it exits first or is not ready within 15 s
 */
async function startProxyProcess(
  id: string,
  bootstrap: unknown,
  stateDir: string,
  logFile: string,
): Promise<ChildProcess> {
  const dir = join(stateDir, '.crossmesh', 'bootstraps');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${proxyDirectory(id)}.json`);
  writeFileSync(file, `${JSON.stringify(bootstrap, null, 2)}\n`);
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`../../proxy/xds/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(fromSource ? ['--import', 'tsx'] : []), entry, '-c', file, '--log-level', 'warning'],
    {
      stdio: ['ignore', fd, 'pipe'],
    },
  );
  closeSync(fd);
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => fail(`not ready within 15 s`), 15_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new MeshError('LOCAL_E_START', `proxy ${id} ${why}; log: ${logFile}`, { path: id }));
    };
    child.stderr?.setEncoding('utf8');
    // The proxy's last line says why (a port race says EADDRINUSE, which startLocalMesh retries).
    const early = (code: number | null) =>
      fail(`exited with ${code} before it was ready (${said.trim().split('\n').at(-1) ?? 'no output'})`);
    child.stderr?.on('data', (chunk: string) => {
      appendFileSync(logFile, chunk);
      said += chunk;
      if (said.includes('xds proxy ready')) {
        clearTimeout(timer);
        child.off('exit', early);
        resolve(child);
      }
    });
    child.once('exit', early);
  });
}

/** `CROSSMESH_TCP_SIDECARS`: where to connect for each TCP backend port (TCP cannot be routed by name). */
export function tcpSidecars(ports: Readonly<Record<string, number>>): Record<string, string> {
  const entries = Object.entries(ports);
  if (entries.length === 0) return {};
  return {
    CROSSMESH_TCP_SIDECARS: JSON.stringify(
      Object.fromEntries(entries.map(([k, p]) => [k, `127.0.0.1:${p}`])),
    ),
  };
}

/**
 * Access logs the mesh sends to `/dev/stdout` or `/dev/stderr` go to a file per proxy instead:
 * the proxies run inside `crossmesh up`, whose terminal is for its own table and messages, and a
 * sidecar's stdout is, conceptually, its own log.
 */
function redirectStdLogs(output: EnvoyOutput, fileOf: (id: string) => string): EnvoyOutput {
  const rewrite = (value: unknown, file: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => rewrite(v, file));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) out[k] = rewrite(v, file);
    if (
      String(object['@type']).endsWith('.FileAccessLog') &&
      (object.path === '/dev/stdout' || object.path === '/dev/stderr')
    ) {
      out.path = file;
    }
    return out;
  };
  return {
    ...output,
    proxies: output.proxies.map((p) => ({
      ...p,
      resources: {
        ...p.resources,
        listeners: p.resources.listeners.map((l) => rewrite(l, fileOf(p.id)) as typeof l),
      },
    })),
  };
}

/**
 * Logs every feature use the bundled proxy refuses (left out), grouped by reason; or, when
 * `strict`, fails with all of them.
 * @throws MeshError TARGET_E_UNSUPPORTED in strict mode when there is any
 */
function reportDrops(dropped: readonly DroppedFeature[], strict: boolean, log: (line: string) => void): void {
  if (dropped.length === 0) return;
  if (strict) {
    throw MeshError.fromProblems(
      dropped.map((d) => ({
        code: 'TARGET_E_UNSUPPORTED',
        path: d.path,
        message: `${d.feature}: ${d.reason}`,
        value: d.feature,
        allowed: 'features the bundled proxy runs (docs/local-mesh.md)',
      })),
    );
  }
  log(
    `left out: the bundled proxy cannot run ${dropped.length} feature use${dropped.length === 1 ? '' : 's'} of this mesh yet (--strict fails instead):`,
  );
  const byReason = new Map<string, string[]>();
  for (const d of dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.path]);
  for (const [reason, paths] of byReason) log(`  - ${reason}: ${paths.join(', ')}`);
}

/** Appends a line to a log file descriptor. */
function appendLine(fd: number, line: string): void {
  writeSync(fd, line.endsWith('\n') ? line : `${line}\n`);
}
