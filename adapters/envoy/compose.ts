/**
 * The mesh as a docker-compose topology (`crossmesh compose`), the container twin of `crossmesh
 * up`: a control plane, and per service instance a sidecar container plus the service's own
 * container sharing the sidecar's network namespace (`network_mode: service:<sidecar>`), so the
 * app reaches its sidecar on 127.0.0.1 exactly as under `crossmesh up`; gateways publish their
 * ports. Pure: the CLI writes the files.
 *
 * Sidecars get fixed addresses on a private network (10.77.0.0/16): Envoy's EDS endpoints must be
 * IP addresses, so the control plane is handed this placement instead of host names.
 */
import type { Mesh } from '../../model/types.js';
import { proxyDirectory } from './files.js';
import { meshDomain } from './names.js';
import { type Placement, staticGatewayHost, staticPlacement, staticSidecarHost } from './placement.js';
import { DEFAULT_CERTIFICATES } from './private/tls.js';
import { type EnvoyOutput, renderEnvoy } from './render.js';

/** Which proxy the sidecars and gateways run. */
export type ComposeProxy = 'crossmesh' | 'envoy';

/** Options of {@link renderCompose}. */
export interface ComposeOptions {
  /** `crossmesh`: the bundled proxy from the repo Dockerfile; `envoy`: the official Envoy image. @default - `crossmesh` */
  readonly proxy?: ComposeProxy;
  /** The mesh file, relative to the project directory mounted at /app (for the control plane). */
  readonly meshFile: string;
  /** The mesh file's directory relative to the project directory (commands run from there). */
  readonly meshDir: string;
  /** The project directory relative to the compose file's directory (mounted at /app). */
  readonly projectDir: string;
  /** The crossmesh checkout relative to the compose file's directory (the Dockerfile's context). */
  readonly crossmeshDir: string;
  /** Directory of the generated bootstraps and placement, relative to the compose file. */
  readonly configDir: string;
  /** Envoy image when `proxy` is `envoy`. @default - `envoyproxy/envoy:v1.31-latest` */
  readonly envoyImage?: string;
  /** Image for the services' own commands. @default - `node:20-slim` */
  readonly appImage?: string;
  /** Mount `<configDir>/certs` into every proxy (set when the mesh has mTLS on). @default - false */
  readonly mtls?: boolean;
}

/** The compose file and the files it mounts. */
export interface ComposeOutput {
  /** The compose document (serialize as YAML or JSON). */
  readonly compose: Record<string, unknown>;
  /** Files to write, relative to the compose file's directory. */
  readonly files: ReadonlyMap<string, string>;
  /** The placement the control plane serves. */
  readonly placement: Placement;
}

const CROSSMESH_IMAGE = 'crossmesh:local';
const CONTROL_PLANE = { host: 'control-plane', port: 18000 } as const;
const STATUS_PORT = 18001;

/** The n-th fixed address on the mesh network (n from 0), skipping .0-.9 of each /24. */
export function meshAddress(n: number): string {
  return `10.77.${Math.floor(n / 240)}.${(n % 240) + 10}`;
}

/** The static placement with IP addresses on the mesh network instead of host names. */
export function composePlacement(mesh: Mesh): Placement {
  return staticPlacement(mesh, (_service, _version, _index, n) => meshAddress(n));
}

/** The certificates directory, mounted where the SDS secrets say the files are (mTLS meshes only). */
function certVolume(options: ComposeOptions): string[] {
  return options.mtls === true ? [`./${options.configDir}/certs:${DEFAULT_CERTIFICATES.directory}:ro`] : [];
}

function proxyService(options: ComposeOptions, id: string): Record<string, unknown> {
  const bootstrap = `./${options.configDir}/${proxyDirectory(id)}/bootstrap.json`;
  if (options.proxy === 'envoy') {
    return {
      image: options.envoyImage ?? 'envoyproxy/envoy:v1.31-latest',
      command: ['envoy', '-c', '/etc/crossmesh/bootstrap.json'],
      volumes: [`${bootstrap}:/etc/crossmesh/bootstrap.json:ro`, ...certVolume(options)],
    };
  }
  // The image's entrypoint is the CLI; sidecars run the xDS proxy entry instead (proxy/xds/main.ts).
  return {
    image: CROSSMESH_IMAGE,
    entrypoint: ['node', '/opt/crossmesh/dist/proxy/xds/main.js'],
    command: ['-c', '/etc/crossmesh/bootstrap.json'],
    volumes: [`${bootstrap}:/etc/crossmesh/bootstrap.json:ro`, ...certVolume(options)],
  };
}

/** Renders the compose topology of a canonical mesh. */
export function renderCompose(mesh: Mesh, options: ComposeOptions): ComposeOutput {
  const placement = composePlacement(mesh);
  const output: EnvoyOutput = renderEnvoy(mesh, { placement, controlPlane: CONTROL_PLANE });
  const files = new Map<string, string>();
  const services: Record<string, Record<string, unknown>> = {};
  services['control-plane'] = {
    image: CROSSMESH_IMAGE,
    build: { context: options.crossmeshDir, dockerfile: 'Dockerfile' },
    command: [
      'control-plane',
      `/app/${options.meshFile}`,
      '--host',
      '0.0.0.0',
      '--port',
      String(CONTROL_PLANE.port),
      '--status-port',
      String(STATUS_PORT),
      '--placement',
      '/etc/crossmesh/placement.json',
      // The bundled proxy has no SDS and not every feature yet: serve it what it runs (listed on stderr).
      ...(options.proxy === 'envoy' ? [] : ['--for-bundled-proxy']),
    ],
    volumes: [
      `${options.projectDir}:/app:ro`,
      `./${options.configDir}/placement.json:/etc/crossmesh/placement.json:ro`,
    ],
    ports: [`127.0.0.1:${STATUS_PORT}:${STATUS_PORT}`],
    networks: { mesh: { ipv4_address: '10.77.255.2' } },
  };
  for (const s of placement.sidecars) {
    const id = `sidecar/${s.service}/${s.version}/${s.index}`;
    const sidecarName = staticSidecarHost(s.service, s.version, s.index);
    services[sidecarName] = {
      ...proxyService(options, id),
      depends_on: ['control-plane'],
      networks: { mesh: { ipv4_address: s.host } },
    };
    const local = mesh.services[s.service]?.versions[s.version]?.local;
    if (local?.kind !== 'command') continue;
    const cwd =
      local.cwd === undefined ? options.meshDir : `${options.meshDir}/${local.cwd}`.replace(/\/\.$/, '');
    const primary = mesh.services[s.service]?.ports[0]?.port ?? 8080;
    services[`${sidecarName}-app`] = {
      image: options.appImage ?? 'node:20-slim',
      command: [...local.command],
      working_dir: `/app/${cwd}`.replace(/\/+$/, ''),
      volumes: [`${options.projectDir}:/app:ro`],
      environment: {
        ...local.env,
        PORT: String(primary),
        CROSSMESH_SIDECAR: `127.0.0.1:${s.egressPort}`,
        ...(Object.keys(s.tcpEgressPorts).length === 0
          ? {}
          : {
              CROSSMESH_TCP_SIDECARS: JSON.stringify(
                Object.fromEntries(Object.entries(s.tcpEgressPorts).map(([k, p]) => [k, `127.0.0.1:${p}`])),
              ),
            }),
        CROSSMESH_SERVICE: s.service,
        CROSSMESH_VERSION: s.version,
        CROSSMESH_INSTANCE: String(s.index),
        CROSSMESH_DOMAIN: meshDomain(mesh),
      },
      network_mode: `service:${sidecarName}`,
      depends_on: [sidecarName],
    };
  }
  for (const [i, g] of placement.gateways.entries()) {
    const name = staticGatewayHost(g.name, g.index);
    services[name] = {
      ...proxyService(options, `gateway/${g.name}/${g.index}`),
      depends_on: ['control-plane'],
      ports: Object.values(g.listenerPorts).map((p) => `${p}:${p}`),
      networks: { mesh: { ipv4_address: `10.77.254.${i + 2}` } },
    };
  }
  for (const proxy of output.proxies) {
    files.set(
      `${options.configDir}/${proxyDirectory(proxy.id)}/bootstrap.json`,
      `${JSON.stringify(proxy.bootstrap, null, 2)}\n`,
    );
  }
  files.set(`${options.configDir}/placement.json`, `${JSON.stringify(placement, null, 2)}\n`);
  return {
    compose: {
      services,
      networks: { mesh: { driver: 'bridge', ipam: { config: [{ subnet: '10.77.0.0/16' }] } } },
    },
    files,
    placement,
  };
}
