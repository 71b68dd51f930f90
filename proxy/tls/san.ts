/**
 * Subject alternative names: reading them from a peer certificate, and Envoy's SAN matchers
 * (`match_typed_subject_alt_names`, and the deprecated `match_subject_alt_names`) compiled once
 * per TLS context into one predicate run after each handshake.
 *
 * Envoy's rule (`DefaultCertValidator::verifySubjectAltName`): when matchers are configured, the
 * certificate passes if ANY of its SANs of a matcher's type satisfies that matcher. An exact DNS
 * matcher also accepts a wildcard DNS SAN covering the name (`*.example.com` for
 * `api.example.com`), as Envoy's `dnsNameMatch` does.
 */
import type { X509Certificate } from 'node:crypto';
import { MeshError } from '../../errors/index.js';
import type { CertificateValidationContext, StringMatcher } from '../config/envoy.js';
import { compileStringMatcher, type StringPredicate } from '../router/matchers.js';

/** What the proxy knows about the peer of a TLS connection, read once after the handshake. */
export interface PeerIdentity {
  /** URI SANs (SPIFFE ids), in certificate order. */
  readonly uris: readonly string[];
  /** DNS SANs. */
  readonly dns: readonly string[];
  /** Email SANs. */
  readonly emails: readonly string[];
  /** IP address SANs. */
  readonly ips: readonly string[];
  /** Subject, in OpenSSL's one-line form (`CN=...`), as Envoy's RBAC falls back to it. */
  readonly subject: string;
  /** SHA-256 of the certificate, lowercase hex (x-forwarded-client-cert `Hash`). @default - none */
  readonly hash?: string;
}

/** The SAN lists of a {@link PeerIdentity}. */
type SanKind = 'uris' | 'dns' | 'emails' | 'ips';

/** Only the SAN lists of a peer. */
export type SanLists = Pick<PeerIdentity, SanKind>;

const KINDS: Readonly<Record<string, SanKind>> = {
  URI: 'uris',
  DNS: 'dns',
  email: 'emails',
  'IP Address': 'ips',
};

/**
 * Splits Node's `subjectAltName` text (`DNS:a, URI:spiffe://x, IP Address:1.2.3.4`). Node quotes a
 * value containing a comma or quote as a JSON string (`DNS:"a,b"`), so a plain split on `, ` is
 * not safe.
 */
export function parseSubjectAltNames(text: string | undefined): SanLists {
  const out = { uris: [] as string[], dns: [] as string[], emails: [] as string[], ips: [] as string[] };
  if (text === undefined || text === '') return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      // JSON-quoted value: find the closing quote that is not escaped.
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      } catch {
        value = text.slice(colon + 2, end);
      }
      next = text.indexOf(',', end + 1);
    } else {
      next = text.indexOf(', ', colon + 1);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    const key = KINDS[kind];
    if (key !== undefined) out[key].push(value);
    if (next < 0) break;
    i = next + (text[next + 1] === ' ' ? 2 : 1);
  }
  return out;
}

/** The identity of a peer certificate (empty lists when there is none). */
export function peerIdentityOf(cert: X509Certificate | undefined): PeerIdentity {
  if (cert === undefined) return { uris: [], dns: [], emails: [], ips: [], subject: '' };
  return {
    ...parseSubjectAltNames(cert.subjectAltName),
    // X509Certificate.subject is one `key=value` per line; Envoy prints RFC 2253 (`CN=x,O=y`).
    subject: cert.subject.split('\n').reverse().join(','),
    hash: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}

/** A compiled SAN check: true when the peer passes. */
export type SanCheck = (peer: PeerIdentity) => boolean;

interface CompiledSan {
  readonly kinds: readonly SanKind[];
  readonly match: StringPredicate;
  /** The exact DNS name, for wildcard certificates. */
  readonly exactDns: string | undefined;
}

const TYPED: Readonly<Record<string, SanKind>> = {
  URI: 'uris',
  DNS: 'dns',
  EMAIL: 'emails',
  IP_ADDRESS: 'ips',
};

/** A wildcard DNS SAN (`*.example.com`) covers exactly one more label, as in RFC 6125. */
function wildcardCovers(san: string, name: string): boolean {
  if (!san.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot).toLowerCase() === san.slice(1).toLowerCase();
}

/**
 * Compiles the SAN matchers of a validation context, or `undefined` when it has none (any SAN
 * passes). Throws MeshError naming the matcher at fault (bad regex, unsupported SAN type).
 */
export function compileSanCheck(
  vc: CertificateValidationContext | undefined,
  path: string,
): SanCheck | undefined {
  const compiled: CompiledSan[] = [];
  (vc?.match_typed_subject_alt_names ?? []).forEach((m, i) => {
    const p = `${path}.match_typed_subject_alt_names[${i}]`;
    const kind = TYPED[m.san_type];
    if (kind === undefined) {
      throw new MeshError('PROXY_E_UNSUPPORTED', `${p}.san_type: SAN type ${m.san_type} is not supported`, {
        path: `${p}.san_type`,
        value: m.san_type,
        allowed: 'URI, DNS, EMAIL, IP_ADDRESS',
      });
    }
    compiled.push(sanMatcher([kind], m.matcher, `${p}.matcher`, kind === 'dns'));
  });
  (vc?.match_subject_alt_names ?? []).forEach((m, i) => {
    // Deprecated form: the matcher applies to every SAN kind.
    compiled.push(
      sanMatcher(['uris', 'dns', 'emails', 'ips'], m, `${path}.match_subject_alt_names[${i}]`, true),
    );
  });
  if (compiled.length === 0) return undefined;
  if (vc?.trusted_ca === undefined) {
    // Envoy refuses this too: a SAN proves nothing about a certificate nobody verified.
    throw new MeshError(
      'PROXY_E_INVALID',
      `${path}: SAN-based verification of peer certificates without trusted_ca is insecure and not allowed`,
      { path: `${path}.trusted_ca`, allowed: 'a trusted_ca beside the SAN matchers' },
    );
  }
  return (peer) =>
    compiled.some((c) =>
      c.kinds.some((k) =>
        peer[k].some(
          (san) =>
            c.match(san) || (k === 'dns' && c.exactDns !== undefined && wildcardCovers(san, c.exactDns)),
        ),
      ),
    );
}

function sanMatcher(kinds: readonly SanKind[], m: StringMatcher, path: string, dns: boolean): CompiledSan {
  return {
    kinds,
    match: compileStringMatcher(m, path),
    exactDns: dns && m.exact !== undefined ? m.exact : undefined,
  };
}

/**
 * The downstream connection object the pipeline hands to HTTP filters (`ConnectionInfo`) carries
 * the verified peer of a TLS connection under this member (set by the listener after the
 * handshake; absent on plaintext connections and when the client sent no certificate).
 */
export interface WithPeer {
  readonly peer?: PeerIdentity | undefined;
  /** URI SAN of our own certificate on this connection (x-forwarded-client-cert `By`). */
  readonly localUri?: string | undefined;
}

/** The verified peer of a downstream connection, if it presented a certificate. */
export function connectionPeer(connection: object): PeerIdentity | undefined {
  return (connection as WithPeer).peer;
}
