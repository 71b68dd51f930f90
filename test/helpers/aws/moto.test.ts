/**
 * The AWS test harness itself: moto_server (real) behind the loopback shim. Pins what the shim
 * promises: moto's timestamps reach the SDK as dates, moto's errors as the API's exception classes,
 * and the stand-in for the operations moto lacks behaves as the API documents (conflicts,
 * not-found on missing references, in-use gateways, versions, tags); faults fire as injected.
 */
import {
  AppMeshClient,
  ConflictException,
  CreateGatewayRouteCommand,
  CreateMeshCommand,
  CreateVirtualGatewayCommand,
  CreateVirtualRouterCommand,
  CreateVirtualServiceCommand,
  DeleteVirtualGatewayCommand,
  DeleteVirtualServiceCommand,
  DescribeVirtualNodeCommand,
  ListTagsForResourceCommand,
  NotFoundException,
  ResourceInUseException,
  UntagResourceCommand,
  UpdateVirtualServiceCommand,
} from '@aws-sdk/client-app-mesh';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AwsStandIn, startAwsStandIn } from './moto.js';

let aws: AwsStandIn;
let client: AppMeshClient;

beforeAll(async () => {
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDCROSSMESHHARNESS';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'crossmesh-harness-secret';
  aws = await startAwsStandIn();
  client = new AppMeshClient({ endpoint: aws.endpoint, region: 'us-east-1', maxAttempts: 1 });
  await client.send(new CreateMeshCommand({ meshName: 'h', spec: { egressFilter: { type: 'ALLOW_ALL' } } }));
  await client.send(
    new CreateVirtualRouterCommand({
      meshName: 'h',
      virtualRouterName: 'r',
      spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }] },
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await aws?.close();
});

describe('moto behind the shim', () => {
  test('moto answers reach the SDK with real timestamps and the API exception classes', async () => {
    // GIVEN a mesh created through moto / WHEN a missing node is described
    const described = client.send(
      new DescribeVirtualNodeCommand({ meshName: 'h', virtualNodeName: 'missing' }),
    );
    // THEN the SDK raises NotFoundException (moto says VirtualNodeNotFound, 400)
    await expect(described).rejects.toBeInstanceOf(NotFoundException);
    const { mesh } = await client.send(new CreateMeshCommand({ meshName: 'h2', spec: {} }));
    expect(mesh?.metadata?.createdAt).toBeInstanceOf(Date);
    // moto's clock is this machine's: the converted time is within a minute of now
    expect(Math.abs((mesh?.metadata?.createdAt?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  test('the virtual service stand-in checks its provider, refuses duplicates and versions updates', async () => {
    // GIVEN / WHEN a virtual service on the router, twice, and one on a missing router
    const spec = { provider: { virtualRouter: { virtualRouterName: 'r' } } };
    const { virtualService } = await client.send(
      new CreateVirtualServiceCommand({
        meshName: 'h',
        virtualServiceName: 'vs.local',
        spec,
        tags: [{ key: 'a', value: '1' }],
      }),
    );
    // THEN
    expect(virtualService?.metadata?.version).toBe(1);
    expect(virtualService?.status?.status).toBe('ACTIVE');
    await expect(
      client.send(new CreateVirtualServiceCommand({ meshName: 'h', virtualServiceName: 'vs.local', spec })),
    ).rejects.toBeInstanceOf(ConflictException);
    await expect(
      client.send(
        new CreateVirtualServiceCommand({
          meshName: 'h',
          virtualServiceName: 'other.local',
          spec: { provider: { virtualRouter: { virtualRouterName: 'nope' } } },
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundException);
    const updated = await client.send(
      new UpdateVirtualServiceCommand({ meshName: 'h', virtualServiceName: 'vs.local', spec }),
    );
    expect(updated.virtualService?.metadata?.version).toBe(2);
    // AND its tags can be listed and removed
    const arn = virtualService?.metadata?.arn as string;
    await client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a'] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([]);
  });

  test('a virtual gateway with routes, and a virtual service a gateway route targets, cannot be deleted', async () => {
    // GIVEN a gateway with a route
    await client.send(
      new CreateVirtualGatewayCommand({
        meshName: 'h',
        virtualGatewayName: 'gw',
        spec: { listeners: [{ portMapping: { port: 8080, protocol: 'http' } }] },
      }),
    );
    await client.send(
      new CreateGatewayRouteCommand({
        meshName: 'h',
        virtualGatewayName: 'gw',
        gatewayRouteName: 'all',
        spec: {
          httpRoute: {
            match: { prefix: '/' },
            action: { target: { virtualService: { virtualServiceName: 'vs.local' } } },
          },
        },
      }),
    );
    // WHEN / THEN
    await expect(
      client.send(new DeleteVirtualServiceCommand({ meshName: 'h', virtualServiceName: 'vs.local' })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
    await expect(
      client.send(new DeleteVirtualGatewayCommand({ meshName: 'h', virtualGatewayName: 'gw' })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
  });

  test('an injected fault fails exactly the chosen mutating call', async () => {
    // GIVEN the second write fails with throttling
    aws.inject({ nthMutating: 2, kind: 'error', status: 429, type: 'TooManyRequestsException' });
    // WHEN three writes run, one after the other
    const results: string[] = [];
    for (const name of ['m1', 'm2', 'm3']) {
      try {
        await client.send(new CreateMeshCommand({ meshName: name, spec: {} }));
        results.push('fulfilled');
      } catch {
        results.push('rejected');
      }
    }
    // THEN only the second failed
    expect(results).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(aws.faultsFired()).toBe(1);
    expect(aws.violations).toEqual([]);
  });
});
