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

// Scratch registers: every helper writes its 64-bit result here instead of allocating. A typed
// array, not module-level `let`s: a uint32 above 2^31 stored in a context slot is boxed as a heap
// number on every write, which made hashing allocate and run ~5x slower.
const R = new Uint32Array(2);

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  R[1] = lo >>> 0;
  R[0] = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

function mul(ah: number, al: number, bh: number, bl: number): void {
  // (ah:al) x (bh:bl) mod 2^64 = al*bl + ((ah*bl + al*bh) << 32). Math.imul gives every low
  // 32-bit product exactly; only the high half of al*bl needs 16-bit pieces (all exact in a double).
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16);
  const carry = a1 * b1 + Math.floor(mid / 65536);
  R[0] = (Math.imul(ah, bl) + Math.imul(al, bh) + carry) >>> 0;
  R[1] = Math.imul(al, bl) >>> 0;
}

/** Rotate left by r (1..31). */
function rotl(h: number, l: number, r: number): void {
  R[0] = ((h << r) | (l >>> (32 - r))) >>> 0;
  R[1] = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, R[0] as number, R[1] as number);
  rotl(R[0] as number, R[1] as number, 31);
  mul(R[0] as number, R[1] as number, P1H, P1L);
}

/** acc = (acc ^ round(0, val)) * P1 + P4 */
function mergeRound(acch: number, accl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul((acch ^ (R[0] as number)) >>> 0, (accl ^ (R[1] as number)) >>> 0, P1H, P1L);
  add(R[0] as number, R[1] as number, P4H, P4L);
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

/** Where the hash functions leave the full 64-bit result: `[hi, lo]` as uint32. */
export const XXH_OUT = new Uint32Array(2);

/** xxHash64 of `bytes[0..length)` with a 64-bit seed given as halves; result in {@link XXH_OUT}. */
export function xxHash64Bytes(bytes: Uint8Array, length: number, seedHi = 0, seedLo = 0): void {
  let i = 0;
  let hh: number;
  let hl: number;
  if (length >= 32) {
    add(seedHi, seedLo, P1H, P1L);
    add(R[0] as number, R[1] as number, P2H, P2L);
    let v1h = R[0] as number;
    let v1l = R[1] as number;
    add(seedHi, seedLo, P2H, P2L);
    let v2h = R[0] as number;
    let v2l = R[1] as number;
    let v3h = seedHi;
    let v3l = seedLo;
    // seed - P1 == seed + (2^64 - P1)
    add(seedHi, seedLo, ~P1H >>> 0, ((~P1L >>> 0) + 1) >>> 0);
    // (~P1L + 1) overflows only when P1L is 0, which it is not.
    let v4h = R[0] as number;
    let v4l = R[1] as number;
    const limit = length - 32;
    while (i <= limit) {
      round(v1h, v1l, read32(bytes, i + 4), read32(bytes, i));
      v1h = R[0] as number;
      v1l = R[1] as number;
      round(v2h, v2l, read32(bytes, i + 12), read32(bytes, i + 8));
      v2h = R[0] as number;
      v2l = R[1] as number;
      round(v3h, v3l, read32(bytes, i + 20), read32(bytes, i + 16));
      v3h = R[0] as number;
      v3l = R[1] as number;
      round(v4h, v4l, read32(bytes, i + 28), read32(bytes, i + 24));
      v4h = R[0] as number;
      v4l = R[1] as number;
      i += 32;
    }
    rotl(v1h, v1l, 1);
    hh = R[0] as number;
    hl = R[1] as number;
    rotl(v2h, v2l, 7);
    add(hh, hl, R[0] as number, R[1] as number);
    hh = R[0] as number;
    hl = R[1] as number;
    rotl(v3h, v3l, 12);
    add(hh, hl, R[0] as number, R[1] as number);
    hh = R[0] as number;
    hl = R[1] as number;
    rotl(v4h, v4l, 18);
    add(hh, hl, R[0] as number, R[1] as number);
    mergeRound(R[0] as number, R[1] as number, v1h, v1l);
    mergeRound(R[0] as number, R[1] as number, v2h, v2l);
    mergeRound(R[0] as number, R[1] as number, v3h, v3l);
    mergeRound(R[0] as number, R[1] as number, v4h, v4l);
    hh = R[0] as number;
    hl = R[1] as number;
  } else {
    add(seedHi, seedLo, P5H, P5L);
    hh = R[0] as number;
    hl = R[1] as number;
  }
  add(hh, hl, 0, length);
  hh = R[0] as number;
  hl = R[1] as number;
  while (i + 8 <= length) {
    round(0, 0, read32(bytes, i + 4), read32(bytes, i));
    hh = (hh ^ (R[0] as number)) >>> 0;
    hl = (hl ^ (R[1] as number)) >>> 0;
    rotl(hh, hl, 27);
    mul(R[0] as number, R[1] as number, P1H, P1L);
    add(R[0] as number, R[1] as number, P4H, P4L);
    hh = R[0] as number;
    hl = R[1] as number;
    i += 8;
  }
  if (i + 4 <= length) {
    mul(0, read32(bytes, i), P1H, P1L);
    hh = (hh ^ (R[0] as number)) >>> 0;
    hl = (hl ^ (R[1] as number)) >>> 0;
    rotl(hh, hl, 23);
    mul(R[0] as number, R[1] as number, P2H, P2L);
    add(R[0] as number, R[1] as number, P3H, P3L);
    hh = R[0] as number;
    hl = R[1] as number;
    i += 4;
  }
  while (i < length) {
    mul(0, bytes[i] as number, P5H, P5L);
    hh = (hh ^ (R[0] as number)) >>> 0;
    hl = (hl ^ (R[1] as number)) >>> 0;
    rotl(hh, hl, 11);
    mul(R[0] as number, R[1] as number, P1H, P1L);
    hh = R[0] as number;
    hl = R[1] as number;
    i++;
  }
  // avalanche
  hl = (hl ^ (hh >>> 1)) >>> 0; // ^= h >> 33
  mul(hh, hl, P2H, P2L);
  hh = R[0] as number;
  hl = ((R[1] as number) ^ (((R[0] as number) << 3) | ((R[1] as number) >>> 29))) >>> 0; // ^= h >> 29 (low half)
  hh = (hh ^ (hh >>> 29)) >>> 0; // ^= h >> 29 (high half)
  mul(hh, hl, P3H, P3L);
  hh = R[0] as number;
  hl = ((R[1] as number) ^ (R[0] as number)) >>> 0; // ^= h >> 32
  XXH_OUT[0] = hh;
  XXH_OUT[1] = hl;
}

// One growing scratch buffer for UTF-8 encoding, so hashing a header value costs no garbage.
// ASCII (the usual header value or address) is copied by hand, which beats a call into
// `Buffer.write` for short strings; anything else goes through `Buffer.write`.
let scratch = Buffer.allocUnsafe(1024);

/** xxHash64 of a string's UTF-8 bytes; the full result lands in {@link XXH_OUT}. */
export function xxHash64String(value: string, seedHi = 0, seedLo = 0): void {
  const len = value.length;
  if (len * 3 > scratch.length) scratch = Buffer.allocUnsafe(len * 3);
  let i = 0;
  for (; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) break;
    scratch[i] = c;
  }
  const n = i === len ? len : scratch.write(value, 0, 'utf8');
  xxHash64Bytes(scratch, n, seedHi, seedLo);
}

/** The 53-bit form (top 53 bits) of a 64-bit value given as halves. */
export function to53(hi: number, lo: number): number {
  return hi * 2097152 + (lo >>> 11);
}

/** xxHash64 (seed 0) of a string as the 53-bit number used by hash policies and the load balancers. */
export function hashString(value: string): number {
  xxHash64String(value);
  return to53(XXH_OUT[0] as number, XXH_OUT[1] as number);
}

/** Full 64-bit xxHash64 as 16 hex digits (for tests and debugging). */
export function xxHash64Hex(value: string, seed = 0): string {
  xxHash64String(value, 0, seed >>> 0);
  return (
    (XXH_OUT[0] as number).toString(16).padStart(8, '0') +
    (XXH_OUT[1] as number).toString(16).padStart(8, '0')
  );
}

/**
 * Envoy's way to combine several hash policies: `hash = rotl(hash, 1) ^ next`, on 64 bits.
 * Writes into `acc` (`[hi, lo]`, owned by the caller) so nothing is allocated.
 */
export function combineInto(acc: Uint32Array, hi: number, lo: number): void {
  const ah = acc[0] as number;
  const al = acc[1] as number;
  acc[0] = ((ah << 1) | (al >>> 31)) ^ hi;
  acc[1] = ((al << 1) | (ah >>> 31)) ^ lo;
}
