/**
 * Downstream TLS: secure contexts from `DownstreamTlsContext` (certificates inline or from files),
 * and Envoy's filter-chain selection by SNI (`server_names`: exact names first, then the longest
 * `*.suffix` wildcard, then chains without server_names).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { MeshError } from '../../errors/index.js';
import type { CommonTlsContext, DataSource, DownstreamTlsContext, TlsParameters } from '../config/envoy.js';
import { parseSubjectAltNames } from '../tls/san.js';
// mTLS (proxy-mtls): client-certificate policy (trusted_ca, require_client_certificate, SAN matchers).
import { compilePeerPolicy, type PeerPolicy } from '../tls/verify.js';

/** Reads an Envoy DataSource (inline string/bytes, file or environment variable). */
export function readDataSource(source: DataSource, path: string): Buffer {
  if (source.inline_string !== undefined) return Buffer.from(source.inline_string);
  if (source.inline_bytes !== undefined) return Buffer.from(source.inline_bytes, 'base64');
  if (source.filename !== undefined) {
    try {
      return readFileSync(source.filename);
    } catch (error) {
      throw new MeshError('PROXY_E_INVALID', `${path}.filename: cannot read ${source.filename}`, {
        path: `${path}.filename`,
        value: source.filename,
        allowed: 'a readable file',
        cause: error,
      });
    }
  }
  if (source.environment_variable !== undefined) {
    const v = process.env[source.environment_variable];
    if (v === undefined) {
      throw new MeshError(
        'PROXY_E_INVALID',
        `${path}.environment_variable: ${source.environment_variable} is not set`,
        {
          path: `${path}.environment_variable`,
          value: source.environment_variable,
          allowed: 'a set environment variable',
        },
      );
    }
    return Buffer.from(v);
  }
  throw new MeshError('PROXY_E_INVALID', `${path}: no data source member is set`, {
    path,
    allowed: 'one of inline_string, inline_bytes, filename, environment_variable',
  });
}

const TLS_VERSIONS: Record<string, tls.SecureVersion | undefined> = {
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

/** Node's min/max versions from Envoy's TlsParameters (TLS_AUTO keeps Envoy's defaults). */
export function tlsVersions(
  params: TlsParameters | undefined,
  defaults: { min: tls.SecureVersion; max: tls.SecureVersion },
): { min: tls.SecureVersion; max: tls.SecureVersion } {
  const min = TLS_VERSIONS[params?.tls_minimum_protocol_version ?? ''] ?? defaults.min;
  const max = TLS_VERSIONS[params?.tls_maximum_protocol_version ?? ''] ?? defaults.max;
  return { min, max };
}

/** A compiled downstream TLS context. */
export interface DownstreamTls {
  readonly secureContext: tls.SecureContext;
  /** The options the context was built from (a tls.Server's default context needs them). */
  readonly contextOptions: tls.SecureContextOptions;
  /** ALPN protocols from the config, when it lists them. */
  readonly alpn: readonly string[] | undefined;
  readonly requireClientCertificate: boolean;
  /** mTLS (proxy-mtls): how the client certificate is judged after the handshake (proxy/tls/verify.ts). */
  readonly peer: PeerPolicy;
  /** mTLS (proxy-mtls): our certificate's first URI SAN (x-forwarded-client-cert `By`). */
  readonly localUri: string | undefined;
}

/** Builds the secure context of a DownstreamTlsContext. */
export function compileDownstreamTls(ctx: DownstreamTlsContext, path: string): DownstreamTls {
  const common: CommonTlsContext = ctx.common_tls_context ?? {};
  const certs = common.tls_certificates ?? [];
  const cp = `${path}.common_tls_context`;
  if (certs.length === 0) {
    throw new MeshError(
      'PROXY_E_INVALID',
      `${cp}.tls_certificates: a downstream TLS context needs a certificate`,
      {
        path: `${cp}.tls_certificates`,
        allowed: 'one certificate_chain + private_key',
      },
    );
  }
  const { min, max } = tlsVersions(common.tls_params, { min: 'TLSv1.2', max: 'TLSv1.3' });
  const options: tls.SecureContextOptions = { minVersion: min, maxVersion: max };
  const cert: Buffer[] = [];
  const key: tls.KeyObject[] = [];
  certs.forEach((c, i) => {
    const p = `${cp}.tls_certificates[${i}]`;
    if (c.certificate_chain === undefined || c.private_key === undefined) {
      throw new MeshError('PROXY_E_INVALID', `${p}: certificate_chain and private_key are both required`, {
        path: p,
        allowed: 'certificate_chain and private_key',
      });
    }
    cert.push(readDataSource(c.certificate_chain, `${p}.certificate_chain`));
    const pem = readDataSource(c.private_key, `${p}.private_key`);
    const passphrase =
      c.password === undefined ? undefined : readDataSource(c.password, `${p}.password`).toString();
    key.push(passphrase === undefined ? { pem } : { pem, passphrase });
  });
  options.cert = cert;
  options.key = key;
  if (common.tls_params?.ecdh_curves !== undefined && common.tls_params.ecdh_curves.length > 0) {
    options.ecdhCurve = common.tls_params.ecdh_curves.join(':');
  }
  if (common.validation_context?.trusted_ca !== undefined) {
    options.ca = readDataSource(common.validation_context.trusted_ca, `${cp}.validation_context.trusted_ca`);
  }
  if (common.tls_params?.cipher_suites !== undefined)
    options.ciphers = common.tls_params.cipher_suites.join(':');
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext(options);
  } catch (error) {
    throw new MeshError('PROXY_E_INVALID', `${cp}: invalid certificate or key: ${(error as Error).message}`, {
      path: `${cp}.tls_certificates`,
      allowed: 'a PEM certificate chain with its matching private key',
      cause: error,
    });
  }
  return {
    secureContext,
    contextOptions: options,
    alpn: common.alpn_protocols,
    requireClientCertificate: ctx.require_client_certificate === true,
    peer: compilePeerPolicy(
      common.validation_context,
      ctx.require_client_certificate === true,
      `${cp}.validation_context`,
    ),
    localUri: parseSubjectAltNames(new X509Certificate(cert[0] as Buffer).subjectAltName).uris[0],
  };
}

/** Picks the entry whose `serverNames` best match `sni` (Envoy's order); `undefined` when none. */
export function matchServerName<T extends { readonly serverNames: readonly string[] }>(
  entries: readonly T[],
  sni: string | undefined,
): T | undefined {
  const name = sni?.toLowerCase();
  if (name !== undefined) {
    for (const e of entries) if (e.serverNames.includes(name)) return e;
    let best: T | undefined;
    let bestLen = -1;
    for (const e of entries) {
      for (const n of e.serverNames) {
        if (n.startsWith('*.') && name.endsWith(n.slice(1)) && n.length > bestLen) {
          best = e;
          bestLen = n.length;
        }
      }
    }
    if (best !== undefined) return best;
  }
  return entries.find((e) => e.serverNames.length === 0);
}
