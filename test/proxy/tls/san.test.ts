// SAN parsing and matching (proxy/tls/san.ts), on Node's own subjectAltName text and on a real
// openssl-made certificate. No sockets; nothing stood in.
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import type { CertificateValidationContext } from '../../../proxy/config/envoy.js';
import {
  compileSanCheck,
  type PeerIdentity,
  parseSubjectAltNames,
  peerIdentityOf,
} from '../../../proxy/tls/san.js';
import { makePki, type Pki, spiffe } from './fixtures.js';

const CA = { trusted_ca: { inline_string: 'x' } };

function peer(over: Partial<PeerIdentity>): PeerIdentity {
  return { uris: [], dns: [], emails: [], ips: [], subject: '', ...over };
}

describe('parseSubjectAltNames', () => {
  test('reads every kind, including values Node quotes because they hold a comma', () => {
    // GIVEN Node's text for a certificate with URI, DNS, email and IP SANs, one DNS name with a comma
    const text =
      'URI:spiffe://td/ns/a/sa/b, DNS:"we,ird.example", DNS:api.example, email:a@b.c, IP Address:10.0.0.1';
    // WHEN parsed
    const sans = parseSubjectAltNames(text);
    // THEN each value lands in its kind, unquoted
    expect(sans).toEqual({
      uris: ['spiffe://td/ns/a/sa/b'],
      dns: ['we,ird.example', 'api.example'],
      emails: ['a@b.c'],
      ips: ['10.0.0.1'],
    });
  });
});

describe('parseSubjectAltNames on hostile text', () => {
  test('any text (quotes, commas, colons) is read without throwing or looping', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('U', 'R', 'I', 'D', 'N', 'S', ':', ',', ' ', '"', '\\', 'a') }),
        (text) => {
          const sans = parseSubjectAltNames(text);
          return Array.isArray(sans.uris) && Array.isArray(sans.dns);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('peerIdentityOf', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki(['frontend']);
  }, 30_000);

  test("reads a real certificate's SPIFFE id, DNS names and subject", () => {
    const id = peerIdentityOf(new X509Certificate(pki.cert('frontend')));
    expect(id.uris).toEqual([spiffe('frontend')]);
    expect(id.dns).toEqual(['frontend', 'localhost']);
    expect(id.subject).toBe('CN=frontend');
  });
});

describe('compileSanCheck', () => {
  test('typed matchers apply to their SAN kind only', () => {
    const vc: CertificateValidationContext = {
      ...CA,
      match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://td/' } }],
    };
    const check = compileSanCheck(vc, 'vc') as (p: PeerIdentity) => boolean;
    expect(check(peer({ uris: ['spiffe://td/ns/x'] }))).toBe(true);
    expect(check(peer({ dns: ['spiffe://td/ns/x'] }))).toBe(false);
  });

  test('an exact DNS matcher accepts a wildcard certificate for one label, as Envoy does', () => {
    const vc: CertificateValidationContext = {
      ...CA,
      match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'api.example.com' } }],
    };
    const check = compileSanCheck(vc, 'vc') as (p: PeerIdentity) => boolean;
    expect(check(peer({ dns: ['*.example.com'] }))).toBe(true);
    expect(check(peer({ dns: ['*.com'] }))).toBe(false);
    expect(check(peer({ dns: ['other.example.com'] }))).toBe(false);
  });

  test('the deprecated match_subject_alt_names matches any kind, safe_regex included', () => {
    const vc: CertificateValidationContext = {
      ...CA,
      match_subject_alt_names: [{ safe_regex: { regex: '^10\\.0\\.0\\.[0-9]+$' } }],
    };
    const check = compileSanCheck(vc, 'vc') as (p: PeerIdentity) => boolean;
    expect(check(peer({ ips: ['10.0.0.7'] }))).toBe(true);
    expect(check(peer({ ips: ['10.0.1.7'] }))).toBe(false);
  });

  test('no matchers means no check; an unsupported SAN type names its path', () => {
    expect(compileSanCheck(CA, 'vc')).toBeUndefined();
    expect(() =>
      compileSanCheck(
        { ...CA, match_typed_subject_alt_names: [{ san_type: 'OTHER_NAME', matcher: { exact: 'x' } }] },
        'vc',
      ),
    ).toThrow(MeshError);
  });
});
