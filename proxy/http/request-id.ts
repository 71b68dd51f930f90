/**
 * x-request-id values in Envoy's format (a random-looking UUID v4) without a random draw per
 * request: `crypto.randomUUID()` cost measurable time on the proxy's hot path. Each id is a 32-bit
 * counter (first group) followed by 90 random bits drawn once per process (and drawn again when the
 * counter wraps), with the version and variant bits of a v4 UUID. Ids are unique within a process,
 * and processes (workers, restarts) differ in their random part. The counter sits in the first group
 * because Envoy-style consumers take a request id modulo N from its leading hex digits (trace
 * sampling): consecutive ids still spread evenly there.
 */
import { randomBytes } from 'node:crypto';

let counter = 0;
let suffix = '';

function reseed(): void {
  const b = randomBytes(16);
  counter = b.readUInt32BE(0);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  suffix = `-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
reseed();
const start = counter;

/** Two hex digits per byte value: `Number#toString(16)` takes V8's slow double-to-radix path. */
const HEX2: string[] = [];
for (let b = 0; b < 256; b++) HEX2.push(b.toString(16).padStart(2, '0'));

/** A fresh request id: `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, lowercase hex. */
export function requestId(): string {
  counter = (counter + 1) >>> 0;
  if (counter === start) reseed();
  const c = counter;
  return (
    (HEX2[c >>> 24] as string) +
    (HEX2[(c >>> 16) & 0xff] as string) +
    (HEX2[(c >>> 8) & 0xff] as string) +
    (HEX2[c & 0xff] as string) +
    suffix
  );
}
