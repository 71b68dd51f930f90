// Pure unit tests: the 32-bit-halves xxHash64 is checked against published vectors and against a
// straightforward BigInt implementation of the spec written here (nothing stood in).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  combineInto,
  hashString,
  to53,
  XXH_OUT,
  xxHash64Hex,
  xxHash64String,
} from '../../../proxy/upstream/hash.js';

const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, v: bigint): bigint => ((acc ^ round(0n, v)) * P1 + P4) & M;

function referenceXxh64(bytes: Uint8Array, seed: bigint): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & M;
    let v2 = (seed + P2) & M;
    let v3 = seed;
    let v4 = (seed - P1) & M;
    while (i <= len - 32) {
      v1 = round(v1, view.getBigUint64(i, true));
      v2 = round(v2, view.getBigUint64(i + 8, true));
      v3 = round(v3, view.getBigUint64(i + 16, true));
      v4 = round(v4, view.getBigUint64(i + 24, true));
      i += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = (seed + P5) & M;
  }
  h = (h + BigInt(len)) & M;
  while (i + 8 <= len) {
    h ^= round(0n, view.getBigUint64(i, true));
    h = (rotl(h, 27n) * P1 + P4) & M;
    i += 8;
  }
  if (i + 4 <= len) {
    h ^= (BigInt(view.getUint32(i, true)) * P1) & M;
    h = (rotl(h, 23n) * P2 + P3) & M;
    i += 4;
  }
  while (i < len) {
    h ^= (BigInt(bytes[i] as number) * P5) & M;
    h = (rotl(h, 11n) * P1) & M;
    i++;
  }
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}

describe('xxHash64', () => {
  test('matches published vectors', () => {
    // GIVEN / WHEN / THEN (vectors from the xxHash reference implementation)
    expect(xxHash64Hex('')).toBe('ef46db3751d8e999');
    expect(xxHash64Hex('a')).toBe('d24ec4f1a98c6e5b');
    expect(xxHash64Hex('abc')).toBe('44bc2cf5ad770999');
  });

  test('matches a BigInt implementation of the spec for any string and seed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), fc.nat({ max: 0xffffffff }), (s, seed) => {
        // GIVEN a string and a 32-bit seed
        // WHEN
        xxHash64String(s, 0, seed);
        const fast = (BigInt(XXH_OUT[0] as number) << 32n) | BigInt(XXH_OUT[1] as number);
        // THEN
        expect(fast).toBe(referenceXxh64(Buffer.from(s, 'utf8'), BigInt(seed)));
      }),
      { numRuns: 400 },
    );
  });

  test('the 53-bit form keeps the top bits and ordering', () => {
    // GIVEN
    xxHash64String('abc');
    const full = (BigInt(XXH_OUT[0] as number) << 32n) | BigInt(XXH_OUT[1] as number);
    // WHEN
    const short = hashString('abc');
    // THEN
    expect(BigInt(short)).toBe(full >> 11n);
    expect(Number.isSafeInteger(short)).toBe(true);
    expect(to53(0xffffffff, 0xffffffff)).toBe(2 ** 53 - 1);
  });

  test('combining rotates left by one then xors, like Envoy', () => {
    // GIVEN
    const acc = Uint32Array.of(0x80000000, 1);
    // WHEN
    combineInto(acc, 0, 0xff);
    // THEN rotl(0x8000000000000001, 1) = 0x0000000000000003, ^ 0xff = 0xfc
    expect([...acc]).toEqual([0, 0xfc]);
  });
});
