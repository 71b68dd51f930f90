/**
 * `.crossmesh/state.json`: what `crossmesh up` is running, for `crossmesh status` (another process)
 * to read. Written on start and after every change; removed on a clean stop.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MeshError } from '../../errors/index.js';

/** One service instance and its sidecar. */
export interface InstanceState {
  readonly service: string;
  readonly version: string;
  readonly index: number;
  /** The xDS node id of its sidecar. */
  readonly node: string;
  /** The service's process id (undefined when it is not running). */
  readonly pid?: number;
  /** Where the service listens, by service port. */
  readonly appPorts: Readonly<Record<number, number>>;
  /** The sidecar's inbound ports, by service port. */
  readonly inboundPorts: Readonly<Record<number, number>>;
  /** The sidecar's outbound (egress) port: `CROSSMESH_SIDECAR`. */
  readonly egressPort: number;
  /** The sidecar's admin port. */
  readonly adminPort: number;
  /** The service's log file. */
  readonly log: string;
  /** `running`, or `exited (<code>)`. */
  readonly process: string;
}

/** One gateway proxy. */
export interface GatewayState {
  readonly name: string;
  readonly node: string;
  readonly ports: readonly number[];
  readonly adminPort: number;
}

/** The whole running topology. */
export interface LocalMeshState {
  readonly mesh: string;
  readonly file: string;
  /** The `crossmesh up` process. */
  readonly pid: number;
  readonly startedAt: string;
  /** Last successful publish (ISO time) and what changed. */
  readonly publishedAt: string;
  readonly controlPlane: { readonly grpc: string; readonly status: string };
  readonly instances: readonly InstanceState[];
  readonly gateways: readonly GatewayState[];
}

/** Path of the state file under a directory. */
export function statePath(dir: string): string {
  return join(dir, '.crossmesh', 'state.json');
}

/** Writes the state atomically (a reader never sees half a file). */
export async function writeState(dir: string, state: LocalMeshState): Promise<void> {
  const file = statePath(dir);
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, file);
}

/**
 * Reads the state of the local mesh started from `dir`.
 * @throws MeshError LOCAL_E_NOT_RUNNING when there is none
 */
export async function readState(dir: string): Promise<LocalMeshState> {
  const file = statePath(dir);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalMeshState;
  } catch {
    throw new MeshError('LOCAL_E_NOT_RUNNING', `no local mesh is running here (${file} not found)`, {
      path: file,
      allowed: 'a directory where `crossmesh up` is running',
    });
  }
}
