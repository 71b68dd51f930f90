/**
 * `crossmesh up <mesh>`: runs the mesh on this machine (controlplane/up/local-mesh.ts) until
 * Ctrl-C, pushing mesh-file edits live.
 */
import { parseArgs } from 'node:util';
import { startLocalMesh } from '../../controlplane/up/local-mesh.js';
import { EXIT } from '../../errors/entry.js';
import type { Command } from '../command.js';
import { onePositional, parseStrict } from './args.js';

/** `crossmesh up`. */
export const command: Command = {
  summary: 'Run the mesh locally: control plane, a sidecar per instance, the services; live reload',
  help: `Usage: crossmesh up <mesh.ts|.json|.yaml> [--state-dir <dir>] [--no-watch] [--strict] [--isolate-proxies]

Starts, all on 127.0.0.1 with ports picked at start:
  - the xDS control plane (and its GET /status);
  - one bundled proxy per service instance (its sidecar) and per gateway, configured over xDS;
  - each version's local command (local: { kind: 'command' }) once per instance, from the mesh
    file's directory, with this environment:
      PORT                the port to listen on (the service's first port)
      CROSSMESH_PORTS     JSON: service port -> local port, for services with several ports
      CROSSMESH_SIDECAR   host:port of the sidecar: send calls to other services there, with the
                          service name as Host (HTTP) or :authority (gRPC)
      CROSSMESH_TCP_SIDECARS  JSON: "<service>:<port>" of a TCP backend -> sidecar address
      CROSSMESH_SERVICE, CROSSMESH_VERSION, CROSSMESH_INSTANCE, CROSSMESH_DOMAIN
Gateways listen on their declared ports. Prints a table of what runs where, then watches the mesh
file: route, policy and other edits are pushed live over xDS; a change of services, versions,
instances, ports or commands needs a restart (it says so and keeps the running mesh).

mTLS runs with a throw-away CA and a certificate per workload made with openssl under
.crossmesh/certs. Should the bundled proxy refuse a feature the mesh uses, crossmesh up finds out
at start by asking it (docs/local-mesh.md), serves the mesh without it and prints every use it
left out; --strict fails instead.

The proxies run inside this process by default (fast to start, light); --isolate-proxies runs each
as its own process (proxy/xds/main.ts), so a proxy that crashes takes only itself down.

Logs: .crossmesh/logs/<service>-<version>-<i>.log per instance and proxy-<node>.log per proxy.
State for crossmesh status: .crossmesh/state.json (both under --state-dir, default the current
directory). Ctrl-C stops the services (SIGTERM, then SIGKILL after 3 s), the proxies and the
control plane.

Exit codes: 0 stopped, 1 invalid mesh or a service failed to start, 2 usage, 3 --strict and the
mesh uses features the bundled proxy cannot run, 5 a proxy rejected its configuration.`,
  async run(argv, io) {
    const { values, positionals } = parseStrict(
      'up',
      ['--state-dir', '--no-watch', '--strict', '--isolate-proxies'],
      () =>
        parseArgs({
          args: [...argv],
          allowPositionals: true,
          options: {
            'state-dir': { type: 'string' },
            'no-watch': { type: 'boolean' },
            strict: { type: 'boolean' },
            'isolate-proxies': { type: 'boolean' },
          },
        }),
    );
    const file = onePositional('up', positionals, 'mesh file');
    io.stderr.write(`starting ${file}...\n`);
    const mesh = await startLocalMesh(file, {
      ...(values['state-dir'] === undefined ? {} : { stateDir: values['state-dir'] }),
      watch: values['no-watch'] !== true,
      strict: values.strict === true,
      isolateProxies: values['isolate-proxies'] === true,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    io.stdout.write(mesh.table());
    const gateway = mesh.placement.gateways[0];
    const front = gateway === undefined ? undefined : Object.values(gateway.listenerPorts)[0];
    io.stdout.write(
      `${front === undefined ? '' : `try: curl http://127.0.0.1:${front}/\n`}watching ${file}; Ctrl-C to stop\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    io.stderr.write('stopping...\n');
    await mesh.stop();
    io.stderr.write('stopped\n');
    return EXIT.ok;
  },
};
