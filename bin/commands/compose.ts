/**
 * `crossmesh compose <mesh> -o docker-compose.yml`: the mesh as containers, the container twin of
 * `crossmesh up` (see adapters/envoy/compose.ts for the topology).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { type ComposeProxy, renderCompose } from '../../adapters/envoy/compose.js';
import { makeCertificates, meshWorkloads } from '../../controlplane/up/certs.js';
import { EXIT } from '../../errors/entry.js';
import { MeshError } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import type { Command } from '../command.js';
import { onePositional, parseStrict } from './args.js';

const OPTIONS = ['-o, --output', '--proxy'];

/** The nearest directory at or above `dir` with a package.json (the project to mount), else `dir`. */
function projectRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return dir;
  }
}

function rel(from: string, to: string): string {
  const r = relative(from, to);
  return r === '' ? '.' : r.startsWith('.') ? r : `./${r}`;
}

/** `crossmesh compose`. */
export const command: Command = {
  summary: 'Write the mesh as a docker-compose file (control plane, sidecars, services, gateways)',
  help: `Usage: crossmesh compose <mesh.ts|.json|.yaml> -o docker-compose.yml [--proxy crossmesh|envoy]

Writes the same topology crossmesh up runs, as containers: a control plane; per service instance
a sidecar and the service's own command sharing the sidecar's network namespace
(network_mode: service:<sidecar>, so the service reaches its sidecar on 127.0.0.1:15001 and is
told so in CROSSMESH_SIDECAR); gateways publishing their ports. Sidecars have fixed addresses on a
private network 10.77.0.0/16 (Envoy's EDS wants IP addresses). Next to the compose file it
writes crossmesh-compose/: each proxy's bootstrap and the placement the control plane serves.

Options:
  -o, --output <file>          the compose file to write (required)
  --proxy <crossmesh|envoy>    sidecar and gateway image: the bundled proxy built from this
                               repository's Dockerfile (default; its sidecars run the xDS proxy
                               entry and the control plane serves them with --for-bundled-proxy),
                               or envoyproxy/envoy with the same bootstraps

The project directory (nearest package.json above the mesh file) is mounted read-only at /app;
services run their local command there with node:20-slim. With mTLS on, a CA and a certificate
per workload are made with openssl in crossmesh-compose/certs/ and mounted into every proxy.

Exit codes: 0 written, 1 invalid mesh, 2 usage.`,
  async run(argv, io) {
    const { values, positionals } = parseStrict('compose', OPTIONS, () =>
      parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: { output: { type: 'string', short: 'o' }, proxy: { type: 'string' } },
      }),
    );
    const file = resolve(onePositional('compose', positionals, 'mesh file'));
    if (values.output === undefined) {
      throw new MeshError('CLI_E_USAGE', 'compose: -o <docker-compose.yml> is required', {
        path: '-o',
        allowed: 'a file path',
      });
    }
    const proxy = values.proxy ?? 'crossmesh';
    if (proxy !== 'crossmesh' && proxy !== 'envoy') {
      throw new MeshError(
        'CLI_E_USAGE',
        `compose: --proxy must be crossmesh or envoy, got ${JSON.stringify(proxy)}`,
        {
          path: '--proxy',
          value: proxy,
          allowed: 'crossmesh, envoy',
        },
      );
    }
    const output = resolve(values.output);
    const outDir = dirname(output);
    const project = projectRoot(dirname(file));
    const crossmesh = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist\/$/, '/');
    const mesh = await loadMesh(file);
    const mtls = (mesh.security?.mtls ?? 'off') !== 'off';
    const result = renderCompose(mesh, {
      mtls,
      proxy: proxy as ComposeProxy,
      meshFile: relative(project, file),
      meshDir: relative(project, dirname(file)) || '.',
      projectDir: rel(outDir, project),
      crossmeshDir: rel(outDir, crossmesh),
      configDir: 'crossmesh-compose',
    });
    for (const [path, content] of result.files) {
      await mkdir(dirname(join(outDir, path)), { recursive: true });
      await writeFile(join(outDir, path), content);
    }
    await writeFile(output, stringify(result.compose, { lineWidth: 0 }));
    if (mtls) {
      // A CA and a certificate per workload (SPIFFE id as URI SAN), mounted into every proxy.
      await makeCertificates(
        join(outDir, 'crossmesh-compose', 'certs'),
        mesh.name,
        meshWorkloads(mesh, result.placement),
      );
    }
    const services = Object.keys(result.compose.services as object).length;
    io.stdout.write(
      `wrote ${relative(process.cwd(), output) || output}: ${services} containers (${result.placement.sidecars.length} sidecars, ${result.placement.gateways.length} gateways, proxy ${proxy}) and ${result.files.size} files in ${join(relative(process.cwd(), outDir) || '.', 'crossmesh-compose')}/\n`,
    );
    return EXIT.ok;
  },
};
