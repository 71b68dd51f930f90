// Test fixtures for mTLS: a throw-away CA and SPIFFE workload certificates made with the openssl
// CLI by the same helper `crossmesh up` uses (controlplane/up/certs.ts), plus a bootstrap builder
// for one mTLS listener in front of a plain HTTP upstream.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
