/**
 * Peer certificate verification, as Envoy's `DefaultCertValidator` does it, on top of node:tls:
 * Node verifies the chain against `trusted_ca` during the handshake; this module decides after it
 * (downstream) or inside `checkServerIdentity` (upstream) whether the connection may live:
 *
 * - a trusted_ca makes a downstream listener ask for a client certificate; it is only required
 *   with `require_client_certificate` (else `ssl.fail_verify_no_cert`);
 * - a certificate that does not chain to trusted_ca fails (`ssl.fail_verify_error`);
 * - SAN matchers are checked last (`ssl.fail_verify_san`).
 *
 * Stats use Envoy's names, under `listener.<address>.ssl.` and `cluster.<name>.ssl.`.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { CertificateValidationContext } from '../config/envoy.js';
import type { Counter, StatsStore } from '../stats/store.js';
import {
  compileSanCheck,
  type PeerIdentity,
  parseSubjectAltNames,
  peerIdentityOf,
  type SanCheck,
} from './san.js';

/** How one TLS context judges its peer. */
export interface PeerPolicy {
  /** A trusted_ca is configured: the peer's chain must verify against it. */
  readonly verifyChain: boolean;
  /** Downstream only: a client certificate is required. */
  readonly requireCertificate: boolean;
  /** SAN matchers, when configured. */
  readonly san: SanCheck | undefined;
}

/** Compiles the peer policy of a validation context (SAN matchers are checked for errors here). */
export function compilePeerPolicy(
  vc: CertificateValidationContext | undefined,
  requireCertificate: boolean,
  path: string,
): PeerPolicy {
  return {
    verifyChain: vc?.trusted_ca !== undefined,
    requireCertificate,
    san: compileSanCheck(vc, path),
  };
}

/** Whether a downstream TLS server must ask clients for a certificate under this policy. */
export function asksForCertificate(policy: PeerPolicy): boolean {
  return policy.verifyChain || policy.requireCertificate || policy.san !== undefined;
}

/** Envoy's `ssl.*` verification counters of one listener or cluster, resolved once. */
export class SslVerifyStats {
  readonly fail_verify_no_cert: Counter;
  readonly fail_verify_error: Counter;
  readonly fail_verify_san: Counter;
  /** Connections accepted without a client certificate (it was asked for, not required). */
  readonly no_certificate: Counter;

  /** `prefix` is `listener.<address>.` or `cluster.<name>.`. */
  constructor(store: StatsStore, prefix: string) {
    this.no_certificate = store.counter(`${prefix}ssl.no_certificate`);
    this.fail_verify_no_cert = store.counter(`${prefix}ssl.fail_verify_no_cert`);
    this.fail_verify_error = store.counter(`${prefix}ssl.fail_verify_error`);
    this.fail_verify_san = store.counter(`${prefix}ssl.fail_verify_san`);
  }
}

/** Envoy's `cluster.<name>.ssl.*` counters: verification plus handshakes and TLS failures. */
export class UpstreamSslStats extends SslVerifyStats {
  readonly handshake: Counter;
  readonly connection_error: Counter;

  constructor(store: StatsStore, prefix: string) {
    super(store, prefix);
    this.handshake = store.counter(`${prefix}ssl.handshake`);
    this.connection_error = store.counter(`${prefix}ssl.connection_error`);
  }
}

/** OpenSSL's chain-verification failures, as Node reports them in `error.code`. */
const CHAIN_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

/** Marks the error {@link upstreamIdentityCheck} returns, so it is not counted twice. */
const SAN_FAILURE = Symbol('crossmesh.sanFailure');

/**
 * What an upstream TLS connection attempt reports: `handshake` when it is up, or the error that
 * ended it. TLS failures count `ssl.connection_error` (chain failures also
 * `ssl.fail_verify_error`); plain socket errors (refused, reset) are not TLS failures.
 */
export function upstreamTlsEvents(stats: UpstreamSslStats): (event: 'handshake' | Error) => void {
  return (event) => {
    if (event === 'handshake') {
      stats.handshake.inc();
      return;
    }
    const code = (event as { code?: unknown }).code;
    const chain = typeof code === 'string' && CHAIN_ERRORS.has(code);
    const san = (event as { [SAN_FAILURE]?: boolean })[SAN_FAILURE] === true;
    const ssl = typeof code === 'string' && code.startsWith('ERR_SSL');
    if (chain) stats.fail_verify_error.inc();
    if (chain || san || ssl) stats.connection_error.inc();
  };
}

/** The outcome of checking a downstream peer. */
export type DownstreamVerdict =
  | { readonly ok: true; readonly peer: PeerIdentity | undefined }
  | { readonly ok: false; readonly reason: 'no_cert' | 'error' | 'san'; readonly detail: string };

/**
 * Judges the client of an established downstream TLS connection. The caller closes the socket
 * when the verdict is not ok; the matching counter has been incremented.
 */
export function verifyDownstreamPeer(
  socket: TLSSocket,
  policy: PeerPolicy,
  stats: SslVerifyStats | undefined,
): DownstreamVerdict {
  // A listener that asks for no client certificate gets none: skip parsing on plain TLS.
  if (!asksForCertificate(policy)) return { ok: true, peer: undefined };
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) {
    if (policy.requireCertificate) {
      stats?.fail_verify_no_cert.inc();
      return { ok: false, reason: 'no_cert', detail: 'no client certificate' };
    }
    stats?.no_certificate.inc();
    return { ok: true, peer: undefined };
  }
  if (policy.verifyChain && !socket.authorized) {
    stats?.fail_verify_error.inc();
    return {
      ok: false,
      reason: 'error',
      detail: String(socket.authorizationError ?? 'untrusted certificate'),
    };
  }
  const peer = peerIdentityOf(cert);
  if (policy.san !== undefined && !policy.san(peer)) {
    stats?.fail_verify_san.inc();
    return { ok: false, reason: 'san', detail: 'no subject alternative name matches' };
  }
  return { ok: true, peer };
}

/**
 * A `checkServerIdentity` for upstream connections: Envoy does not check the host name against
 * the certificate (the SNI is not an identity check); it checks the SAN matchers when configured.
 * Chain failures are reported by Node before this runs (rejectUnauthorized with trusted_ca).
 */
export function upstreamIdentityCheck(
  san: SanCheck | undefined,
  stats: SslVerifyStats | undefined,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    if (san === undefined) return undefined;
    const peer: PeerIdentity = { ...parseSubjectAltNames(cert.subjectaltname), subject: '' };
    if (san(peer)) return undefined;
    stats?.fail_verify_san.inc();
    return Object.assign(
      new Error('upstream certificate: no subject alternative name matches (ssl.fail_verify_san)'),
      {
        [SAN_FAILURE]: true,
      },
    );
  };
}
