/**
 * The control plane against an INDEPENDENT xDS client: @grpc/grpc-js-xds (proxyless gRPC),
 * bootstrapped with GRPC_XDS_BOOTSTRAP_CONFIG against our server on port 0. It resolves the
 * shop's `xds:///payments` target from the rendered proxyless snapshot (LDS → RDS → CDS → EDS),
 * and its calls to two real gRPC servers (payments v1 and v2 on loopback) must follow the
 * model's weights. Nothing is stood in: the payments servers answer with their version.
 *
 * The bootstrap is read once per process by grpc-js-xds, so this file sets it in beforeAll and
 * vitest's forks pool keeps it to this file's process.
 */

import type { Server } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Placement } from '../../adapters/envoy/placement.js';
import { renderEnvoy } from '../../adapters/envoy/render.js';
import { SnapshotCache } from '../../controlplane/cache.js';
import { envoyNodeKey, snapshotsFromEnvoy } from '../../controlplane/from-envoy.js';
import { XdsServer } from '../../controlplane/server.js';
import { shopMesh } from '../adapters/envoy/fixtures.js';
import { type PaymentsClient, paymentsClient, startPayments, xdsPaymentsClient } from './grpc-payments.js';

const servers: Server[] = [];
const ports: Record<string, number> = {};
let controlPlane: XdsServer;
let cache: SnapshotCache;
let client: PaymentsClient<{ version: string }>;

function placement(): Placement {
  return {
    sidecars: [],
    gateways: [],
    external: ['v1', 'v2'].map((version) => ({
      service: 'payments',
      version,
      endpoints: [{ host: '127.0.0.1', port: ports[version] ?? 0 }],
    })),
  };
}

function publish(weights: [number, number]): void {
  const output = renderEnvoy(shopMesh({ paymentsWeights: weights }), { placement: placement() });
  cache.setSnapshots(snapshotsFromEnvoy(output));
}

function charge(): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Charge({ amount: 1 }, (err, res) => (err === null ? resolve(res?.version ?? '') : reject(err))),
  );
}

async function split(calls: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < calls; i++) {
    const version = await charge();
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  for (const version of ['v1', 'v2']) {
    const { server, port } = await startPayments(() => ({ version }));
    ports[version] = port;
    servers.push(server);
  }
  cache = new SnapshotCache({ nodeKey: envoyNodeKey(() => new Set()) });
  controlPlane = new XdsServer(cache);
  const { port } = await controlPlane.listen('127.0.0.1', 0);
  publish([80, 20]);
  client = await xdsPaymentsClient('test/grpc-client', port);
});

afterAll(async () => {
  client?.close();
  await controlPlane?.close();
  for (const s of servers) s.forceShutdown();
});

describe('grpc-js-xds against the control plane', () => {
  test('xds:///payments resolves and calls follow the 80/20 weights', async () => {
    // GIVEN the shop's payments route: v1 80, v2 20
    // WHEN 400 calls are made through the proxyless client
    const counts = await split(400);
    // THEN v1 gets 320 ± 4 standard deviations (sd = sqrt(400 * 0.8 * 0.2) = 8)
    expect((counts.v1 ?? 0) + (counts.v2 ?? 0)).toBe(400);
    expect(counts.v1).toBeGreaterThanOrEqual(288);
    expect(counts.v1).toBeLessThanOrEqual(352);
    // AND the client is listed in the status API as ACKed and in sync
    const node = controlPlane.status().nodes.find((n) => n.id === 'test/grpc-client');
    expect(node).toMatchObject({
      key: 'proxyless',
      connected: true,
      inSync: true,
      types: { LDS: { subscribed: ['payments'] } },
    });
  });

  test('a weight change is followed within 2 s without a failed call', async () => {
    // GIVEN traffic flowing
    let failures = 0;
    let stop = false;
    const background = (async () => {
      while (!stop) await charge().catch(() => failures++);
    })();
    // WHEN the split flips to 20/80
    const changedAt = Date.now();
    publish([20, 80]);
    // THEN a window of 200 calls started within 2 s shows the new split (v1: 40 ± 4 sd of 5.7)
    let counts: Record<string, number> = {};
    while (Date.now() - changedAt < 2000) {
      counts = await split(200);
      if ((counts.v1 ?? 0) <= 63) break;
    }
    stop = true;
    await background;
    expect(counts.v1 ?? 0).toBeLessThanOrEqual(63);
    expect(failures).toBe(0);
  });

  test('the fully qualified host name with port resolves to the same service', async () => {
    // GIVEN a second client on `payments.shop.mesh.local:50051`
    const other = paymentsClient<{ version: string }>('xds:///payments.shop.mesh.local:50051');
    // WHEN
    const version = await new Promise<string>((resolve, reject) =>
      other.Charge({}, (err, res) => (err === null ? resolve(res?.version ?? '') : reject(err))),
    );
    other.close();
    // THEN
    expect(['v1', 'v2']).toContain(version);
  });
});
