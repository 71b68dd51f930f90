/**
 * Load-balancing algorithms over one set of hosts (one priority level). Each is built once when
 * the host set or its health changes, then `pick` runs per request without allocating:
 *
 * - ROUND_ROBIN: rotation when weights are equal, else earliest-deadline-first (Envoy's EDF).
 * - LEAST_REQUEST: power of `choice_count` random choices when weights are equal, else EDF with
 *   weight / (active + 1), as Envoy does with unequal weights.
 * - RANDOM: uniform, or weighted by binary search over cumulative weights.
 * - RING_HASH: a consistent-hash ring of xxHash64(`ip:port_i`) points; see {@link RingHashPicker}.
 * - MAGLEV: Envoy's weighted Maglev table (default size 65537).
 */
import { hashString } from './hash.js';
import type { Host } from './host.js';

/** Picks one host for a request. */
export interface HostPicker {
  /** A host, or undefined when the set is empty. `hashKey` matters only to hash balancers. */
  pick(hashKey: number | undefined): Host | undefined;
}

/** Load-balancing policies implemented. */
export type LbPolicyName = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';

/** Per-policy settings. */
export interface LbSettings {
  /** LEAST_REQUEST choices. @default 2 */
  readonly choiceCount: number;
  /** RING_HASH minimum ring size. @default 1024 */
  readonly minRingSize: number;
  /** RING_HASH maximum ring size. @default 8388608 */
  readonly maxRingSize: number;
  /** MAGLEV table size (prime). @default 65537 */
  readonly maglevTableSize: number;
  /** Random source in [0, 1). */
  readonly random: () => number;
}

const EMPTY: HostPicker = { pick: () => undefined };

function allEqual(hosts: readonly Host[]): boolean {
  const w = hosts[0]?.weight;
  return hosts.every((h) => h.weight === w);
}

/** Rotation over equal-weight hosts, from a random start (as Envoy seeds it). */
class RotationPicker implements HostPicker {
  private next: number;
  constructor(
    private readonly hosts: readonly Host[],
    random: () => number,
  ) {
    this.next = Math.floor(random() * hosts.length);
  }
  pick(): Host | undefined {
    const h = this.hosts[this.next];
    this.next = this.next + 1 === this.hosts.length ? 0 : this.next + 1;
    return h;
  }
}

/**
 * Earliest deadline first: each host's next deadline advances by 1/weight when it is picked, so
 * picks are proportional to weight and interleaved smoothly. A binary min-heap of host indexes;
 * ties go to the lower index so the order is deterministic.
 */
class EdfPicker implements HostPicker {
  private readonly deadline: Float64Array;
  private readonly heap: Int32Array;
  constructor(
    private readonly hosts: readonly Host[],
    private readonly weightOf: (h: Host) => number,
  ) {
    const n = hosts.length;
    this.deadline = new Float64Array(n);
    this.heap = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.deadline[i] = 1 / weightOf(hosts[i] as Host);
      this.heap[i] = i;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a] as number;
    const db = this.deadline[b] as number;
    return da < db || (da === db && a < b);
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const n = heap.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      let m = l;
      if (r < n && this.less(heap[r] as number, heap[l] as number)) m = r;
      if (!this.less(heap[m] as number, heap[i] as number)) return;
      const t = heap[i] as number;
      heap[i] = heap[m] as number;
      heap[m] = t;
      i = m;
    }
  }

  pick(): Host | undefined {
    if (this.heap.length === 0) return undefined;
    const top = this.heap[0] as number;
    const host = this.hosts[top] as Host;
    // Weight is read at pick time so LEAST_REQUEST sees the current active count.
    this.deadline[top] = (this.deadline[top] as number) + 1 / this.weightOf(host);
    this.siftDown(0);
    return host;
  }
}

/** Power of N choices over equal-weight hosts: the candidate with the fewest active requests. */
class P2cPicker implements HostPicker {
  constructor(
    private readonly hosts: readonly Host[],
    private readonly choices: number,
    private readonly random: () => number,
  ) {}
  pick(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    let best = this.hosts[Math.floor(this.random() * n)] as Host;
    for (let i = 1; i < this.choices; i++) {
      const c = this.hosts[Math.floor(this.random() * n)] as Host;
      if (c.activeRequests < best.activeRequests) best = c;
    }
    return best;
  }
}

/** Uniform or weighted random. */
class RandomPicker implements HostPicker {
  private readonly cumulative: Float64Array | undefined;
  private readonly total: number;
  constructor(
    private readonly hosts: readonly Host[],
    private readonly random: () => number,
  ) {
    if (allEqual(hosts)) {
      this.cumulative = undefined;
      this.total = hosts.length;
    } else {
      this.cumulative = new Float64Array(hosts.length);
      let sum = 0;
      hosts.forEach((h, i) => {
        sum += h.weight;
        (this.cumulative as Float64Array)[i] = sum;
      });
      this.total = sum;
    }
  }
  pick(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    if (this.cumulative === undefined) return this.hosts[Math.floor(this.random() * n)];
    const target = this.random() * this.total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.hosts[lo];
  }
}

/**
 * Consistent-hash ring. Points for a host are xxHash64 of `ip:port_0`, `ip:port_1`, ... (Envoy's
 * key form), and a request goes to the first point at or after its hash, wrapping around.
 *
 * Point counts differ from Envoy on purpose: Envoy scales every host's count by the whole host
 * set (so removing one host adds points to the others and moves some of their keys). Here each
 * host gets `weight x pointsPerWeight` points, with `pointsPerWeight` fixed by the minimum ring
 * size per unit of the smallest weight, so a host's points depend only on itself: removing a
 * host moves exactly that host's keys. When the ring would exceed the maximum size, counts are
 * scaled down (and that guarantee is traded for the size cap).
 */
export class RingHashPicker implements HostPicker {
  private readonly points: Float64Array;
  private readonly owners: Int32Array;
  /** Points per host, for tests and `/clusters`. */
  readonly pointsPerHost: readonly number[];

  constructor(
    private readonly hosts: readonly Host[],
    minRingSize: number,
    maxRingSize: number,
    private readonly random: () => number,
  ) {
    // A fixed per-unit replication (not divided by the host count) keeps each host's points stable.
    const perUnit = Math.max(1, Math.ceil(minRingSize / 8));
    let total = 0;
    for (const h of hosts) total += h.weight * perUnit;
    const scale = total > maxRingSize ? maxRingSize / total : 1;
    const counts = hosts.map((h) => Math.max(1, Math.round(h.weight * perUnit * scale)));
    this.pointsPerHost = counts;
    const size = counts.reduce((a, b) => a + b, 0);
    const entries: Array<[number, number]> = [];
    hosts.forEach((h, hi) => {
      const key = `${h.toString()}_`;
      for (let i = 0; i < (counts[hi] as number); i++) entries.push([hashString(key + i), hi]);
    });
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = new Float64Array(size);
    this.owners = new Int32Array(size);
    entries.forEach(([hash, owner], i) => {
      (this.points as Float64Array)[i] = hash;
      (this.owners as Int32Array)[i] = owner;
    });
  }

  pick(hashKey: number | undefined): Host | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    const h = hashKey ?? Math.floor(this.random() * 2 ** 53);
    // First point >= h, wrapping to 0.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return this.hosts[this.owners[lo === n ? 0 : lo] as number];
  }
}

/**
 * Envoy's weighted Maglev: every host walks its own permutation of the table (offset and skip
 * from xxHash64 of its address with seeds 0 and 1), claiming free slots in turns proportional to
 * weight. Lookup is `table[hash % size]`.
 */
export class MaglevPicker implements HostPicker {
  private readonly table: Int32Array;

  constructor(
    private readonly hosts: readonly Host[],
    private readonly size: number,
    private readonly random: () => number,
  ) {
    this.table = new Int32Array(size).fill(-1);
    const n = hosts.length;
    if (n === 0) return;
    const maxWeight = Math.max(...hosts.map((h) => h.weight));
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const target = new Float64Array(n);
    const normalized = new Float64Array(n);
    hosts.forEach((h, i) => {
      const key = h.toString();
      offset[i] = hashString(key) % size;
      skip[i] = (hashString(`${key}#1`) % (size - 1)) + 1;
      normalized[i] = h.weight / maxWeight;
    });
    let filled = 0;
    for (let iteration = 1; filled < size; iteration++) {
      for (let i = 0; i < n && filled < size; i++) {
        // A host of weight w/max claims a slot every max/w iterations.
        if (iteration * (normalized[i] as number) < (target[i] as number)) continue;
        target[i] = (target[i] as number) + 1;
        let c = ((offset[i] as number) + (skip[i] as number) * (next[i] as number)) % size;
        while ((this.table[c] as number) >= 0) {
          next[i] = (next[i] as number) + 1;
          c = ((offset[i] as number) + (skip[i] as number) * (next[i] as number)) % size;
        }
        this.table[c] = i;
        next[i] = (next[i] as number) + 1;
        filled++;
      }
    }
  }

  pick(hashKey: number | undefined): Host | undefined {
    if (this.hosts.length === 0) return undefined;
    const h = hashKey ?? Math.floor(this.random() * 2 ** 53);
    return this.hosts[this.table[h % this.size] as number];
  }
}

/** Builds the picker for `policy` over `hosts`. */
export function buildPicker(policy: LbPolicyName, hosts: readonly Host[], s: LbSettings): HostPicker {
  if (hosts.length === 0) return EMPTY;
  switch (policy) {
    case 'ROUND_ROBIN':
      return allEqual(hosts) ? new RotationPicker(hosts, s.random) : new EdfPicker(hosts, (h) => h.weight);
    case 'LEAST_REQUEST':
      return allEqual(hosts)
        ? new P2cPicker(hosts, s.choiceCount, s.random)
        : new EdfPicker(hosts, (h) => h.weight / (h.activeRequests + 1));
    case 'RANDOM':
      return new RandomPicker(hosts, s.random);
    case 'RING_HASH':
      return new RingHashPicker(hosts, s.minRingSize, s.maxRingSize, s.random);
    default:
      return new MaglevPicker(hosts, s.maglevTableSize, s.random);
  }
}

/**
 * Envoy's locality-weighted balancing inside one priority: a locality is chosen by smooth
 * weighted round robin over `locality weight x min(1, overprovisioning x healthy / total)`, then
 * a host inside it by the cluster's policy. Localities without a weight get no traffic.
 */
class LocalityPicker implements HostPicker {
  private readonly current: Float64Array;
  private readonly total: number;

  constructor(
    private readonly groups: ReadonlyArray<{ readonly picker: HostPicker; readonly weight: number }>,
  ) {
    this.current = new Float64Array(groups.length);
    this.total = groups.reduce((a, g) => a + g.weight, 0);
  }

  pick(hashKey: number | undefined): Host | undefined {
    let best = 0;
    for (let i = 0; i < this.groups.length; i++) {
      this.current[i] = (this.current[i] as number) + (this.groups[i] as { weight: number }).weight;
      if ((this.current[i] as number) > (this.current[best] as number)) best = i;
    }
    this.current[best] = (this.current[best] as number) - this.total;
    return (this.groups[best] as { picker: HostPicker }).picker.pick(hashKey);
  }
}

/** Builds a locality-weighted picker over one priority level (`all` its hosts, `healthy` the usable ones). */
export function buildLocalityPicker(
  policy: LbPolicyName,
  all: readonly Host[],
  healthy: readonly Host[],
  overprovisioning: number,
  s: LbSettings,
): HostPicker {
  const key = (h: Host): string => `${h.locality.region}/${h.locality.zone}/${h.locality.subZone}`;
  const totals = new Map<string, number>();
  for (const h of all) totals.set(key(h), (totals.get(key(h)) ?? 0) + 1);
  const byLocality = new Map<string, Host[]>();
  for (const h of healthy) {
    const list = byLocality.get(key(h));
    if (list === undefined) byLocality.set(key(h), [h]);
    else list.push(h);
  }
  const groups = [...byLocality.entries()]
    .map(([k, hosts]) => ({
      picker: buildPicker(policy, hosts, s),
      weight:
        (hosts[0] as Host).localityWeight *
        Math.min(1, (overprovisioning * hosts.length) / (totals.get(k) ?? 1)),
    }))
    .filter((g) => g.weight > 0);
  return groups.length === 0 ? EMPTY : new LocalityPicker(groups);
}
