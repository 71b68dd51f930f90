/**
 * Local rate limit buckets shared by `--concurrency` workers. Envoy's workers share one token
 * bucket per filter config (an atomic counter); our workers are processes, so without this each
 * would hold its own bucket and N workers would admit N times the configured rate.
 *
 * Design: the `node:cluster` primary owns every shared bucket ({@link BucketOwner}, the one exact
 * token count, refilled lazily as in a single process). A worker leases tokens in small batches
 * over the IPC channel ({@link leasedBuckets}) and spends them locally, so most requests cost no
 * round trip:
 *
 * - A request finds a leased token: it passes at once. Otherwise it waits for one `acquire`
 *   round trip (requests arriving meanwhile join it); the primary grants what it has, up to the
 *   batch, and the waiting requests get those tokens in order; the rest are refused.
 * - When the primary had none it says how long until its next fill; the worker refuses locally
 *   until then without asking again (a limited flood costs no IPC).
 * - A lease lives for one fill interval (50 ms to 1 s); what is left then goes back to the primary,
 *   so an idle worker does not sit on tokens another one needs.
 *
 * Accuracy: the primary never hands out more tokens than one bucket holds, so the workers never
 * admit more than the configured rate (tokens can only be spent later than they were taken, by at
 * most a lease). They can admit less only by the tokens leased and not yet spent at the end of a
 * measurement: at most `workers x batch`, and the batch is at most 20 ms of the fill rate and at
 * most max_tokens / (2 x workers). Over 10 s that is at most 0.4 % of the configured rate with 2
 * workers (20 ms x 2 / 10 s), inside issue 6's 5 %.
 *
 * `x-ratelimit-remaining` in a worker is the primary's count at the last grant plus the worker's
 * lease (the other workers' leases are not seen); `x-ratelimit-reset` is the primary's next fill.
 */
import type { BucketFactory, BucketSpec, RateLimitBucket } from './local-ratelimit.js';
import { TokenBucketState } from './local-ratelimit.js';

/** Message types on the IPC channel. */
export const LEASE_ACQUIRE = 'crossmesh:rl-acquire';
export const LEASE_GRANT = 'crossmesh:rl-grant';
export const LEASE_RETURN = 'crossmesh:rl-return';

/** Worker → primary: up to `want` tokens of bucket `key`. */
export interface AcquireMessage {
  readonly type: typeof LEASE_ACQUIRE;
  readonly id: number;
  readonly key: string;
  readonly spec: BucketSpec;
  readonly want: number;
}

/** Primary → worker: the answer to acquire `id`. */
export interface GrantMessage {
  readonly type: typeof LEASE_GRANT;
  readonly id: number;
  readonly granted: number;
  /** Tokens left in the primary's bucket after this grant. */
  readonly remaining: number;
  /** Milliseconds until the primary's next fill. */
  readonly nextFillMs: number;
}

/** Worker → primary: `count` unspent tokens of an expired lease. */
export interface ReturnMessage {
  readonly type: typeof LEASE_RETURN;
  readonly key: string;
  readonly spec: BucketSpec;
  readonly count: number;
}

/** A message of this protocol. */
export type LeaseMessage = AcquireMessage | GrantMessage | ReturnMessage;

/** True for a message of this protocol (the channel also carries stats and drain messages). */
export function isLeaseMessage(m: unknown): m is LeaseMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === LEASE_ACQUIRE || t === LEASE_GRANT || t === LEASE_RETURN;
}

function validSpec(s: unknown): s is BucketSpec {
  if (typeof s !== 'object' || s === null) return false;
  const { maxTokens, tokensPerFill, fillIntervalMs } = s as Record<string, unknown>;
  return (
    Number.isInteger(maxTokens) &&
    (maxTokens as number) >= 1 &&
    Number.isInteger(tokensPerFill) &&
    (tokensPerFill as number) >= 1 &&
    typeof fillIntervalMs === 'number' &&
    fillIntervalMs >= 50
  );
}

/** The primary's side: every shared bucket, answering the workers' acquires and returns. */
export class BucketOwner {
  private readonly buckets = new Map<string, TokenBucketState>();

  constructor(private readonly now: () => number = Date.now) {}

  private bucket(key: string, spec: BucketSpec): TokenBucketState {
    // The settings are part of the identity: a config that changes a bucket's settings gets a new one.
    const id = `${key}\u0000${spec.maxTokens}/${spec.tokensPerFill}/${spec.fillIntervalMs}`;
    let b = this.buckets.get(id);
    if (b === undefined) {
      b = new TokenBucketState(spec.maxTokens, spec.tokensPerFill, spec.fillIntervalMs, this.now);
      this.buckets.set(id, b);
    }
    return b;
  }

  /**
   * Handles one worker message; returns the reply to send back to that worker, if any. Malformed
   * messages are ignored (a worker is our own code, but the primary must never crash).
   */
  handle(m: LeaseMessage): GrantMessage | undefined {
    if (m.type === LEASE_ACQUIRE) {
      if (!validSpec(m.spec) || typeof m.key !== 'string' || !Number.isInteger(m.want) || m.want < 1) {
        return { type: LEASE_GRANT, id: m.id, granted: 0, remaining: 0, nextFillMs: 1000 };
      }
      const b = this.bucket(m.key, m.spec);
      let granted = 0;
      while (granted < m.want && b.consume()) granted++;
      return {
        type: LEASE_GRANT,
        id: m.id,
        granted,
        remaining: Math.floor(b.remaining),
        nextFillMs: b.msToNextFill,
      };
    }
    if (
      m.type === LEASE_RETURN &&
      validSpec(m.spec) &&
      typeof m.key === 'string' &&
      Number.isInteger(m.count)
    ) {
      this.bucket(m.key, m.spec).giveBack(m.count);
    }
    return undefined;
  }
}

/** What a worker needs of its IPC channel to the primary. */
export interface LeaseChannel {
  send(message: AcquireMessage | ReturnMessage): boolean;
  /** Registers the handler of the primary's replies. */
  onGrant(handler: (message: GrantMessage) => void): void;
}

/** How long a worker waits for the primary before it decides with a bucket of its own. */
const ACQUIRE_TIMEOUT_MS = 1000;

/**
 * A worker's factory of shared buckets leased from the primary.
 * @param workers the number of workers sharing each bucket (bounds the batch size)
 */
export function leasedBuckets(
  channel: LeaseChannel,
  workers: number,
  now: () => number = Date.now,
): BucketFactory {
  const waiting = new Map<number, LeasedBucket>();
  let nextId = 1;
  channel.onGrant((m) => {
    const bucket = waiting.get(m.id);
    if (bucket === undefined) return;
    waiting.delete(m.id);
    bucket.granted(m);
  });
  const acquire = (bucket: LeasedBucket, want: number): number | undefined => {
    const id = nextId++;
    waiting.set(id, bucket);
    let sent = false;
    try {
      sent = channel.send({ type: LEASE_ACQUIRE, id, key: bucket.key, spec: bucket.spec, want });
    } catch {
      sent = false;
    }
    if (!sent) {
      waiting.delete(id);
      return undefined;
    }
    return id;
  };
  const giveBack = (bucket: LeasedBucket, count: number) => {
    try {
      channel.send({ type: LEASE_RETURN, key: bucket.key, spec: bucket.spec, count });
    } catch {
      // The primary is gone (shutting down): the tokens are simply not returned.
    }
  };
  const forget = (id: number) => waiting.delete(id);
  return (key, spec) => new LeasedBucket(key, spec, Math.max(1, workers), now, { acquire, giveBack, forget });
}

interface Wire {
  acquire(bucket: LeasedBucket, want: number): number | undefined;
  giveBack(bucket: LeasedBucket, count: number): void;
  forget(id: number): void;
}

/** One shared bucket as a worker sees it: its lease, and the requests waiting for a grant. */
class LeasedBucket implements RateLimitBucket {
  readonly maxTokens: number;
  readonly fillRate: number;
  private readonly batch: number;
  private readonly leaseMs: number;
  private leased = 0;
  private leaseEnds = 0;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** The primary had no token: refuse locally until then. */
  private deniedUntil = 0;
  private inFlight: number | undefined;
  /** Tokens asked for by the acquire in flight. */
  private asked = 0;
  private acquireTimer: NodeJS.Timeout | undefined;
  private readonly pending: Array<(allowed: boolean) => void> = [];
  private primaryRemaining: number;
  private nextFillAt: number;
  /** Decides alone when the primary cannot be reached (shutdown): this worker's own bucket. */
  private fallback: TokenBucketState | undefined;

  constructor(
    readonly key: string,
    readonly spec: BucketSpec,
    workers: number,
    private readonly now: () => number,
    private readonly wire: Wire,
  ) {
    this.maxTokens = spec.maxTokens;
    this.fillRate = spec.tokensPerFill / spec.fillIntervalMs;
    // At most 20 ms of the fill rate, and at most half of the bucket split across the workers.
    const perTwentyMs = Math.floor(this.fillRate * 20);
    const share = Math.floor(spec.maxTokens / (2 * workers));
    this.batch = Math.max(1, Math.min(perTwentyMs, share));
    this.leaseMs = Math.min(1000, Math.max(50, spec.fillIntervalMs));
    this.primaryRemaining = spec.maxTokens;
    this.nextFillAt = now() + spec.fillIntervalMs;
  }

  consume(done: (allowed: boolean) => void): boolean | undefined {
    const now = this.now();
    if (this.leased > 0) {
      if (now < this.leaseEnds) {
        this.leased--;
        return true;
      }
      this.expire();
    }
    if (this.inFlight === undefined && now < this.deniedUntil) return false;
    this.pending.push(done);
    if (this.inFlight === undefined) this.ask();
    return undefined;
  }

  private ask(): void {
    this.asked = Math.max(this.batch, this.pending.length);
    const id = this.wire.acquire(this, this.asked);
    if (id === undefined) {
      this.decideAlone();
      return;
    }
    this.inFlight = id;
    this.acquireTimer = setTimeout(() => {
      this.wire.forget(id);
      this.inFlight = undefined;
      this.decideAlone();
    }, ACQUIRE_TIMEOUT_MS);
    this.acquireTimer.unref();
  }

  /** The primary's answer: serve the waiting requests in order, keep the rest as the lease. */
  granted(m: GrantMessage): void {
    clearTimeout(this.acquireTimer);
    this.inFlight = undefined;
    const now = this.now();
    this.primaryRemaining = m.remaining;
    this.nextFillAt = now + m.nextFillMs;
    let tokens = m.granted;
    // Granted less than asked: the primary's bucket is empty until its next fill.
    const empty = m.granted < this.asked;
    if (empty) this.deniedUntil = now + m.nextFillMs;
    const waiters = this.pending.splice(0);
    for (const w of waiters) {
      if (tokens > 0) {
        tokens--;
        w(true);
      } else if (empty) w(false);
      // Arrived after the acquire was sent: the primary may have more, ask again below.
      else this.pending.push(w);
    }
    if (tokens > 0) {
      this.leased += tokens;
      this.leaseEnds = now + this.leaseMs;
      clearTimeout(this.leaseTimer);
      this.leaseTimer = setTimeout(() => this.expire(), this.leaseMs);
      this.leaseTimer.unref();
    }
    // Requests that arrived while the answer was on its way and found it short ask again.
    if (this.pending.length > 0 && this.inFlight === undefined) this.ask();
  }

  /** Hands an expired lease back to the primary. */
  private expire(): void {
    clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    if (this.leased > 0) this.wire.giveBack(this, this.leased);
    this.leased = 0;
  }

  /** No primary to ask: the waiting requests take from a bucket of this worker's own. */
  private decideAlone(): void {
    if (this.fallback === undefined) {
      const s = this.spec;
      this.fallback = new TokenBucketState(s.maxTokens, s.tokensPerFill, s.fillIntervalMs, this.now);
    }
    const b = this.fallback;
    for (const w of this.pending.splice(0)) w(b.consume());
  }

  get remaining(): number {
    return this.primaryRemaining + this.leased;
  }

  get resetSeconds(): number {
    return Math.max(0, Math.ceil((this.nextFillAt - this.now()) / 1000));
  }
}
