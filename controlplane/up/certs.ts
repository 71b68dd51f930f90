/**
 * Certificates for mTLS under `crossmesh up`: a throw-away CA per run and one certificate per
 * workload (each service, and `gateway-<name>`), made with the `openssl` command (Node's crypto
 * can make keys but not X.509 certificates). Each certificate carries the workload's SPIFFE id as
 * a URI SAN and its mesh host names as DNS SANs, and is valid for both TLS client and server use.
 * Keys are EC P-256: fast to make, small.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { meshDomain } from '../../adapters/envoy/names.js';
import type { Placement } from '../../adapters/envoy/placement.js';
import { serviceIdentity, trustDomain } from '../../adapters/envoy/private/tls.js';
import { MeshError } from '../../errors/index.js';
import type { Mesh } from '../../model/types.js';

const run = promisify(execFile);

/** One workload to certify. */
export interface Workload {
  /** File name stem: `<name>.pem` and `<name>-key.pem`. */
  readonly name: string;
  /** SPIFFE id (URI SAN). */
  readonly spiffeId: string;
  /** DNS SANs. */
  readonly dnsNames: readonly string[];
}

/** Every workload that needs a certificate: each service with a sidecar, each gateway. */
export function meshWorkloads(mesh: Mesh, placement: Placement): Workload[] {
  const services = [...new Set(placement.sidecars.map((s) => s.service))].sort();
  return [
    ...services.map((name) => ({
      name,
      spiffeId: serviceIdentity(mesh, name),
      dnsNames: [name, `${name}.${meshDomain(mesh)}`],
    })),
    ...placement.gateways.map((g) => ({
      name: `gateway-${g.name}`,
      spiffeId: `spiffe://${trustDomain(mesh)}/ns/${mesh.name}/gateway/${g.name}`,
      dnsNames: [],
    })),
  ];
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('openssl', [...args], { cwd });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new MeshError(
      'LOCAL_E_START',
      `openssl ${args[0]} failed while making mTLS certificates: ${detail.trim()}`,
      {
        allowed: 'an openssl command on PATH (mTLS under crossmesh up needs it)',
      },
    );
  }
}

/**
 * Makes `ca.pem` and each workload's certificate and key in `directory` (emptied first).
 * @throws MeshError LOCAL_E_START when openssl is missing or fails
 */
export async function makeCertificates(
  directory: string,
  meshName: string,
  workloads: readonly Workload[],
): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const key = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out'];
  await openssl([...key, 'ca-key.pem'], directory);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-days',
      '7',
      '-subj',
      `/CN=crossmesh up ${meshName} CA`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    directory,
  );
  await Promise.all(
    workloads.map(async (w, i) => {
      const ext = `${w.name}.ext`;
      const sans = [`URI:${w.spiffeId}`, ...w.dnsNames.map((d) => `DNS:${d}`)].join(',');
      await writeFile(
        join(directory, ext),
        `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans}\n`,
      );
      await openssl([...key, `${w.name}-key.pem`], directory);
      await openssl(
        ['req', '-new', '-key', `${w.name}-key.pem`, '-subj', `/CN=${w.name}`, '-out', `${w.name}.csr`],
        directory,
      );
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${w.name}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca-key.pem',
          '-set_serial',
          String(1000 + i),
          '-days',
          '7',
          '-out',
          `${w.name}.pem`,
          '-extfile',
          ext,
        ],
        directory,
      );
    }),
  );
}
