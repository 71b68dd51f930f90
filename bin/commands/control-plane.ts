/**
 * `crossmesh control-plane <mesh>`: renders the mesh for Envoy and serves every proxy's snapshot
 * over ADS (state of the world and incremental), re-rendering and pushing when the mesh file
 * changes. The placement is the static one of `crossmesh render --target envoy` and `crossmesh
 * compose` (one host per instance, well-known ports) unless `--placement` gives another.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Placement } from '../../adapters/envoy/placement.js';
import { DEFAULT_CERTIFICATES } from '../../adapters/envoy/private/tls.js';
import { type EnvoyOutput, renderEnvoy } from '../../adapters/envoy/render.js';
import { MeshPublisher } from '../../controlplane/publisher.js';
import { XdsServer } from '../../controlplane/server.js';
import { serveStatus } from '../../controlplane/status-http.js';
import { SHORT_NAME, type TypeUrl } from '../../controlplane/types.js';
import { bundledProxySupport, refusedUses, withoutRefused } from '../../controlplane/up/proxy-support.js';
import { watchFile } from '../../controlplane/watch.js';
import { EXIT } from '../../errors/entry.js';
import { formatProblem, MeshError } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import type { Mesh } from '../../model/types.js';
import type { Command, CommandIO } from '../command.js';
import { onePositional, parseStrict } from './args.js';

const OPTIONS = ['--host', '--port', '--status-port', '--placement', '--no-watch', '--for-bundled-proxy'];

function portOf(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MeshError(
      'CLI_E_USAGE',
      `control-plane: ${name} must be a port from 0 to 65535, got ${JSON.stringify(text)}`,
      {
        path: name,
        value: text,
        allowed: 'an integer from 0 to 65535 (0 picks a free port)',
      },
    );
  }
  return port;
}

async function readPlacement(file: string): Promise<Placement> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Placement;
  } catch (error) {
    throw new MeshError('CLI_E_FILE', `cannot read placement ${file}: ${(error as Error).message}`, {
      path: file,
    });
  }
}

/** Renders a mesh for Envoy, or for the bundled proxy (its gaps left out, each use reported). */
async function render(
  mesh: Mesh,
  placement: Placement | undefined,
  bundled: boolean,
  io: CommandIO,
): Promise<EnvoyOutput> {
  if (!bundled) return renderEnvoy(mesh, placement === undefined ? {} : { placement });
  const support = await bundledProxySupport();
  for (const d of refusedUses(mesh, support)) {
    io.stderr.write(`left out for the bundled proxy: ${d.path} (${d.feature}): ${d.reason}\n`);
  }
  return renderEnvoy(withoutRefused(mesh, support), {
    ...(placement === undefined ? {} : { placement }),
    certificates: { directory: DEFAULT_CERTIFICATES.directory, delivery: 'files' },
  });
}

/** Renders and publishes; on a bad mesh, reports it and keeps serving the last good version. */
async function publish(
  file: string,
  publisher: MeshPublisher,
  placement: Placement | undefined,
  bundled: boolean,
  io: CommandIO,
): Promise<boolean> {
  try {
    const mesh = await loadMesh(file);
    const result = publisher.publish(await render(mesh, placement, bundled, io));
    io.stderr.write(
      `published mesh ${JSON.stringify(mesh.name)}: ${result.snapshots} snapshots in ${result.buildMs.toFixed(1)} ms\n`,
    );
    return true;
  } catch (error) {
    if (!(error instanceof MeshError)) throw error;
    io.stderr.write(`mesh not published, proxies keep their last good configuration:\n`);
    for (const problem of error.problems) io.stderr.write(`  ${formatProblem(problem)}\n`);
    return false;
  }
}

/** `crossmesh control-plane`. */
export const command: Command = {
  summary: 'Serve a mesh to Envoy proxies over xDS (ADS), pushing changes to the mesh file live',
  help: `Usage: crossmesh control-plane <mesh.ts|.json|.yaml> [options]

Renders the mesh for Envoy (one snapshot per sidecar and gateway, node ids
sidecar/<service>/<version>/<i> and gateway/<name>/<i>; any other node id gets the proxyless
snapshot that gRPC clients resolve as xds:///<service>) and serves it over ADS: state of the world
and incremental (delta) xDS v3, pushed in order CDS, EDS, LDS, RDS, SDS. The mesh file is watched:
an edit is rendered and pushed; an invalid edit is reported and proxies keep their configuration.

Options:
  --host <address>         address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --port <n>               gRPC port (default 18000; 0 picks a free port)
  --status-port <n>        also serve GET /status (nodes, ACKed versions, last NACK) as JSON
  --placement <file.json>  where proxies and instances are (default: the static placement, one
                           host per instance named <service>-<version>-<i>, as crossmesh compose)
  --no-watch               do not watch the mesh file
  --for-bundled-proxy      serve what the bundled proxy runs: certificates named as files in the
                           TLS contexts (it has no SDS over ADS), and the features it cannot run
                           yet left out (each use listed on stderr), as crossmesh up does

Prints the address it listens on, then runs until SIGINT or SIGTERM.

Exit codes: 0 stopped by a signal, 1 invalid mesh at start, 2 usage.`,
  async run(argv, io) {
    const { values, positionals } = parseStrict('control-plane', OPTIONS, () =>
      parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: {
          host: { type: 'string' },
          port: { type: 'string' },
          'status-port': { type: 'string' },
          placement: { type: 'string' },
          'no-watch': { type: 'boolean' },
          'for-bundled-proxy': { type: 'boolean' },
        },
      }),
    );
    const file = onePositional('control-plane', positionals, 'mesh file');
    const host = values.host ?? '127.0.0.1';
    const placement = values.placement === undefined ? undefined : await readPlacement(values.placement);
    const publisher = new MeshPublisher();
    // A mesh that is invalid at start is an error; later edits only warn.
    const mesh = await loadMesh(file);
    const bundled = values['for-bundled-proxy'] === true;
    publisher.publish(await render(mesh, placement, bundled, io));
    const server = new XdsServer(publisher.cache, {
      onNack: (s, type, version, message) =>
        io.stderr.write(`NACK from ${s.nodeId} for ${SHORT_NAME[type as TypeUrl]} ${version}: ${message}\n`),
      onError: (s, error) => io.stderr.write(`cannot send to ${s.nodeId}: ${error.message}\n`),
    });
    const bound = await server.listen(host, portOf(values.port, '--port', 18000));
    io.stdout.write(
      `crossmesh control plane for mesh ${JSON.stringify(mesh.name)} listening on ${host}:${bound.port} (ADS, xDS v3)\n`,
    );
    const status =
      values['status-port'] === undefined
        ? undefined
        : await serveStatus(server, host, portOf(values['status-port'], '--status-port', 0));
    if (status !== undefined) io.stdout.write(`status: http://${host}:${status.port}/status\n`);
    const stopWatching =
      values['no-watch'] === true
        ? () => undefined
        : watchFile(file, () => void publish(file, publisher, placement, bundled, io));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    stopWatching();
    status?.server.close();
    await server.close();
    return EXIT.ok;
  },
};
