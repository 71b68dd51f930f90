/**
 * The App Mesh provider and the plan/apply engine against real moto_server.
 *
 * Real: moto_server (App Mesh Mesh/VirtualNode/VirtualRouter/Route/tags and all of Cloud Map),
 * the AWS SDK v3 clients, the engine. Stood in (test/helpers/aws/moto.ts): VirtualService,
 * VirtualGateway, GatewayRoute and UntagResource, which moto lacks, served by a faithful in-memory
 * stand-in; moto's string timestamps and error names are re-serialized for the SDK. Every request
 * is validated against the botocore models and each test fails on any violation.
 */
import {
  AppMeshClient,
  CreateMeshCommand,
  CreateVirtualNodeCommand,
  DeleteVirtualNodeCommand,
  DescribeGatewayRouteCommand,
  DescribeMeshCommand,
  DescribeRouteCommand,
  DescribeVirtualGatewayCommand,
  DescribeVirtualNodeCommand,
  DescribeVirtualRouterCommand,
  DescribeVirtualServiceCommand,
  ListVirtualNodesCommand,
} from '@aws-sdk/client-app-mesh';
import {
  CreateHttpNamespaceCommand,
  GetServiceCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { appMeshDesired } from '../../../adapters/appmesh/index.js';
import { createAppMeshProvider, project } from '../../../adapters/appmesh/provider.js';
import { renderAppMesh } from '../../../adapters/appmesh/render.js';
import type { AppMeshResources } from '../../../adapters/appmesh/types.js';
import { applyPlan, computeDestroyPlan, computePlan } from '../../../adapters/plan/engine.js';
import type { DesiredResource, Provider } from '../../../adapters/plan/types.js';
import { MeshError } from '../../../errors/index.js';
import shop from '../../../examples/shop/mesh.js';
import { canonicalize } from '../../../model/canonical.js';
import type { Mesh } from '../../../model/types.js';
import { type AwsStandIn, startAwsStandIn } from '../../helpers/aws/moto.js';

const REGION = 'us-east-1';
let aws: AwsStandIn;
let appmesh: AppMeshClient;
let cloudMap: ServiceDiscoveryClient;

/** The shop under another name and domain, so each test owns its mesh and Cloud Map namespace. */
function shopNamed(name: string): Mesh {
  return canonicalize({ ...shop, name, domain: `${name}.mesh.local` });
}

function desiredOf(mesh: Mesh): readonly DesiredResource[] {
  return appMeshDesired(mesh, { allowDrop: true });
}

function providerFor(mesh: Mesh, progress?: (line: string) => void): Provider {
  return createAppMeshProvider(mesh.name, {
    endpoint: aws.endpoint,
    region: REGION,
    retry: { baseMs: 1, maxMs: 5 },
    ...(progress === undefined ? {} : { progress }),
  });
}

async function apply(provider: Provider, mesh: Mesh): Promise<void> {
  await applyPlan(provider, await computePlan(provider, mesh.name, desiredOf(mesh)));
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

/** Reads every rendered resource back through the API (independently of the provider). */
async function readBack(rendered: AppMeshResources): Promise<AppMeshResources> {
  const meshName = rendered.mesh.meshName;
  const { mesh } = await appmesh.send(new DescribeMeshCommand({ meshName }));
  const nodes = [];
  for (const n of rendered.virtualNodes) {
    const { virtualNode } = await appmesh.send(
      new DescribeVirtualNodeCommand({ meshName, virtualNodeName: n.virtualNodeName }),
    );
    nodes.push({ ...n, spec: withoutNulls(virtualNode?.spec) });
  }
  const routers = [];
  for (const r of rendered.virtualRouters) {
    const { virtualRouter } = await appmesh.send(
      new DescribeVirtualRouterCommand({ meshName, virtualRouterName: r.virtualRouterName }),
    );
    routers.push({ ...r, spec: withoutNulls(virtualRouter?.spec) });
  }
  const routes = [];
  for (const r of rendered.routes) {
    const { route } = await appmesh.send(
      new DescribeRouteCommand({ meshName, virtualRouterName: r.virtualRouterName, routeName: r.routeName }),
    );
    routes.push({ ...r, spec: withoutNulls(route?.spec) });
  }
  const services = [];
  for (const s of rendered.virtualServices) {
    const { virtualService } = await appmesh.send(
      new DescribeVirtualServiceCommand({ meshName, virtualServiceName: s.virtualServiceName }),
    );
    services.push({ ...s, spec: withoutNulls(virtualService?.spec) });
  }
  const gateways = [];
  for (const g of rendered.virtualGateways) {
    const { virtualGateway } = await appmesh.send(
      new DescribeVirtualGatewayCommand({ meshName, virtualGatewayName: g.virtualGatewayName }),
    );
    gateways.push({ ...g, spec: withoutNulls(virtualGateway?.spec) });
  }
  const gatewayRoutes = [];
  for (const r of rendered.gatewayRoutes) {
    const { gatewayRoute } = await appmesh.send(
      new DescribeGatewayRouteCommand({
        meshName,
        virtualGatewayName: r.virtualGatewayName,
        gatewayRouteName: r.gatewayRouteName,
      }),
    );
    gatewayRoutes.push({ ...r, spec: withoutNulls(gatewayRoute?.spec) });
  }
  const namespaces = (await cloudMap.send(new ListNamespacesCommand({}))).Namespaces ?? [];
  const ns = namespaces.find((n) => n.Name === rendered.cloudMap?.namespace.name);
  const cloudServices = [];
  for (const s of rendered.cloudMap?.services ?? []) {
    const all = (await cloudMap.send(new ListServicesCommand({}))).Services ?? [];
    const summary = all.find((l) => l.Name === s.name && l.Description === s.description);
    const { Service } = await cloudMap.send(new GetServiceCommand({ Id: summary?.Id }));
    const dns = Service?.DnsConfig;
    cloudServices.push({
      description: Service?.Description ?? '',
      ...(dns === undefined
        ? {}
        : {
            dns: {
              records: (dns.DnsRecords ?? []).map((r) => ({ ttl: r.TTL, type: r.Type })),
              routingPolicy: dns.RoutingPolicy,
            },
          }),
      name: Service?.Name ?? '',
      namespace: namespaces.find((n) => n.Id === Service?.NamespaceId)?.Name ?? '',
    });
  }
  const types: Record<string, string> = { HTTP: 'http', DNS_PRIVATE: 'private-dns' };
  const namespaceType = types[ns?.Type ?? ''];
  const vpc = rendered.cloudMap?.namespace.vpc;
  return {
    tags: rendered.tags,
    mesh: { meshName, spec: withoutNulls(mesh?.spec) },
    cloudMap: {
      // The VPC is not readable through Cloud Map; the namespace's type is.
      namespace: {
        description: ns?.Description ?? '',
        name: ns?.Name ?? '',
        type: namespaceType,
        ...(vpc === undefined ? {} : { vpc }),
      },
      services: cloudServices,
    },
    virtualNodes: nodes,
    virtualRouters: routers,
    routes,
    virtualServices: services,
    virtualGateways: gateways,
    gatewayRoutes,
  } as unknown as AppMeshResources;
}

beforeAll(async () => {
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDCROSSMESHTEST';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'crossmesh-test-secret';
  aws = await startAwsStandIn({ region: REGION });
  appmesh = new AppMeshClient({ endpoint: aws.endpoint, region: REGION, maxAttempts: 1 });
  cloudMap = new ServiceDiscoveryClient({ endpoint: aws.endpoint, region: REGION, maxAttempts: 1 });
});

afterAll(async () => {
  appmesh?.destroy();
  cloudMap?.destroy();
  await aws?.close();
});

afterEach(() => {
  // Every request any test sent must be one the real API accepts.
  expect(aws.violations).toEqual([]);
  aws.inject({ nthMutating: Number.POSITIVE_INFINITY, kind: 'error' });
});

describe('appmesh provider against moto', () => {
  test('examples/shop round trip: the API reads back the render, the next plan is empty, a second apply writes nothing', async () => {
    // GIVEN the shop and an empty account
    const mesh = shopNamed('shop');
    const provider = providerFor(mesh);
    const rendered = renderAppMesh(mesh);

    // WHEN it is applied
    const first = await computePlan(provider, mesh.name, desiredOf(mesh));
    await applyPlan(provider, first);

    // THEN every resource reads back equal to the render
    expect(first.changes.every((c) => c.action === 'create')).toBe(true);
    expect(await readBack(rendered)).toEqual(rendered);
    // AND the plan right after apply is empty
    const second = await computePlan(provider, mesh.name, desiredOf(mesh));
    expect(second.changes).toEqual([]);
    // AND a second apply makes zero mutating calls
    aws.resetCalls();
    await apply(provider, mesh);
    expect(aws.calls.length).toBeGreaterThan(0);
    expect(aws.mutatingCalls()).toEqual([]);
  });

  test('a kitchen-sink mesh (every protocol, multi-port, DNS discovery, file certificates, two-listener gateway) round-trips', async () => {
    // GIVEN a mesh using what the shop does not
    const mesh = canonicalize({
      name: 'sink',
      security: { mtls: 'permissive' },
      accessLog: { enabled: true },
      egress: { mode: 'deny-unknown' },
      ipPreference: 'ipv6-preferred',
      services: {
        multi: {
          ports: [
            { port: 8080, protocol: 'http2' },
            { port: 9000, protocol: 'tcp' },
          ],
          versions: { v1: {}, v2: {} },
          backends: ['rpc'],
          routes: [
            {
              name: 'h2',
              port: 8080,
              match: {
                path: { kind: 'regex', value: '/x/.*' },
                headers: [{ kind: 'range', name: 'x-n', start: 1, end: 5, invert: true }],
                query: [{ kind: 'present', name: 'q' }],
                method: 'PUT',
              },
              destinations: [
                { service: 'multi', version: 'v2', weight: 3 },
                { service: 'rpc', weight: 1 },
              ],
            },
            { name: 'raw', port: 9000, destinations: [{ service: 'multi', version: 'v1' }] },
          ],
          policy: {
            connectionPool: { maxConnections: 20, maxRequests: 40 },
            healthCheck: { kind: 'tcp', port: 9000 },
          },
        },
        rpc: {
          ports: [{ port: 50051, protocol: 'grpc' }],
          versions: { v1: {} },
          routes: [
            {
              name: 'get',
              match: {
                grpc: { service: 'pkg.Svc', method: 'Get' },
                headers: [{ kind: 'suffix', name: 'tenant', value: '-a' }],
              },
              destinations: [{ service: 'rpc' }],
              policy: { retries: { attempts: 2, on: ['unavailable', 'reset'] } },
            },
            { name: 'rest', destinations: [{ service: 'rpc' }] },
          ],
          policy: { healthCheck: { kind: 'grpc' } },
        },
      },
      gateways: {
        edge: {
          listeners: [
            {
              port: 443,
              protocol: 'http',
              tls: { certificateFile: '/tls/c.pem', privateKeyFile: '/tls/k.pem' },
            },
            { port: 50051, protocol: 'grpc' },
          ],
          routes: [{ name: 'rpc', match: { host: 'api.example.com' }, service: 'rpc' }],
        },
      },
    } as Parameters<typeof canonicalize>[0]);
    const options = { discovery: 'dns', certificates: 'file' } as const;
    const desired = appMeshDesired(mesh, { allowDrop: false }, options);
    const provider = providerFor(mesh);

    // WHEN applied
    await applyPlan(provider, await computePlan(provider, mesh.name, desired));

    // THEN the API reads back the render, and nothing is left to do
    const rendered = renderAppMesh(mesh, options);
    const { cloudMap: _none, ...readable } = await readBack(rendered);
    expect(readable).toEqual(rendered);
    expect((await computePlan(provider, mesh.name, desired)).changes).toEqual([]);
    await applyPlan(provider, await computeDestroyPlan(provider, mesh.name));
    expect(await provider.list([])).toEqual([]);
  });

  test('a private DNS namespace round-trips with DNS records per service, and cannot silently change VPC', async () => {
    // GIVEN the shop rendered with a private DNS namespace in a VPC
    const mesh = shopNamed('shop-dns');
    const options = { namespaceType: 'private-dns', vpc: 'vpc-0d15c0' } as const;
    const desired = appMeshDesired(mesh, { allowDrop: true }, options);
    const provider = providerFor(mesh);

    // WHEN applied
    await applyPlan(provider, await computePlan(provider, mesh.name, desired));

    // THEN the API reads back the render (namespace type, services' A records) and nothing is left to do
    const rendered = renderAppMesh(mesh, options);
    expect(await readBack(rendered)).toEqual(rendered);
    expect((await computePlan(provider, mesh.name, desired)).changes).toEqual([]);
    // AND moving the namespace to another VPC is refused, not attempted
    const moved = appMeshDesired(mesh, { allowDrop: true }, { ...options, vpc: 'vpc-0beef' });
    const plan = await computePlan(provider, mesh.name, moved);
    expect(plan.changes.map((c) => c.id)).toEqual(['CloudMapNamespace/shop-dns.mesh.local']);
    aws.resetCalls();
    await expect(applyPlan(provider, plan)).rejects.toMatchObject({ code: 'TARGET_E_OPTION' });
    expect(aws.mutatingCalls()).toEqual([]);
    await applyPlan(provider, await computeDestroyPlan(provider, mesh.name));
  });

  test('a changed weight is planned as one route update and applied', async () => {
    // GIVEN an applied shop
    const mesh = shopNamed('shop-change');
    const provider = providerFor(mesh);
    await apply(provider, mesh);
    // WHEN the catalog split changes from 90/10 to 50/50
    const services = mesh.services as Record<string, Mesh['services'][string]>;
    const catalog = services['catalog'];
    const changed = canonicalize({
      ...mesh,
      services: {
        ...services,
        catalog: {
          ...catalog,
          routes: catalog?.routes?.map((r) =>
            r.name === 'split'
              ? {
                  ...r,
                  destinations: [
                    { service: 'catalog', version: 'v1', weight: 1 },
                    { service: 'catalog', version: 'v2', weight: 1 },
                  ],
                }
              : r,
          ),
        },
      },
    });
    const plan = await computePlan(provider, changed.name, desiredOf(changed));

    // THEN exactly that route is updated, and applying it converges
    expect(plan.changes.map((c) => [c.action, c.id])).toEqual([['update', 'Route/catalog/catalog-split']]);
    aws.resetCalls();
    await applyPlan(provider, plan);
    expect(aws.mutatingCalls().map((c) => c.operation)).toEqual(['UpdateRoute']);
    expect((await computePlan(provider, changed.name, desiredOf(changed))).changes).toEqual([]);
  });

  test('a port changing protocol replaces its routes (App Mesh does not change a route type in place)', async () => {
    // GIVEN an applied shop
    const mesh = shopNamed('shop-proto');
    const provider = providerFor(mesh);
    await apply(provider, mesh);
    // WHEN inventory's port moves from HTTP/1.1 to HTTP/2
    const services = mesh.services as Record<string, Mesh['services'][string]>;
    const inventory = services['inventory'];
    const changed = canonicalize({
      ...mesh,
      services: { ...services, inventory: { ...inventory, ports: [{ port: 8080, protocol: 'http2' }] } },
    } as Parameters<typeof canonicalize>[0]);
    aws.resetCalls();
    await apply(provider, changed);

    // THEN its route was deleted and created again as an http2Route; router and node were updated
    const writes = aws.mutatingCalls().map((c) => c.operation);
    expect(writes).toContain('DeleteRoute');
    expect(writes).toContain('CreateRoute');
    expect(writes).not.toContain('UpdateRoute');
    const rendered = renderAppMesh(changed);
    expect(await readBack(rendered)).toEqual(rendered);
    expect((await computePlan(provider, changed.name, desiredOf(changed))).changes).toEqual([]);
  });

  test('changing node policy and removing a version updates nodes without losing backends, then deletes the orphan', async () => {
    // GIVEN an applied shop
    const mesh = shopNamed('shop-evolve');
    const provider = providerFor(mesh);
    await apply(provider, mesh);
    // WHEN catalog loses v2 (and its routes go to v1 only) and its timeouts change
    const services = mesh.services as Record<string, Mesh['services'][string]>;
    const catalog = services['catalog'];
    const changed = canonicalize({
      ...mesh,
      services: {
        ...services,
        catalog: {
          ...catalog,
          versions: { v1: catalog?.versions['v1'] ?? {} },
          routes: [{ name: 'all', destinations: [{ service: 'catalog', version: 'v1' }] }],
          policy: { ...catalog?.policy, timeouts: { request: '3s', idle: '2m' } },
        },
      },
    });
    const plan = await computePlan(provider, changed.name, desiredOf(changed));
    await applyPlan(provider, plan);

    // THEN the routes were rewritten before catalog-v2 and its backends were deleted
    const order = plan.changes.map((c) => `${c.action} ${c.id}`);
    expect(order).toContain('update VirtualNode/catalog-v1');
    expect(order.indexOf('delete Route/catalog/catalog-split')).toBeLessThan(
      order.indexOf('delete VirtualNode/catalog-v2'),
    );
    expect(order.indexOf('delete VirtualNodeBackends/catalog-v2')).toBeLessThan(
      order.indexOf('delete VirtualNode/catalog-v2'),
    );
    // AND the API reads back the new render, backends included, with nothing left to do
    const rendered = renderAppMesh(changed);
    expect(await readBack(rendered)).toEqual(rendered);
    expect((await computePlan(provider, changed.name, desiredOf(changed))).changes).toEqual([]);
  });

  test('an apply cut off half-way converges when re-run, and nothing is orphaned', async () => {
    // GIVEN an apply whose 9th write fails with an error that is not retried
    const mesh = shopNamed('shop-cut');
    const provider = providerFor(mesh);
    aws.inject({ nthMutating: 9, kind: 'error', status: 400, type: 'BadRequestException' });

    // WHEN it runs
    const cut = applyPlan(provider, await computePlan(provider, mesh.name, desiredOf(mesh)));

    // THEN it stops with the API error, part of the mesh written
    await expect(cut).rejects.toMatchObject({ code: 'TARGET_E_API' });
    const partial = await computePlan(provider, mesh.name, desiredOf(mesh));
    expect(partial.changes.length).toBeGreaterThan(0);
    expect(partial.unchanged.length).toBeGreaterThan(0);
    // WHEN it is re-run
    await applyPlan(provider, partial);
    // THEN the live state is exactly the desired state: no change left, no managed resource unknown to it
    const desired = desiredOf(mesh);
    expect((await computePlan(provider, mesh.name, desired)).changes).toEqual([]);
    const live = await provider.list([]);
    expect(
      live
        .filter((l) => l.managed)
        .map((l) => l.id)
        .sort(),
    ).toEqual(desired.map((d) => d.id).sort());
  });

  test('an apply whose connections are cut converges on re-run (the process dying mid-apply)', async () => {
    // GIVEN every write from the 5th on hangs up without an answer
    const mesh = shopNamed('shop-hangup');
    const provider = providerFor(mesh);
    aws.inject({ nthMutating: 5, times: 1000, kind: 'hangup' });

    // WHEN apply runs, retries and gives up
    await expect(apply(provider, mesh)).rejects.toBeInstanceOf(MeshError);
    aws.inject({ nthMutating: Number.POSITIVE_INFINITY, kind: 'error' });

    // THEN a re-run converges
    await apply(provider, mesh);
    expect((await computePlan(provider, mesh.name, desiredOf(mesh))).changes).toEqual([]);
  });

  test('throttling and 5xx answers are retried with backoff', async () => {
    // GIVEN writes 3-4 are throttled and write 7 fails with a 500
    const mesh = shopNamed('shop-throttle');
    const progress: string[] = [];
    const provider = providerFor(mesh, (line) => progress.push(line));
    aws.inject({ nthMutating: 3, times: 2, kind: 'error', status: 429, type: 'TooManyRequestsException' });

    // WHEN the mesh is applied
    await apply(provider, mesh);

    // THEN the throttled calls were retried and the apply completed
    expect(aws.faultsFired()).toBeGreaterThanOrEqual(2);
    expect(progress.filter((l) => l.includes('TooManyRequestsException')).length).toBe(2);
    expect((await computePlan(provider, mesh.name, desiredOf(mesh))).changes).toEqual([]);

    // WHEN a destroy meets a 500 on its second delete
    aws.inject({ nthMutating: 2, kind: 'error', status: 500, type: 'InternalServerErrorException' });
    await applyPlan(provider, await computeDestroyPlan(provider, mesh.name));
    // THEN it was retried and everything is gone
    expect(progress.some((l) => l.includes('InternalServerErrorException'))).toBe(true);
    expect((await provider.list([])).filter((l) => l.managed)).toEqual([]);
  });

  test('destroy removes everything managed and nothing unmanaged', async () => {
    // GIVEN an applied shop, an unmanaged virtual node inside its mesh, and an unmanaged namespace
    const mesh = shopNamed('shop-destroy');
    const provider = providerFor(mesh);
    await apply(provider, mesh);
    await appmesh.send(
      new CreateVirtualNodeCommand({
        meshName: mesh.name,
        virtualNodeName: 'hand-made',
        spec: {
          serviceDiscovery: { dns: { hostname: 'hand-made.example' } },
          listeners: [{ portMapping: { port: 80, protocol: 'http' } }],
        },
      }),
    );
    await cloudMap.send(new CreateHttpNamespaceCommand({ Name: 'not-ours.example' }));

    // WHEN it is destroyed
    const destroy = applyPlan(provider, await computeDestroyPlan(provider, mesh.name));

    // THEN deleting the mesh is refused because of the unmanaged node, which survives
    await expect(destroy).rejects.toMatchObject({ code: 'TARGET_E_NOT_MANAGED', path: 'Mesh/shop-destroy' });
    const left = await appmesh.send(new ListVirtualNodesCommand({ meshName: mesh.name }));
    expect(left.virtualNodes?.map((n) => n.virtualNodeName)).toEqual(['hand-made']);
    // AND every managed resource but the mesh is gone
    expect((await provider.list([])).filter((l) => l.managed).map((l) => l.id)).toEqual([
      'Mesh/shop-destroy',
    ]);

    // WHEN the unmanaged node is removed by hand and destroy re-runs
    await appmesh.send(new DeleteVirtualNodeCommand({ meshName: mesh.name, virtualNodeName: 'hand-made' }));
    await applyPlan(provider, await computeDestroyPlan(provider, mesh.name));

    // THEN the mesh is gone too, and the unmanaged namespace is untouched
    expect(await provider.list([])).toEqual([]);
    const namespaces = (await cloudMap.send(new ListNamespacesCommand({}))).Namespaces ?? [];
    expect(namespaces.map((n) => n.Name)).toContain('not-ours.example');
    expect(namespaces.map((n) => n.Name)).not.toContain('shop-destroy.mesh.local');
  });

  test('a desired name held by an unmanaged resource is refused before anything is written', async () => {
    // GIVEN a mesh created by hand, without crossmesh tags, under the name crossmesh wants
    const mesh = shopNamed('shop-taken');
    await appmesh.send(
      new CreateMeshCommand({ meshName: mesh.name, spec: { egressFilter: { type: 'ALLOW_ALL' } } }),
    );
    aws.resetCalls();

    // WHEN a plan is computed
    const plan = computePlan(providerFor(mesh), mesh.name, desiredOf(mesh));

    // THEN it is refused, naming the mesh, and nothing was written
    await expect(plan).rejects.toMatchObject({ code: 'TARGET_E_NOT_MANAGED', path: 'Mesh/shop-taken' });
    expect(aws.mutatingCalls()).toEqual([]);
  });
});

describe('provider configuration errors', () => {
  test('a missing region or missing credentials is a TARGET_E_OPTION naming what to set', async () => {
    // GIVEN no region and no credentials anywhere in the standard chain
    const saved = { ...process.env };
    try {
      for (const key of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[key];
      process.env['AWS_CONFIG_FILE'] = '/nonexistent/crossmesh-config';
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/crossmesh-credentials';
      process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
      const noRegion = createAppMeshProvider('m', { endpoint: aws.endpoint, retry: { retries: 0 } });
      // WHEN / THEN
      await expect(noRegion.list([])).rejects.toMatchObject({ code: 'TARGET_E_OPTION', path: '--region' });
      delete process.env['AWS_ACCESS_KEY_ID'];
      delete process.env['AWS_SECRET_ACCESS_KEY'];
      const noCredentials = createAppMeshProvider('m', {
        endpoint: aws.endpoint,
        region: REGION,
        retry: { retries: 0 },
      });
      await expect(noCredentials.list([])).rejects.toMatchObject({
        code: 'TARGET_E_OPTION',
        path: 'credentials',
      });
    } finally {
      process.env = saved;
    }
  });
});

describe('project', () => {
  test('drops nulls and documented server defaults, and sorts keys, so live specs compare with renders', () => {
    // GIVEN described specs carrying nulls and defaults crossmesh never sends
    const route = {
      priority: 0,
      httpRoute: {
        match: { prefix: '/', headers: null },
        action: {
          target: { virtualService: { virtualServiceName: 'web.local' } },
          rewrite: { hostname: { defaultTargetHostname: 'ENABLED' }, prefix: { defaultPrefix: 'ENABLED' } },
        },
      },
    };
    const node = {
      listeners: [],
      serviceDiscovery: { dns: { hostname: 'a.local', responseType: 'LOADBALANCER' } },
    };
    // WHEN projected
    // THEN
    expect(JSON.stringify(project(route, 'GatewayRoute'))).toBe(
      JSON.stringify({
        httpRoute: {
          action: { target: { virtualService: { virtualServiceName: 'web.local' } } },
          match: { prefix: '/' },
        },
        priority: 0,
      }),
    );
    expect(project(node, 'VirtualNode')).toEqual({
      listeners: [],
      serviceDiscovery: { dns: { hostname: 'a.local' } },
    });
    // AND a non-default value is kept
    const disabled = {
      grpcRoute: { action: { rewrite: { hostname: { defaultTargetHostname: 'DISABLED' } } } },
    };
    expect(project(disabled, 'GatewayRoute')).toEqual(disabled);
  });
});
