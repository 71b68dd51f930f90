/** Snapshots and the cache: pure data, no I/O; nothing stood in. */
import { describe, expect, test } from 'vitest';
import { renderEnvoy } from '../../adapters/envoy/render.js';
import { SnapshotCache } from '../../controlplane/cache.js';
import { snapshotsFromEnvoy } from '../../controlplane/from-envoy.js';
import { Snapshot } from '../../controlplane/snapshot.js';
import { TYPE } from '../../controlplane/types.js';
import { MeshError } from '../../errors/index.js';
import { shopMesh } from '../adapters/envoy/fixtures.js';

const eds = (name: string) => ({
  name,
  type: 'EDS',
  eds_cluster_config: { eds_config: { ads: {} }, service_name: name },
});
const cla = (name: string) => ({ cluster_name: name, endpoints: [] });

describe('Snapshot', () => {
  test('the version is a content hash: equal content, equal version; one type changing changes only its hash', () => {
    // GIVEN two snapshots with the same clusters and different endpoints
    const a = Snapshot.fromResources({ [TYPE.cluster]: [eds('a')], [TYPE.endpoint]: [cla('a')] });
    const b = Snapshot.fromResources({ [TYPE.cluster]: [eds('a')], [TYPE.endpoint]: [cla('a')] });
    const c = Snapshot.fromResources({
      [TYPE.cluster]: [eds('a')],
      [TYPE.endpoint]: [{ cluster_name: 'a', endpoints: [{ lb_endpoints: [] }] }],
    });
    // THEN
    expect(a.version).toBe(b.version);
    expect(c.version).not.toBe(a.version);
    expect(c.resources(TYPE.cluster).version).toBe(a.resources(TYPE.cluster).version);
    expect(c.resources(TYPE.endpoint).version).not.toBe(a.resources(TYPE.endpoint).version);
  });

  test('duplicate and unnamed resources are refused with CP_E_SNAPSHOT', () => {
    // GIVEN / WHEN / THEN
    expect(() =>
      Snapshot.fromResources({ [TYPE.cluster]: [eds('a'), eds('a'), { type: 'STATIC' }] }),
    ).toThrow(
      expect.objectContaining({ code: 'CP_E_SNAPSHOT', problems: [expect.anything(), expect.anything()] }),
    );
  });

  test('consistency: dangling EDS/RDS names and orphans are all reported', () => {
    // GIVEN a cluster whose endpoints are missing, an orphan assignment, a listener naming a missing route
    const snapshot = Snapshot.fromResources({
      [TYPE.cluster]: [eds('a')],
      [TYPE.endpoint]: [cla('b')],
      [TYPE.listener]: [
        { name: 'l', filter_chains: [{ filters: [{ typed_config: { rds: { route_config_name: 'r' } } }] }] },
      ],
    });
    // WHEN
    const problems = snapshot.consistencyProblems();
    // THEN
    expect(problems.map((p) => p.path)).toEqual(['EDS["a"]', 'EDS["b"]', 'RDS["r"]']);
    expect(problems.every((p) => p.code === 'CP_E_INCONSISTENT')).toBe(true);
  });
});

describe('SnapshotCache', () => {
  test('an inconsistent snapshot is refused and the previous one stays', () => {
    // GIVEN a cache holding a good snapshot
    const cache = new SnapshotCache();
    const good = Snapshot.fromResources({ [TYPE.cluster]: [eds('a')], [TYPE.endpoint]: [cla('a')] });
    cache.setSnapshot('n', good);
    // WHEN a bad one is set
    const bad = Snapshot.fromResources({ [TYPE.cluster]: [eds('a')] });
    // THEN it throws a MeshError and the good one is kept
    expect(() => cache.setSnapshot('n', bad)).toThrow(MeshError);
    expect(cache.getSnapshot('n')).toBe(good);
  });

  test('setSnapshots is all or nothing and wakes subscribers of the changed keys', () => {
    // GIVEN a subscriber
    const cache = new SnapshotCache();
    const seen: string[] = [];
    const stop = cache.subscribe('x', (s) => seen.push(s.version));
    const ok = Snapshot.fromResources({});
    const bad = Snapshot.fromResources({ [TYPE.cluster]: [eds('a')] });
    // WHEN a batch with one bad snapshot is set, then a good batch
    expect(() =>
      cache.setSnapshots(
        new Map([
          ['x', ok],
          ['y', bad],
        ]),
      ),
    ).toThrow(MeshError);
    expect(cache.keys()).toEqual([]);
    cache.setSnapshots(new Map([['x', ok]]));
    stop();
    cache.setSnapshot('x', ok);
    // THEN the subscriber saw exactly one change
    expect(seen).toEqual([ok.version]);
  });

  test('every snapshot rendered from the shop is consistent', () => {
    // GIVEN the shop rendered
    const snapshots = snapshotsFromEnvoy(renderEnvoy(shopMesh()));
    // THEN one per proxy plus the proxyless one, all consistent
    expect([...snapshots.keys()]).toContain('proxyless');
    expect(snapshots.size).toBe(8);
    for (const snapshot of snapshots.values()) expect(snapshot.consistencyProblems()).toEqual([]);
  });
});
