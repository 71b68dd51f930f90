/**
 * mTLS pieces: the workloads' certificates, delivered over SDS (secrets named in the TLS
 * contexts, as Istio does) or referenced as files directly in the TLS contexts (for proxies
 * without SDS, e.g. the bundled proxy under `crossmesh up`).
 */
import type { Mesh } from '../../../model/types.js';
import { adsSource, type Json, typed } from './util.js';

/** Where the certificate files live on the proxy's machine, and how proxies get them. */
export interface CertificateSource {
  /** Directory holding `ca.pem` and `<workload>.pem` / `<workload>-key.pem`. */
  readonly directory: string;
  /** `sds`: Secret resources the TLS contexts name; `files`: the files in the TLS contexts. @default - `sds` */
  readonly delivery?: 'sds' | 'files';
  /**
   * Check the peer's SPIFFE id (a URI SAN) on upstream connections, not only that its certificate
   * chains to the mesh CA. @default - true
   */
  readonly verifyPeerIdentity?: boolean;
}

/** Where certificates are unless the render options say otherwise. */
export const DEFAULT_CERTIFICATES: CertificateSource = { directory: '/etc/crossmesh/certs' };

/** SPIFFE identity of a service (its `identity`, else `spiffe://<trustDomain>/ns/<mesh>/sa/<service>`). */
export function serviceIdentity(mesh: Mesh, serviceName: string): string {
  return (
    mesh.services[serviceName]?.identity ?? `spiffe://${trustDomain(mesh)}/ns/${mesh.name}/sa/${serviceName}`
  );
}

/** The mesh's trust domain. */
export function trustDomain(mesh: Mesh): string {
  return mesh.security?.trustDomain ?? 'cluster.local';
}

/** Whether sidecars talk mTLS to each other (`strict` or `permissive`). */
export function mtlsOn(mesh: Mesh): boolean {
  return (mesh.security?.mtls ?? 'off') !== 'off';
}

/** SDS name of a workload's certificate: `identity|<workload>`. */
export function identitySecretName(workload: string): string {
  return `identity|${workload}`;
}

/** SDS name of the mesh's trust bundle: `trust|<trustDomain>`. */
export function trustSecretName(mesh: Mesh): string {
  return `trust|${trustDomain(mesh)}`;
}

/** The two secrets a workload needs: its own certificate and the trust bundle, both from files. */
export function workloadSecrets(mesh: Mesh, workload: string, certs: CertificateSource): Json[] {
  if (certs.delivery === 'files') return [];
  return [
    {
      name: identitySecretName(workload),
      tls_certificate: {
        certificate_chain: { filename: `${certs.directory}/${workload}.pem` },
        private_key: { filename: `${certs.directory}/${workload}-key.pem` },
      },
    },
    {
      name: trustSecretName(mesh),
      validation_context: { trusted_ca: { filename: `${certs.directory}/ca.pem` } },
    },
  ];
}

function commonContext(
  mesh: Mesh,
  workload: string,
  peers: readonly string[],
  certs: CertificateSource,
): Json {
  const sans: Json =
    peers.length === 0 || certs.verifyPeerIdentity === false
      ? {}
      : { match_typed_subject_alt_names: peers.map((uri) => ({ san_type: 'URI', matcher: { exact: uri } })) };
  if (certs.delivery === 'files') {
    return {
      tls_certificates: [
        {
          certificate_chain: { filename: `${certs.directory}/${workload}.pem` },
          private_key: { filename: `${certs.directory}/${workload}-key.pem` },
        },
      ],
      validation_context: { trusted_ca: { filename: `${certs.directory}/ca.pem` }, ...sans },
    };
  }
  return {
    tls_certificate_sds_secret_configs: [{ name: identitySecretName(workload), sds_config: adsSource() }],
    combined_validation_context: {
      default_validation_context: sans,
      validation_context_sds_secret_config: { name: trustSecretName(mesh), sds_config: adsSource() },
    },
  };
}

/** Upstream mTLS to a sidecar: our certificate, their SPIFFE id checked, SNI = their host name. */
export function upstreamTls(
  mesh: Mesh,
  workload: string,
  peerIdentity: string,
  sni: string,
  certs: CertificateSource,
): Json {
  return typed(
    'envoy.transport_sockets.tls',
    'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    {
      common_tls_context: commonContext(mesh, workload, [peerIdentity], certs),
      sni,
    },
  );
}

/** Downstream mTLS on an inbound listener: a client certificate from the trust domain is required. */
export function downstreamTls(mesh: Mesh, workload: string, certs: CertificateSource): Json {
  return typed(
    'envoy.transport_sockets.tls',
    'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    {
      common_tls_context: commonContext(mesh, workload, [], certs),
      require_client_certificate: true,
    },
  );
}
