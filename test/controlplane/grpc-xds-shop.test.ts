/**
 * examples/shop itself (not a test variant) through @grpc/grpc-js-xds, the independent xDS
 * client: `xds:///payments` resolves from the rendered proxyless snapshot and the route that
 * matches the gRPC method `shop.Payments/Charge` sends calls to the payments server. The
 * placement points payments v1 at a real gRPC server on loopback (the example's strict mTLS is
 * between sidecars; proxyless clients talk to this server directly). Nothing is stood in.
 * Its own file: grpc-js-xds reads its bootstrap once per process.
 */
import type { Server } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderEnvoy } from '../../adapters/envoy/render.js';
import { MeshPublisher } from '../../controlplane/publisher.js';
import { XdsServer } from '../../controlplane/server.js';
import { loadMesh } from '../../model/load.js';
import { type PaymentsClient, startPayments, xdsPaymentsClient } from './grpc-payments.js';

let payments: Server;
let controlPlane: XdsServer;
let client: PaymentsClient<{ charged: number }>;

beforeAll(async () => {
  const started = await startPayments((request) => ({ charged: request.amount }));
  payments = started.server;
  const port = started.port;
  const mesh = await loadMesh(new URL('../../examples/shop/mesh.ts', import.meta.url).pathname);
  const publisher = new MeshPublisher();
  controlPlane = new XdsServer(publisher.cache);
  const cp = await controlPlane.listen('127.0.0.1', 0);
  publisher.publish(
    renderEnvoy(mesh, {
      placement: {
        sidecars: [],
        gateways: [],
        external: [{ service: 'payments', version: 'v1', endpoints: [{ host: '127.0.0.1', port }] }],
      },
    }),
  );
  client = await xdsPaymentsClient('test/shop-client', cp.port);
});

afterAll(async () => {
  client?.close();
  await controlPlane?.close();
  payments?.forceShutdown();
});

describe('grpc-js-xds on examples/shop', () => {
  test('xds:///payments resolves and Charge reaches payments', async () => {
    // GIVEN the shop's payments service (routes `charge` by gRPC method, then `other`)
    // WHEN the proxyless client calls Charge
    const reply = await new Promise<{ charged: number } | undefined>((resolve, reject) =>
      client.Charge({ amount: 42 }, (err, res) => (err === null ? resolve(res) : reject(err))),
    );
    // THEN the payments server answered, and the client is in sync with the proxyless snapshot
    expect(reply).toEqual({ charged: 42 });
    const node = controlPlane.status().nodes.find((n) => n.id === 'test/shop-client');
    expect(node).toMatchObject({
      key: 'proxyless',
      inSync: true,
      types: { LDS: { subscribed: ['payments'] } },
    });
  });
});
