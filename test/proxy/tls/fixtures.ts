// Test fixtures for mTLS: a throw-away CA and SPIFFE workload certificates made with the openssl
// CLI by the same helper `crossmesh up` uses (controlplane/up/certs.ts), the TLS transport sockets
// and contexts the tests hand the proxy (inline certificates or named secrets, URI SAN matchers),
// and an HTTPS upstream that requires a client certificate.
import { mkdtempSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { makeCertificates } from '../../../controlplane/up/certs.js';

/** SPIFFE id of a test workload. */
export function spiffe(name: string): string {
  return `spiffe://test.local/ns/t/sa/${name}`;
}

/** A CA directory: `ca.pem`, and `<name>.pem` / `<name>-key.pem` per workload. */
export interface Pki {
  readonly dir: string;
  readonly ca: string;
  cert(name: string): string;
  key(name: string): string;
  certPath(name: string): string;
  keyPath(name: string): string;
}

/** Makes a CA and one certificate per name (URI SAN = {@link spiffe}, DNS SAN = the name and localhost). */
export async function makePki(names: readonly string[], label = 'test'): Promise<Pki> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crossmesh-mtls-'));
  await makeCertificates(
    dir,
    label,
    names.map((name) => ({ name, spiffeId: spiffe(name), dnsNames: [name, 'localhost'] })),
  );
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  return {
    dir,
    ca: read('ca.pem'),
    cert: (n) => read(`${n}.pem`),
    key: (n) => read(`${n}-key.pem`),
    certPath: (n) => path.join(dir, `${n}.pem`),
    keyPath: (n) => path.join(dir, `${n}-key.pem`),
  };
}

type Json = Record<string, unknown>;

/** Type URL of a listener's TLS context. */
export const DOWNSTREAM =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
/** Type URL of a cluster's TLS context. */
export const UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** A TLS transport socket: `side` picks the context type, `context` is the rest of its typed_config. */
export function tlsSocket(side: 'downstream' | 'upstream', context: Json): Json {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: { '@type': side === 'downstream' ? DOWNSTREAM : UPSTREAM, ...context },
  };
}

/** A SAN matcher list accepting only the peer whose URI SAN is `uri`. */
export function uriSan(uri: string): Json[] {
  return [{ san_type: 'URI', matcher: { exact: uri } }];
}

/** A common_tls_context presenting `name`'s certificate and key inline, with `validation` as its validation_context. */
export function inlineTlsContext(pki: Pki, name: string, validation: Json): Json {
  return {
    tls_certificates: [
      {
        certificate_chain: { inline_string: pki.cert(name) },
        private_key: { inline_string: pki.key(name) },
      },
    ],
    validation_context: validation,
  };
}

/**
 * A common_tls_context whose certificate and trust bundle are the secrets `identity` and `trust`
 * (fetched over `sdsConfig` when given, static secrets otherwise), accepting only the peer whose
 * URI SAN is `san`: the shape the Envoy renderer emits.
 */
export function secretTlsContext(identity: string, trust: string, san: string, sdsConfig?: Json): Json {
  const source = sdsConfig === undefined ? {} : { sds_config: sdsConfig };
  return {
    tls_certificate_sds_secret_configs: [{ name: identity, ...source }],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: uriSan(san) },
      validation_context_sds_secret_config: { name: trust, ...source },
    },
  };
}

/**
 * An HTTPS server on 127.0.0.1 port 0 with `server`'s certificate that requires a client
 * certificate of the CA; `close` also ends its open connections.
 */
export async function startMtlsServer(
  pki: Pki,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = https.createServer(
    {
      cert: pki.cert('server'),
      key: pki.key('server'),
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    handler,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A handler answering `<prefix><the client certificate's first SAN>` ('none' without one). */
export function echoPeerSan(prefix = ''): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    res.end(`${prefix}${peer?.subjectAltName?.split(', ')[0] ?? 'none'}`);
  };
}
