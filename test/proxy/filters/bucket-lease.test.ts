// The lease protocol of shared local rate limit buckets (proxy/filters/bucket-lease.ts): the real
// BucketOwner and leasedBuckets. Stood in: the node:cluster IPC channel, by an in-process channel
// that delivers each message on a later turn of the event loop (setImmediate), as IPC does, and
// counts what is sent. The real channel is exercised in
// test/proxy/resilience/ratelimit-concurrency.test.ts (two worker processes).
import { describe, expect, test } from 'vitest';
import {
  BucketOwner,
  type GrantMessage,
  LEASE_ACQUIRE,
  type LeaseChannel,
  type LeaseMessage,
  leasedBuckets,
} from '../../../proxy/filters/bucket-lease.js';
import type { RateLimitBucket } from '../../../proxy/filters/local-ratelimit.js';

/** A worker's channel to `owner`; `sent` lists what the worker sent. */
function channel(owner: BucketOwner): LeaseChannel & { readonly sent: LeaseMessage[] } {
  let handler: ((m: GrantMessage) => void) | undefined;
  const sent: LeaseMessage[] = [];
  return {
    sent,
    send(m) {
      sent.push(m);
      setImmediate(() => {
        const reply = owner.handle(m);
        if (reply !== undefined) setImmediate(() => handler?.(reply));
      });
      return true;
    },
    onGrant(h) {
      handler = h;
    },
  };
}

/** Takes one token, waiting for the primary when the bucket has to ask. */
function take(bucket: RateLimitBucket): Promise<boolean> {
  return new Promise((resolve) => {
    const now = bucket.consume(resolve);
    if (now !== undefined) resolve(now);
  });
}

const SPEC = { maxTokens: 1000, tokensPerFill: 1000, fillIntervalMs: 1000 };

describe('leased buckets', () => {
  test('a worker leases a batch of 20 ms of the fill rate and spends it without asking again', async () => {
    // GIVEN 1000 tokens a second shared by 2 workers (batch: 20 tokens)
    const owner = new BucketOwner();
    const ch = channel(owner);
    const bucket = leasedBuckets(ch, 2)('rl.token_bucket', SPEC);
    // WHEN the worker takes 21 tokens one after the other
    const results: boolean[] = [];
    for (let i = 0; i < 21; i++) results.push(await take(bucket));
    // THEN all pass, with one acquire per 20 tokens
    expect(results.every(Boolean)).toBe(true);
    const acquires = ch.sent.filter((m) => m.type === LEASE_ACQUIRE);
    expect(acquires.map((m) => (m.type === LEASE_ACQUIRE ? m.want : 0))).toEqual([20, 20]);
  });

  test('two workers never get more than one bucket holds; refused requests cost no IPC until the next fill', async () => {
    // GIVEN a 10-token bucket refilled every 60 s, shared by 2 workers (batch: 2 tokens)
    const owner = new BucketOwner();
    const spec = { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 60_000 };
    const chA = channel(owner);
    const chB = channel(owner);
    const a = leasedBuckets(chA, 2)('rl', spec);
    const b = leasedBuckets(chB, 2)('rl', spec);
    // WHEN both take 10 tokens, interleaved
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      if (await take(a)) admitted++;
      if (await take(b)) admitted++;
    }
    const sentBefore = chA.sent.length + chB.sent.length;
    const more = [await take(a), await take(b), await take(a)];
    // THEN exactly the 10 tokens of the one bucket were admitted
    expect(admitted).toBe(10);
    // AND once the primary said it was empty, refusals are decided locally
    expect(more).toEqual([false, false, false]);
    expect(chA.sent.length + chB.sent.length).toBe(sentBefore);
  });

  test('requests arriving while an acquire is out share the next one; those beyond the bucket are refused', async () => {
    // GIVEN a 3-token bucket
    const owner = new BucketOwner();
    const ch = channel(owner);
    const bucket = leasedBuckets(ch, 2)('rl', { maxTokens: 3, tokensPerFill: 3, fillIntervalMs: 60_000 });
    // WHEN 5 requests arrive at once
    const results = await Promise.all([0, 1, 2, 3, 4].map(() => take(bucket)));
    // THEN the first 3 pass, in order: one acquire for the first, one for the 4 that joined it
    expect(results).toEqual([true, true, true, false, false]);
    const acquires = ch.sent.filter((m) => m.type === LEASE_ACQUIRE);
    expect(acquires.map((m) => (m.type === LEASE_ACQUIRE ? m.want : 0))).toEqual([1, 4]);
  });

  test('a lease unspent after one fill interval goes back to the primary', async () => {
    // GIVEN a 50 ms fill interval (the shortest lease) and a worker holding a batch
    const owner = new BucketOwner();
    const spec = { maxTokens: 100, tokensPerFill: 100, fillIntervalMs: 50 };
    const chA = channel(owner);
    const a = leasedBuckets(chA, 2)('rl', spec);
    await take(a);
    // WHEN the lease runs out unused
    await new Promise((r) => setTimeout(r, 120));
    // THEN the worker returned what it held
    const returned = chA.sent.filter((m) => m.type === 'crossmesh:rl-return');
    expect(returned).toHaveLength(1);
    expect(returned[0]).toMatchObject({ key: 'rl', count: 24 });
  });

  test('a malformed message does not break the primary', () => {
    // GIVEN / WHEN / THEN
    const owner = new BucketOwner();
    const reply = owner.handle({
      type: LEASE_ACQUIRE,
      id: 1,
      key: 'rl',
      spec: { maxTokens: -1, tokensPerFill: 1, fillIntervalMs: 1 },
      want: 1,
    });
    expect(reply).toMatchObject({ granted: 0 });
    expect(
      owner.handle({ type: 'crossmesh:rl-return', key: 'rl', spec: SPEC, count: Number.NaN }),
    ).toBeUndefined();
  });
});
