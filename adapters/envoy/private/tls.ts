/** mTLS pieces: SDS secret names, secrets, and the TLS transport sockets that reference them. */
import type { Mesh } from '../../../model/types.js';
import { adsSource, type Json, typed } from './util.js';

/** Where the certificate files live on the proxy's machine (a directory). */
export interface CertificateSource {
  /** Directory holding `ca.pem` and `<identity-name>.pem` / `<identity-name>-key.pem`. */
  readonly directory: string;
}

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

function commonContext(mesh: Mesh, workload: string, peers: readonly string[]): Json {
  return {
    tls_certificate_sds_secret_configs: [{ name: identitySecretName(workload), sds_config: adsSource() }],
    combined_validation_context: {
      default_validation_context:
        peers.length === 0
          ? {}
          : {
              match_typed_subject_alt_names: peers.map((uri) => ({
                san_type: 'URI',
                matcher: { exact: uri },
              })),
            },
      validation_context_sds_secret_config: { name: trustSecretName(mesh), sds_config: adsSource() },
    },
  };
}

/** Upstream mTLS to a sidecar: our certificate, their SPIFFE id checked, SNI = their host name. */
export function upstreamTls(mesh: Mesh, workload: string, peerIdentity: string, sni: string): Json {
  return typed(
    'envoy.transport_sockets.tls',
    'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    {
      common_tls_context: commonContext(mesh, workload, [peerIdentity]),
      sni,
    },
  );
}

/** Downstream mTLS on an inbound listener: a client certificate from the trust domain is required. */
export function downstreamTls(mesh: Mesh, workload: string): Json {
  return typed(
    'envoy.transport_sockets.tls',
    'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    {
      common_tls_context: commonContext(mesh, workload, []),
      require_client_certificate: true,
    },
  );
}
