/**
 * What one socket read of the data path shares: a coarse clock and the response heads held back
 * until the read ends. Socket data handlers mark their extent ({@link enterRead} /
 * {@link exitRead}, in a finally); everything a read triggers runs inside it, synchronously.
 *
 * Clock: inside a read, {@link epochNow} and {@link monoNow} read the clock once and then return
 * that value until the read ends (Envoy's dispatcher does the same with its approximate time per
 * event-loop iteration): a request used to read it about a dozen times. Outside a read (timers,
 * HTTP/2 events) they read the real clock, so nothing ever sees a stale time.
 *
 * Held heads: a downstream HTTP/1 codec holds a response head so that head and body (which
 * usually arrive in the same upstream read) leave in one socket write; the head must still go out
 * when no body follows. `process.nextTick` per response did that at the price of a tick-queue
 * round per request; now the read flushes what is still held when it ends, and only outside a
 * read does the caller fall back to a tick.
 */
import { performance } from 'node:perf_hooks';

/** Something holding a head to write. */
export interface HeldHead {
  flushHead(): void;
}

let depth = 0;
let epoch = 0;
let mono = 0;
const held: HeldHead[] = [];

/** A socket data handler starts. */
export function enterRead(): void {
  depth++;
}

/** The data handler ends: heads still held are written. Must run (finally) after each enter. */
export function exitRead(): void {
  depth--;
  if (depth !== 0) return;
  epoch = 0;
  mono = 0;
  if (held.length === 0) return;
  // A flush may write, and writing never re-enters a read: the list is stable here.
  try {
    for (let i = 0; i < held.length; i++) (held[i] as HeldHead).flushHead();
  } finally {
    held.length = 0;
  }
}

/** Holds `head` until the current read ends; false when no read is in progress. */
export function holdUntilReadEnds(head: HeldHead): boolean {
  if (depth === 0) return false;
  held.push(head);
  return true;
}

/** `Date.now()`, read once per socket read. */
export function epochNow(): number {
  if (depth === 0) return Date.now();
  if (epoch === 0) epoch = Date.now();
  return epoch;
}

/** `performance.now()`, read once per socket read. */
export function monoNow(): number {
  if (depth === 0) return performance.now();
  if (mono === 0) mono = performance.now();
  return mono;
}
