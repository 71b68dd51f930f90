// Statistical tests of the load balancers over real Host objects; pure computation, nothing is
// stood in. A seeded PRNG keeps runs reproducible while still exercising the random paths.
import { describe, expect, test } from 'vitest';
import { hashString } from '../../../proxy/upstream/hash.js';
import { Host } from '../../../proxy/upstream/host.js';
import {
  buildPicker,
  type LbPolicyName,
  type LbSettings,
  MaglevPicker,
  RingHashPicker,
} from '../../../proxy/upstream/lb.js';

/** mulberry32: small deterministic PRNG. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hosts(weights: number[]): Host[] {
  return weights.map(
    (weight, i) =>
      new Host(
        {
          address: `10.0.0.${i + 1}`,
          port: 8080,
          weight,
          priority: 0,
          locality: { region: '', zone: '', subZone: '' },
          localityWeight: 0,
          hostname: '',
          healthCheckPort: 8080,
          flags: 0,
        },
        () => {},
      ),
  );
}

const settings = (random = seeded(42)): LbSettings => ({
  choiceCount: 2,
  minRingSize: 1024,
  maxRingSize: 8_388_608,
  maglevTableSize: 65537,
  random,
});

function distribution(policy: LbPolicyName, hs: Host[], n: number, keyed: boolean): number[] {
  const picker = buildPicker(policy, hs, settings());
  const rnd = seeded(7);
  const counts = hs.map(() => 0);
  for (let i = 0; i < n; i++) {
    const host = picker.pick(keyed ? Math.floor(rnd() * 2 ** 53) : undefined) as Host;
    counts[hs.indexOf(host)]! += 1;
  }
  return counts;
}

describe('weights are honoured', () => {
  const weights = [1, 2, 3, 4];
  const total = weights.reduce((a, b) => a + b, 0);
  test.each([
    ['ROUND_ROBIN', false, 0.001],
    ['RANDOM', false, 0.02],
    ['LEAST_REQUEST', false, 0.02],
    ['RING_HASH', true, 0.05],
    ['MAGLEV', true, 0.02],
  ] as const)('%s', (policy, keyed, tolerance) => {
    // GIVEN four hosts with weights 1:2:3:4
    const hs = hosts(weights);
    // WHEN 40000 requests are balanced
    const counts = distribution(policy, hs, 40_000, keyed);
    // THEN each host's share is its weight share, within tolerance
    counts.forEach((c, i) => {
      expect(Math.abs(c / 40_000 - (weights[i] as number) / total)).toBeLessThan(tolerance);
    });
  });

  test.each(['ROUND_ROBIN', 'RANDOM', 'LEAST_REQUEST', 'RING_HASH', 'MAGLEV'] as const)(
    '%s spreads equal weights evenly',
    (policy) => {
      // GIVEN five equal hosts
      const hs = hosts([1, 1, 1, 1, 1]);
      // WHEN
      const counts = distribution(policy, hs, 50_000, policy === 'RING_HASH' || policy === 'MAGLEV');
      // THEN every host gets about a fifth
      for (const c of counts)
        expect(Math.abs(c / 50_000 - 0.2)).toBeLessThan(policy === 'RING_HASH' ? 0.06 : 0.02);
    },
  );
});

describe('round robin', () => {
  test('equal weights rotate exactly', () => {
    // GIVEN
    const hs = hosts([1, 1, 1]);
    const p = buildPicker('ROUND_ROBIN', hs, settings());
    // WHEN
    const seq = Array.from({ length: 6 }, () => hs.indexOf(p.pick(undefined) as Host));
    // THEN
    expect(seq.slice(3)).toEqual(seq.slice(0, 3));
    expect(new Set(seq.slice(0, 3)).size).toBe(3);
  });

  test('weighted picks are interleaved, not bursts', () => {
    // GIVEN weights 1 and 3
    const hs = hosts([1, 3]);
    const p = buildPicker('ROUND_ROBIN', hs, settings());
    // WHEN
    const seq = Array.from({ length: 8 }, () => hs.indexOf(p.pick(undefined) as Host));
    // THEN host 0 appears once in every 4 picks
    expect(seq.filter((i) => i === 0)).toHaveLength(2);
    expect(seq.slice(0, 4).filter((i) => i === 0)).toHaveLength(1);
  });
});

describe('least request', () => {
  test('prefers the host with fewer active requests', () => {
    // GIVEN two hosts, one busy
    const hs = hosts([1, 1]);
    (hs[0] as Host).activeRequests = 10;
    const p = buildPicker('LEAST_REQUEST', hs, settings());
    // WHEN
    const counts = [0, 0];
    for (let i = 0; i < 1000; i++) counts[hs.indexOf(p.pick(undefined) as Host)]! += 1;
    // THEN the idle host wins whenever both are sampled (3/4 of the time or more)
    expect(counts[1]! / 1000).toBeGreaterThan(0.7);
  });
});

describe('ring hash', () => {
  function owners(picker: RingHashPicker, keys: number[]): string[] {
    return keys.map((k) => (picker.pick(k) as Host).toString());
  }

  test('the same key always reaches the same host', () => {
    // GIVEN
    const p = new RingHashPicker(hosts([1, 1, 1]), 1024, 8_388_608, Math.random);
    const key = hashString('user-42');
    // WHEN / THEN
    expect(p.pick(key)).toBe(p.pick(key));
  });

  test("removing a host moves only that host's keys", () => {
    // GIVEN five hosts and 20000 keys
    const all = hosts([1, 1, 1, 1, 1]);
    const keys = Array.from({ length: 20_000 }, (_, i) => hashString(`key-${i}`));
    const before = owners(new RingHashPicker(all, 1024, 8_388_608, Math.random), keys);
    // WHEN host 3 is removed
    const removed = (all[2] as Host).toString();
    const after = owners(
      new RingHashPicker(
        all.filter((_, i) => i !== 2),
        1024,
        8_388_608,
        Math.random,
      ),
      keys,
    );
    // THEN every key that moved belonged to the removed host, and all of its keys moved
    let moved = 0;
    keys.forEach((_, i) => {
      if (before[i] !== after[i]) {
        moved++;
        expect(before[i]).toBe(removed);
      }
      if (before[i] === removed) expect(after[i]).not.toBe(removed);
    });
    expect(moved).toBe(before.filter((o) => o === removed).length);
  });

  test('the maximum ring size caps the ring', () => {
    // GIVEN heavy weights
    const p = new RingHashPicker(hosts([1000, 1000]), 1024, 4096, Math.random);
    // WHEN / THEN
    expect(p.pointsPerHost.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4096);
  });
});

describe('maglev', () => {
  test('the table has 65537 entries by default and every host owns a fair share', () => {
    // GIVEN
    const hs = hosts([1, 1, 1]);
    const p = new MaglevPicker(hs, 65537, Math.random);
    // WHEN: count owners over every table slot
    const counts = [0, 0, 0];
    for (let slot = 0; slot < 65537; slot++) counts[hs.indexOf(p.pick(slot) as Host)]! += 1;
    // THEN
    expect(counts.reduce((a, b) => a + b, 0)).toBe(65537);
    for (const c of counts) expect(Math.abs(c - 65537 / 3)).toBeLessThanOrEqual(1);
  });

  test('removing a host disturbs few other keys', () => {
    // GIVEN
    const all = hosts([1, 1, 1, 1, 1]);
    const keys = Array.from({ length: 20_000 }, (_, i) => hashString(`key-${i}`));
    const full = new MaglevPicker(all, 65537, Math.random);
    const before = keys.map((k) => full.pick(k) as Host);
    const removed = all[1] as Host;
    const smaller = new MaglevPicker(
      all.filter((h) => h !== removed),
      65537,
      Math.random,
    );
    // WHEN
    const after = keys.map((k) => smaller.pick(k) as Host);
    // THEN keys of other hosts mostly stay (Maglev is minimally disruptive, not perfectly consistent)
    const others = keys.map((_, i) => i).filter((i) => before[i] !== removed);
    const movedOthers = others.filter((i) => after[i] !== before[i]).length;
    expect(movedOthers / others.length).toBeLessThan(0.05);
  });
});
