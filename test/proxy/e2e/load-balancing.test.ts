// Load-balancing distribution through the real proxy to three real node:http upstreams on
// loopback (port 0). The checks are statistical, with bounds far from the expected values so
// they do not flake. Nothing is stood in.
import { afterEach, describe, expect, test } from 'vitest';
import { bootstrapJson, Closer, httpUpstream, ingressPort, request, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function cluster(lbPolicy: string, weights?: number[], hashPolicy?: unknown) {
  const ups = [
    await httpUpstream(closer, 'u0'),
    await httpUpstream(closer, 'u1'),
    await httpUpstream(closer, 'u2'),
  ];
  const proxy = await startFromJson(
    closer,
    bootstrapJson({
      routeConfig: {
        virtual_hosts: [
          {
            name: 'all',
            domains: ['*'],
            routes: [
              {
                match: { prefix: '/' },
                route: { cluster: 'svc', ...(hashPolicy === undefined ? {} : { hash_policy: hashPolicy }) },
              },
            ],
          },
        ],
      },
      clusters: [{ name: 'svc', ports: ups.map((u) => u.port), lbPolicy, ...(weights ? { weights } : {}) }],
    }),
  );
  return { port: ingressPort(proxy), proxy };
}

async function tally(
  port: number,
  n: number,
  headers?: (i: number) => Record<string, string>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await request(port, { path: `/r${i}`, ...(headers ? { headers: headers(i) } : {}) });
    const who = String(res.headers['x-upstream']);
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return counts;
}

describe('load balancing through the proxy', () => {
  test('ROUND_ROBIN spreads requests evenly', async () => {
    // GIVEN
    const { port } = await cluster('ROUND_ROBIN');
    // WHEN
    const counts = await tally(port, 90);
    // THEN each host gets its exact third (round robin is deterministic)
    expect([...counts.values()].sort()).toEqual([30, 30, 30]);
  });

  test('weighted ROUND_ROBIN follows endpoint weights', async () => {
    // GIVEN weights 1:2:5
    const { port } = await cluster('ROUND_ROBIN', [1, 2, 5]);
    // WHEN
    const counts = await tally(port, 160);
    // THEN within generous bounds of 20/40/100
    expect(counts.get('u0') ?? 0).toBeGreaterThan(10);
    expect(counts.get('u0') ?? 0).toBeLessThan(32);
    expect(counts.get('u2') ?? 0).toBeGreaterThan(80);
  });

  test('RANDOM reaches every host', async () => {
    // GIVEN
    const { port } = await cluster('RANDOM');
    // WHEN
    const counts = await tally(port, 90);
    // THEN P(a host gets < 10 of 90 at p=1/3) is about 1e-8
    for (const name of ['u0', 'u1', 'u2']) expect(counts.get(name) ?? 0).toBeGreaterThan(10);
  });

  test('RING_HASH on a header keeps each key on one host and spreads keys', async () => {
    // GIVEN
    const { port } = await cluster('RING_HASH', undefined, [{ header: { header_name: 'x-user' } }]);
    // WHEN each of 30 users sends 3 requests
    const byUser = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 30; u++) {
        const res = await request(port, { headers: { 'x-user': `user-${u}` } });
        const set = byUser.get(`user-${u}`) ?? new Set<string>();
        set.add(String(res.headers['x-upstream']));
        byUser.set(`user-${u}`, set);
      }
    }
    // THEN sticky per key, and more than one host in use overall
    for (const hosts of byUser.values()) expect(hosts.size).toBe(1);
    const used = new Set([...byUser.values()].flatMap((s) => [...s]));
    expect(used.size).toBeGreaterThan(1);
  });

  test('MAGLEV on the source IP sends one client to one host', async () => {
    // GIVEN
    const { port } = await cluster('MAGLEV', undefined, [{ connection_properties: { source_ip: true } }]);
    // WHEN
    const counts = await tally(port, 20);
    // THEN all from 127.0.0.1 land on the same host
    expect(counts.size).toBe(1);
  });
});
