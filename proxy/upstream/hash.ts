/**
 * xxHash64, the hash Envoy uses for hash policies, ring hash and maglev, computed on pairs of
 * 32-bit halves so the request path needs no BigInt. Results come out as a 53-bit number (the top
 * 53 bits of the 64-bit hash): exact in a double, ordered like the 64-bit value, and usable with
 * `%` directly. Both the router (hash keys) and the load balancers (ring points, maglev offsets)
 * use this same form, so they agree with each other.
 */

// Primes as [hi, lo] halves.
const P1H = 0x9e3779b1;
const P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d;
const P2L = 0x27d4eb4f;
const P3H = 0x165667b1;
const P3L = 0x9e3779f9;
const P4H = 0x85ebca77;
const P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f;
const P5L = 0x165667c5;

// Scratch registers: every helper writes its 64-bit result here instead of allocating.
let rh = 0;
let rl = 0;

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  rl = lo >>> 0;
  rh = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

function mul(ah: number, al: number, bh: number, bl: number): void {
  const a48 = ah >>> 16;
  const a32 = ah & 0xffff;
  const a16 = al >>> 16;
  const a00 = al & 0xffff;
  const b48 = bh >>> 16;
  const b32 = bh & 0xffff;
  const b16 = bl >>> 16;
  const b00 = bl & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  rh = ((c48 << 16) | c32) >>> 0;
  rl = ((c16 << 16) | c00) >>> 0;
}

/** Rotate left by r (1..31). */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** acc = (acc ^ round(0, val)) * P1 + P4 */
function mergeRound(acch: number, accl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((acch ^ rh) >>> 0, (accl ^ rl) >>> 0, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

function read32(b: Uint8Array, i: number): number {
  return (
    ((b[i] as number) |
      ((b[i + 1] as number) << 8) |
      ((b[i + 2] as number) << 16) |
      ((b[i + 3] as number) << 24)) >>>
    0
  );
}

/** Where {@link xxHash64Bytes} leaves the full 64-bit result. */
export const XXH_OUT = { hi: 0, lo: 0 };

/** xxHash64 of `bytes[0..length)` with a 64-bit seed given as halves; result in {@link XXH_OUT}. */
export function xxHash64Bytes(bytes: Uint8Array, length: number, seedHi = 0, seedLo = 0): void {
  let i = 0;
  let hh: number;
  let hl: number;
  if (length >= 32) {
    add(seedHi, seedLo, P1H, P1L);
    add(rh, rl, P2H, P2L);
    let v1h = rh;
    let v1l = rl;
    add(seedHi, seedLo, P2H, P2L);
    let v2h = rh;
    let v2l = rl;
    let v3h = seedHi;
    let v3l = seedLo;
    // seed - P1 == seed + (2^64 - P1)
    add(seedHi, seedLo, ~P1H >>> 0, ((~P1L >>> 0) + 1) >>> 0);
    // (~P1L + 1) overflows only when P1L is 0, which it is not.
    let v4h = rh;
    let v4l = rl;
    const limit = length - 32;
    while (i <= limit) {
      round(v1h, v1l, read32(bytes, i + 4), read32(bytes, i));
      v1h = rh;
      v1l = rl;
      round(v2h, v2l, read32(bytes, i + 12), read32(bytes, i + 8));
      v2h = rh;
      v2l = rl;
      round(v3h, v3l, read32(bytes, i + 20), read32(bytes, i + 16));
      v3h = rh;
      v3l = rl;
      round(v4h, v4l, read32(bytes, i + 28), read32(bytes, i + 24));
      v4h = rh;
      v4l = rl;
      i += 32;
    }
    rotl(v1h, v1l, 1);
    hh = rh;
    hl = rl;
    rotl(v2h, v2l, 7);
    add(hh, hl, rh, rl);
    hh = rh;
    hl = rl;
    rotl(v3h, v3l, 12);
    add(hh, hl, rh, rl);
    hh = rh;
    hl = rl;
    rotl(v4h, v4l, 18);
    add(hh, hl, rh, rl);
    mergeRound(rh, rl, v1h, v1l);
    mergeRound(rh, rl, v2h, v2l);
    mergeRound(rh, rl, v3h, v3l);
    mergeRound(rh, rl, v4h, v4l);
    hh = rh;
    hl = rl;
  } else {
    add(seedHi, seedLo, P5H, P5L);
    hh = rh;
    hl = rl;
  }
  add(hh, hl, 0, length);
  hh = rh;
  hl = rl;
  while (i + 8 <= length) {
    round(0, 0, read32(bytes, i + 4), read32(bytes, i));
    hh = (hh ^ rh) >>> 0;
    hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 27);
    mul(rh, rl, P1H, P1L);
    add(rh, rl, P4H, P4L);
    hh = rh;
    hl = rl;
    i += 8;
  }
  if (i + 4 <= length) {
    mul(0, read32(bytes, i), P1H, P1L);
    hh = (hh ^ rh) >>> 0;
    hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 23);
    mul(rh, rl, P2H, P2L);
    add(rh, rl, P3H, P3L);
    hh = rh;
    hl = rl;
    i += 4;
  }
  while (i < length) {
    mul(0, bytes[i] as number, P5H, P5L);
    hh = (hh ^ rh) >>> 0;
    hl = (hl ^ rl) >>> 0;
    rotl(hh, hl, 11);
    mul(rh, rl, P1H, P1L);
    hh = rh;
    hl = rl;
    i++;
  }
  // avalanche
  hl = (hl ^ (hh >>> 1)) >>> 0; // ^= h >> 33
  mul(hh, hl, P2H, P2L);
  hh = rh;
  hl = (rl ^ ((rh << 3) | (rl >>> 29))) >>> 0; // ^= h >> 29 (low half)
  hh = (hh ^ (hh >>> 29)) >>> 0; // ^= h >> 29 (high half)
  mul(hh, hl, P3H, P3L);
  hh = rh;
  hl = (rl ^ rh) >>> 0; // ^= h >> 32
  XXH_OUT.hi = hh;
  XXH_OUT.lo = hl;
}

// One growing scratch buffer for UTF-8 encoding: `Buffer.write` returns the byte count without
// allocating, so hashing a header value costs no garbage.
let scratch = Buffer.allocUnsafe(1024);

/** xxHash64 of a string's UTF-8 bytes; the full result lands in {@link XXH_OUT}. */
export function xxHash64String(value: string, seedHi = 0, seedLo = 0): void {
  if (value.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(value.length * 3);
  const n = scratch.write(value, 0, 'utf8');
  xxHash64Bytes(scratch, n, seedHi, seedLo);
}

/** The 53-bit form (top 53 bits) of a 64-bit value given as halves. */
export function to53(hi: number, lo: number): number {
  return hi * 2097152 + (lo >>> 11);
}

/** xxHash64 (seed 0) of a string as the 53-bit number used by hash policies and the load balancers. */
export function hashString(value: string): number {
  xxHash64String(value);
  return to53(XXH_OUT.hi, XXH_OUT.lo);
}

/** Full 64-bit xxHash64 as 16 hex digits (for tests and debugging). */
export function xxHash64Hex(value: string, seed = 0): string {
  xxHash64String(value, 0, seed >>> 0);
  return XXH_OUT.hi.toString(16).padStart(8, '0') + XXH_OUT.lo.toString(16).padStart(8, '0');
}

/**
 * Envoy's way to combine several hash policies: `hash = rotl(hash, 1) ^ next`, on 64 bits.
 * Writes into `acc` (an `{hi, lo}` the caller owns) so nothing is allocated.
 */
export function combineInto(acc: { hi: number; lo: number }, hi: number, lo: number): void {
  const h = ((acc.hi << 1) | (acc.lo >>> 31)) >>> 0;
  const l = ((acc.lo << 1) | (acc.hi >>> 31)) >>> 0;
  acc.hi = (h ^ hi) >>> 0;
  acc.lo = (l ^ lo) >>> 0;
}
