/**
 * The ADS server over real gRPC on loopback (port 0). The client is a raw @grpc/grpc-js ADS
 * stream (ads-client.ts) so each test can play Envoy's part exactly: ACK, NACK, stale nonces,
 * subscriptions. Nothing is stood in; grpc-js-xds as an independent client is in grpc-xds.test.ts.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { SnapshotCache } from '../../controlplane/cache.js';
import { type ControlPlaneCallbacks, XdsServer } from '../../controlplane/server.js';
import { Snapshot } from '../../controlplane/snapshot.js';
import { TYPE } from '../../controlplane/types.js';
import { DeltaStream, SotwStream } from './ads-client.js';

const eds = (name: string, lb = 'ROUND_ROBIN') => ({
  name,
  type: 'EDS',
  lb_policy: lb,
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
});
const cla = (name: string, port: number) => ({
  cluster_name: name,
  endpoints: [
    {
      lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
      ],
    },
  ],
});
const listener = (name: string, route: string) => ({
  name,
  api_listener: {
    api_listener: {
      '@type':
        'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: name,
      rds: { route_config_name: route, config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: [
        {
          name: 'router',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
        },
      ],
    },
  },
});
const routeConfig = (name: string, cluster: string) => ({
  name,
  virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
});

function snapshot(port: number, lb = 'ROUND_ROBIN'): Snapshot {
  return Snapshot.fromResources({
    [TYPE.cluster]: [eds('a', lb), eds('b', lb)],
    [TYPE.endpoint]: [cla('a', port), cla('b', port)],
    [TYPE.listener]: [listener('l', 'r')],
    [TYPE.route]: [routeConfig('r', 'a')],
  });
}

let server: XdsServer | undefined;
const streams: (SotwStream | DeltaStream)[] = [];

async function start(cache: SnapshotCache, callbacks: ControlPlaneCallbacks = {}): Promise<number> {
  server = new XdsServer(cache, callbacks);
  return (await server.listen('127.0.0.1', 0)).port;
}

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await server?.close();
  server = undefined;
});

describe('XdsServer (state of the world)', () => {
  test('answers a wildcard CDS request, parks after the ACK, and reports the ACK in status', async () => {
    // GIVEN a node with a snapshot
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const acks: string[] = [];
    const port = await start(cache, {
      onAck: (s, type, version) => acks.push(`${s.nodeId} ${type} ${version}`),
    });
    const stream = new SotwStream(port, 'n1');
    streams.push(stream);
    // WHEN it asks for every cluster
    stream.send(TYPE.cluster);
    const response = await stream.responses.next();
    // THEN it gets both, and after its ACK nothing more comes
    expect(response.type_url).toBe(TYPE.cluster);
    expect(response.resources.map((r) => r.name)).toEqual(['a', 'b']);
    stream.ack(response);
    expect(await stream.responses.quiet(200)).toBe(true);
    const status = server?.status();
    expect(status?.nodes).toMatchObject([
      {
        id: 'n1',
        connected: true,
        types: { CDS: { sent: response.version_info, acked: response.version_info, subscribed: ['*'] } },
      },
    ]);
    expect(acks).toEqual([`n1 ${TYPE.cluster} ${response.version_info}`]);
  });

  test('a new snapshot wakes parked watches and pushes in order CDS, EDS, LDS, RDS; unchanged types stay quiet', async () => {
    // GIVEN a node subscribed to all four types, everything ACKed
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const port = await start(cache);
    const stream = new SotwStream(port, 'n1');
    streams.push(stream);
    const asks: [string, string[]][] = [
      [TYPE.cluster, []],
      [TYPE.endpoint, ['a', 'b']],
      [TYPE.listener, ['l']],
      [TYPE.route, ['r']],
    ];
    for (const [type, names] of asks) {
      stream.send(type, { names });
      stream.ack(await stream.responses.next(), names);
    }
    expect(await stream.responses.quiet(100)).toBe(true);
    // WHEN the snapshot changes in clusters (lb) and endpoints (port), and the routes do not
    cache.setSnapshot('n1', snapshot(2000, 'RING_HASH'));
    const first = await stream.responses.next();
    const second = await stream.responses.next();
    // THEN CDS comes before EDS, and nothing else is pushed
    expect([first.type_url, second.type_url]).toEqual([TYPE.cluster, TYPE.endpoint]);
    expect(first.resources[0]).toMatchObject({ lbPolicy: 'RING_HASH' });
    expect(JSON.stringify(second.resources)).toContain('2000');
    stream.ack(first);
    stream.ack(second, ['a', 'b']);
    expect(await stream.responses.quiet(150)).toBe(true);
    expect(server?.status().nodes[0]?.inSync).toBe(true);
  });

  test('named subscriptions get only those names, and a new name is answered at the same version', async () => {
    // GIVEN
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const port = await start(cache);
    const stream = new SotwStream(port, 'n1');
    streams.push(stream);
    // WHEN asking EDS for `a`, then for `a` and `b` after ACKing
    stream.send(TYPE.endpoint, { names: ['a'] });
    const first = await stream.responses.next();
    stream.send(TYPE.endpoint, { names: ['a', 'b'], version: first.version_info, nonce: first.nonce });
    const second = await stream.responses.next();
    // THEN
    expect(first.resources.map((r) => r.clusterName)).toEqual(['a']);
    expect(second.resources.map((r) => r.clusterName)).toEqual(['a', 'b']);
    expect(second.version_info).toBe(first.version_info);
  });

  test('a NACK keeps the rejected version from being resent, is reported, and the next snapshot goes out', async () => {
    // GIVEN
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const nacks: string[] = [];
    const port = await start(cache, {
      onNack: (_s, _t, version, message) => nacks.push(`${version}: ${message}`),
    });
    const stream = new SotwStream(port, 'n1');
    streams.push(stream);
    stream.send(TYPE.cluster);
    const good = await stream.responses.next();
    stream.ack(good);
    cache.setSnapshot('n1', snapshot(1000, 'RANDOM'));
    const rejected = await stream.responses.next();
    // WHEN the client rejects it, holding its last good version
    stream.send(TYPE.cluster, {
      version: good.version_info,
      nonce: rejected.nonce,
      error: 'RANDOM not supported here',
    });
    // THEN nothing is resent, the NACK is reported with the rejected version
    expect(await stream.responses.quiet(200)).toBe(true);
    expect(nacks).toEqual([`${rejected.version_info}: RANDOM not supported here`]);
    expect(server?.status().nodes[0]).toMatchObject({
      inSync: false,
      types: { CDS: { acked: good.version_info, sent: rejected.version_info } },
      lastNack: { type: 'CDS', version: rejected.version_info, message: 'RANDOM not supported here' },
    });
    // AND the next snapshot is pushed
    cache.setSnapshot('n1', snapshot(1000, 'RING_HASH'));
    const next = await stream.responses.next();
    expect(next.resources[0]).toMatchObject({ lbPolicy: 'RING_HASH' });
  });

  test('a request with a stale nonce is ignored', async () => {
    // GIVEN two responses in a row
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const port = await start(cache);
    const stream = new SotwStream(port, 'n1');
    streams.push(stream);
    stream.send(TYPE.cluster);
    const first = await stream.responses.next();
    stream.ack(first);
    cache.setSnapshot('n1', snapshot(1000, 'RING_HASH'));
    const second = await stream.responses.next();
    // WHEN the client answers the first nonce again (a late ACK)
    stream.send(TYPE.cluster, { version: first.version_info, nonce: first.nonce });
    // THEN nothing happens: no resend, the ACKed version is still the first
    expect(await stream.responses.quiet(150)).toBe(true);
    expect(server?.status().nodes[0]?.types.CDS?.acked).toBe(first.version_info);
    stream.ack(second);
    await expect
      .poll(() => server?.status().nodes[0]?.types.CDS?.acked, { timeout: 10_000 })
      .toBe(second.version_info);
  });

  test('a node without a snapshot waits, and is answered as soon as one is set', async () => {
    // GIVEN an empty cache
    const cache = new SnapshotCache();
    const port = await start(cache);
    const stream = new SotwStream(port, 'late');
    streams.push(stream);
    stream.send(TYPE.cluster);
    expect(await stream.responses.quiet(150)).toBe(true);
    // WHEN
    cache.setSnapshot('late', snapshot(1000));
    // THEN
    expect((await stream.responses.next()).resources).toHaveLength(2);
  });

  test('a resource that is not valid Envoy config is never sent, and the error is reported', async () => {
    // GIVEN a cluster with a field Envoy does not have
    const cache = new SnapshotCache();
    cache.setSnapshot(
      'n1',
      Snapshot.fromResources({ [TYPE.cluster]: [{ name: 'x', type: 'STATIC', bogus_field: 1 }] }),
    );
    const errors: string[] = [];
    const port = await start(cache, { onError: (_s, e) => errors.push(e.message) });
    const stream = new SotwStream(port, 'n1');
    streams.push(stream);
    // WHEN
    stream.send(TYPE.cluster);
    // THEN
    expect(await stream.responses.quiet(200)).toBe(true);
    expect(errors[0]).toMatch(/CDS resource "x" is not a valid envoy.config.cluster.v3.Cluster/);
  });

  test('closing a stream marks the node disconnected', async () => {
    // GIVEN a connected node
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const port = await start(cache);
    const stream = new SotwStream(port, 'n1');
    stream.send(TYPE.cluster);
    await stream.responses.next();
    // WHEN it goes away
    stream.close();
    // THEN
    await expect.poll(() => server?.status().nodes[0]?.connected, { timeout: 10_000 }).toBe(false);
  });
});

describe('XdsServer (incremental)', () => {
  test('sends everything first, then only what changed, and removals by name', async () => {
    // GIVEN a delta stream subscribed to every cluster
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const port = await start(cache);
    const stream = new DeltaStream(port, 'n1');
    streams.push(stream);
    stream.send(TYPE.cluster);
    const first = await stream.responses.next();
    expect(first.resources.map((r) => r.name)).toEqual(['a', 'b']);
    stream.send(TYPE.cluster, { nonce: first.nonce });
    expect(await stream.responses.quiet(100)).toBe(true);
    // WHEN cluster `a` changes and `b` disappears
    cache.setSnapshot(
      'n1',
      Snapshot.fromResources({ [TYPE.cluster]: [eds('a', 'RING_HASH')], [TYPE.endpoint]: [cla('a', 1000)] }),
    );
    const second = await stream.responses.next();
    // THEN only `a` is sent and `b` is removed
    expect(second.resources.map((r) => r.name)).toEqual(['a']);
    expect(second.resources[0]?.resource).toMatchObject({ lbPolicy: 'RING_HASH' });
    expect(second.removed_resources).toEqual(['b']);
  });

  test('named subscriptions: subscribe adds, unsubscribe stops updates', async () => {
    // GIVEN
    const cache = new SnapshotCache();
    cache.setSnapshot('n1', snapshot(1000));
    const port = await start(cache);
    const stream = new DeltaStream(port, 'n1');
    streams.push(stream);
    // WHEN subscribing to endpoints `a`, then also `b`
    stream.send(TYPE.endpoint, { subscribe: ['a'] });
    const first = await stream.responses.next();
    stream.send(TYPE.endpoint, { subscribe: ['b'], nonce: first.nonce });
    const second = await stream.responses.next();
    // THEN each response carries only the new name
    expect(first.resources.map((r) => r.name)).toEqual(['a']);
    expect(second.resources.map((r) => r.name)).toEqual(['b']);
  });
});
