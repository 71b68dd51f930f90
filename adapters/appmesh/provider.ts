/**
 * The App Mesh + Cloud Map provider: the thin SDK edge under `crossmesh plan|apply|destroy
 * --target appmesh`. It lists what exists, tells managed from unmanaged by tags
 * (`crossmesh:managed=true`, `crossmesh:mesh=<mesh>`), projects describe results onto the desired
 * spec shape, and creates (with tags), updates and deletes single resources. Ordering, diffing
 * and refusing unmanaged collisions are the engine's (adapters/plan/engine.ts).
 *
 * Every API call goes through {@link withRetry} (throttling, 429, 5xx, connection resets); the SDK's
 * own retries are off (`maxAttempts: 1`) so there is one retry policy and calls can be counted.
 * Credentials and region come from the standard AWS chain; `endpoint` points at a stand-in.
 */
import { randomUUID } from 'node:crypto';
import {
  AppMeshClient,
  CreateGatewayRouteCommand,
  CreateMeshCommand,
  CreateRouteCommand,
  CreateVirtualGatewayCommand,
  CreateVirtualNodeCommand,
  CreateVirtualRouterCommand,
  CreateVirtualServiceCommand,
  DeleteGatewayRouteCommand,
  DeleteMeshCommand,
  DeleteRouteCommand,
  DeleteVirtualGatewayCommand,
  DeleteVirtualNodeCommand,
  DeleteVirtualRouterCommand,
  DeleteVirtualServiceCommand,
  DescribeGatewayRouteCommand,
  DescribeMeshCommand,
  DescribeRouteCommand,
  DescribeVirtualGatewayCommand,
  DescribeVirtualNodeCommand,
  DescribeVirtualRouterCommand,
  DescribeVirtualServiceCommand,
  ListGatewayRoutesCommand,
  ListRoutesCommand,
  ListTagsForResourceCommand,
  ListVirtualGatewaysCommand,
  ListVirtualNodesCommand,
  ListVirtualRoutersCommand,
  ListVirtualServicesCommand,
  type MeshData,
  type TagRef,
  UpdateGatewayRouteCommand,
  UpdateMeshCommand,
  UpdateRouteCommand,
  UpdateVirtualGatewayCommand,
  UpdateVirtualNodeCommand,
  UpdateVirtualRouterCommand,
  UpdateVirtualServiceCommand,
} from '@aws-sdk/client-app-mesh';
import {
  CreateHttpNamespaceCommand,
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  DeleteNamespaceCommand,
  DeleteServiceCommand,
  GetOperationCommand,
  GetServiceCommand,
  ListTagsForResourceCommand as ListCloudMapTagsCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  ServiceDiscoveryClient,
  UpdateHttpNamespaceCommand,
  UpdatePrivateDnsNamespaceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-servicediscovery';
import { MeshError } from '../../errors/index.js';
import type { CloudOptions } from '../plan/cloud-target.js';
import { type RetryOptions, withRetry } from '../plan/retry.js';
import type { DesiredResource, Json, LiveResource, Provider } from '../plan/types.js';
import { gatewayRouteTarget, ids, routeTargets, splitNodeSpec } from './desired.js';
import { MANAGED_TAG, MESH_TAG, managedTags, sortKeys, VPC_TAG } from './render.js';
import type { CloudMapDnsConfig, VirtualNodeSpec } from './types.js';

/** Cloud Map namespace types as the render names them. */
const NAMESPACE_TYPES: Readonly<Record<string, string>> = {
  HTTP: 'http',
  DNS_PRIVATE: 'private-dns',
  DNS_PUBLIC: 'public-dns',
};

/** The render's DNS settings as Cloud Map's `DnsConfig`. */
function cloudMapDnsConfig(dns: CloudMapDnsConfig) {
  return {
    RoutingPolicy: dns.routingPolicy,
    DnsRecords: dns.records.map((r) => ({ Type: r.type, TTL: r.ttl })),
  };
}

/** Provider options beyond the command line's. */
export interface AppMeshProviderOptions extends CloudOptions {
  /** Retry tuning (tests shorten the waits). @default - withRetry's defaults */
  readonly retry?: Omit<RetryOptions, 'onRetry'>;
  /** How long to wait for a Cloud Map operation. @default - 120000 ms */
  readonly operationTimeoutMs?: number;
}

/** The provider-private handle of a live resource. */
interface Handle {
  readonly arn: string;
  /** Cloud Map id (namespaces and services). */
  readonly cloudMapId?: string;
  /** Parent name: router of a route, gateway of a gateway route. */
  readonly parent?: string;
}

/** Removes nulls and undefined (moto and the SDK write absent members as null). */
function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      out[k] = prune(v);
    }
    return out;
  }
  return value;
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Removes values equal to documented App Mesh defaults that crossmesh never sends, should the
 * API write them back: a gateway route's target-hostname and prefix rewrites `ENABLED` (the
 * default; crossmesh sends only explicit prefix values) and DNS discovery's `LOADBALANCER` response
 * type. moto echoes specs verbatim; these cover what the real API may fill.
 */
function dropServerDefaults(kind: string, spec: JsonObject): JsonObject {
  if (kind === 'GatewayRoute') {
    for (const member of ['httpRoute', 'http2Route', 'grpcRoute']) {
      const action = isObject(spec[member]) ? (spec[member] as JsonObject)['action'] : undefined;
      const rewrite = isObject(action) ? action['rewrite'] : undefined;
      if (!isObject(action) || !isObject(rewrite)) continue;
      if (isObject(rewrite['hostname']) && rewrite['hostname']['defaultTargetHostname'] === 'ENABLED')
        delete rewrite['hostname'];
      if (
        isObject(rewrite['prefix']) &&
        rewrite['prefix']['defaultPrefix'] === 'ENABLED' &&
        rewrite['prefix']['value'] === undefined
      ) {
        delete rewrite['prefix'];
      }
      if (Object.keys(rewrite).length === 0) delete action['rewrite'];
    }
  }
  if (kind === 'VirtualNode') {
    const discovery = spec['serviceDiscovery'];
    const dns = isObject(discovery) ? discovery['dns'] : undefined;
    if (isObject(dns) && dns['responseType'] === 'LOADBALANCER') delete dns['responseType'];
  }
  return spec;
}

/**
 * Projects a described spec onto the rendered shape: nulls dropped, documented server defaults
 * dropped, keys sorted. The diff then compares exactly the fields crossmesh manages.
 */
export function project(spec: unknown, kind = ''): Json {
  const pruned = prune(spec ?? {});
  return sortKeys(isObject(pruned) ? dropServerDefaults(kind, pruned) : pruned) as Json;
}

function isManaged(
  tags: readonly { readonly key?: string; readonly value?: string }[],
  mesh: string,
): boolean {
  return (
    tags.some((t) => t.key === MANAGED_TAG && t.value === 'true') &&
    tags.some((t) => t.key === MESH_TAG && t.value === mesh)
  );
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined;
}

/** True when an API call (or the MeshError wrapping it) failed because the resource does not exist. */
function isNotFound(error: unknown): boolean {
  const cause = error instanceof MeshError ? error.cause : error;
  const name = errorName(cause);
  return name === 'NotFoundException' || name === 'NamespaceNotFound' || name === 'ServiceNotFound';
}

/**
 * Reads run this many at a time: a plan of a few dozen resources then takes a few round trips
 * instead of one per call. Writes stay sequential (their order is the plan's).
 */
const READ_CONCURRENCY = 8;

/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Builds the App Mesh provider for one mesh. */
export function createAppMeshProvider(meshName: string, options: AppMeshProviderOptions = {}): Provider {
  const config = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: 1,
  };
  const appmesh = new AppMeshClient(config);
  const cloudMap = new ServiceDiscoveryClient(config);
  const namespaceIds = new Map<string, string>();

  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, {
      ...options.retry,
      onRetry: (error, attempt, delayMs) =>
        options.progress?.(
          `appmesh: ${what} failed (${errorName(error) ?? String(error)}), retry ${attempt} in ${delayMs} ms`,
        ),
    }).catch((error: unknown) => {
      // Every API failure leaves as a MeshError (the CLI prints it path-first, exit 4); the SDK
      // error stays the cause, so callers can still tell "not found" apart.
      if (error instanceof MeshError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (message === 'Region is missing') {
        throw new MeshError(
          'TARGET_E_OPTION',
          'no AWS region: pass --region, or set AWS_REGION or a profile region',
          {
            path: '--region',
            allowed: 'an AWS region such as us-east-1',
            cause: error,
          },
        );
      }
      if (errorName(error) === 'CredentialsProviderError') {
        throw new MeshError(
          'TARGET_E_OPTION',
          `no AWS credentials in the standard chain (environment, shared config or SSO profile, container or instance role): ${message}`,
          { path: 'credentials', allowed: 'credentials the AWS SDK default chain can find', cause: error },
        );
      }
      const hint =
        errorName(error) === 'ConflictException'
          ? ' (it was created since the plan was computed: re-run apply)'
          : '';
      throw new MeshError(
        'TARGET_E_API',
        `${what} failed: ${errorName(error) ?? 'Error'}: ${(error as Error).message}${hint}`,
        { path: what, cause: error },
      );
    });

  const tagsOf = async (arn: string): Promise<TagRef[]> => {
    const tags: TagRef[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call(`ListTagsForResource ${arn}`, () =>
        appmesh.send(new ListTagsForResourceCommand({ resourceArn: arn, nextToken })),
      );
      tags.push(...(page.tags ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return tags;
  };

  const waitOperation = async (operationId: string | undefined, what: string): Promise<void> => {
    if (operationId === undefined) return;
    const deadline = Date.now() + (options.operationTimeoutMs ?? 120_000);
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      const { Operation } = await call(`GetOperation ${operationId}`, () =>
        cloudMap.send(new GetOperationCommand({ OperationId: operationId })),
      );
      if (Operation?.Status === 'SUCCESS') return;
      if (Operation?.Status === 'FAIL') {
        throw new MeshError(
          'TARGET_E_API',
          `${what} failed: ${Operation.ErrorCode ?? ''} ${Operation.ErrorMessage ?? ''}`.trim(),
          { path: what },
        );
      }
      if (Date.now() > deadline)
        throw new MeshError('TARGET_E_TIMEOUT', `${what} did not finish in time (operation ${operationId})`, {
          path: what,
        });
      options.progress?.(`appmesh: waiting for ${what} (${Operation?.Status ?? 'unknown'})`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };

  // -------------------------------------------------------------------------------------------
  // list

  const listCloudMap = async (wanted: ReadonlySet<string>): Promise<LiveResource[]> => {
    const out: LiveResource[] = [];
    const namespaces: { Id?: string; Arn?: string; Name?: string; Description?: string; Type?: string }[] =
      [];
    let nextToken: string | undefined;
    do {
      const page = await call('ListNamespaces', () =>
        cloudMap.send(new ListNamespacesCommand({ NextToken: nextToken })),
      );
      namespaces.push(...(page.Namespaces ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    for (const ns of namespaces) {
      if (ns.Id === undefined || ns.Arn === undefined || ns.Name === undefined) continue;
      const id = ids.namespace(ns.Name);
      const { Tags } = await call(`ListTagsForResource ${ns.Arn}`, () =>
        cloudMap.send(new ListCloudMapTagsCommand({ ResourceARN: ns.Arn })),
      );
      const managed = isManaged(
        (Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
        meshName,
      );
      if (!managed && !wanted.has(id)) continue;
      namespaceIds.set(ns.Name, ns.Id);
      const vpc = Tags?.find((t) => t.Key === VPC_TAG)?.Value;
      out.push({
        kind: 'CloudMapNamespace',
        id,
        name: ns.Name,
        managed,
        dependsOn: [ids.mesh(meshName)],
        spec: {
          description: ns.Description ?? '',
          type: NAMESPACE_TYPES[ns.Type ?? ''] ?? String(ns.Type),
          ...(vpc === undefined ? {} : { vpc }),
        },
        handle: { arn: ns.Arn, cloudMapId: ns.Id },
      });
      if (!managed) continue;
      const nsName = ns.Name;
      const nsId = ns.Id;
      let servicesToken: string | undefined;
      do {
        const page = await call(`ListServices ${nsName}`, () =>
          cloudMap.send(
            new ListServicesCommand({
              NextToken: servicesToken,
              Filters: [{ Name: 'NAMESPACE_ID', Values: [nsId], Condition: 'EQ' }],
            }),
          ),
        );
        const services = await mapLimit(
          page.Services ?? [],
          READ_CONCURRENCY,
          async (summary): Promise<LiveResource | undefined> => {
            if (summary.Id === undefined || summary.Arn === undefined || summary.Name === undefined)
              return undefined;
            const serviceId = ids.cloudMapService(nsName, summary.Name);
            const tags = await call(`ListTagsForResource ${summary.Arn}`, () =>
              cloudMap.send(new ListCloudMapTagsCommand({ ResourceARN: summary.Arn })),
            );
            const serviceManaged = isManaged(
              (tags.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
              meshName,
            );
            if (!serviceManaged && !wanted.has(serviceId)) return undefined;
            // The namespace filter is checked, not trusted: some stand-ins ignore it.
            const { Service } = await call(`GetService ${summary.Id}`, () =>
              cloudMap.send(new GetServiceCommand({ Id: summary.Id })),
            );
            if (Service === undefined || Service.NamespaceId !== nsId) return undefined;
            return {
              kind: 'CloudMapService',
              id: serviceId,
              name: summary.Name,
              managed: serviceManaged,
              dependsOn: [ids.namespace(nsName)],
              spec: project({
                description: Service.Description ?? '',
                ...(Service.DnsConfig === undefined
                  ? {}
                  : {
                      dns: {
                        records: (Service.DnsConfig.DnsRecords ?? []).map((r) => ({
                          ttl: r.TTL,
                          type: r.Type,
                        })),
                        routingPolicy: Service.DnsConfig.RoutingPolicy,
                      },
                    }),
              }),
              handle: { arn: summary.Arn, cloudMapId: summary.Id },
            };
          },
        );
        out.push(...services.filter((live): live is LiveResource => live !== undefined));
        servicesToken = page.NextToken;
      } while (servicesToken !== undefined);
    }
    return out;
  };

  /** Lists one kind of mesh child, then describes the managed ones and the ones colliding with desired ids. */
  const listChildren = async <Ref extends { arn?: string }>(
    what: string,
    page: (nextToken: string | undefined) => Promise<{ items: Ref[]; nextToken: string | undefined }>,
    idOf: (ref: Ref) => string,
    wanted: ReadonlySet<string>,
    describe: (ref: Ref, managed: boolean) => Promise<LiveResource | undefined>,
  ): Promise<LiveResource[]> => {
    const refs: Ref[] = [];
    let nextToken: string | undefined;
    do {
      const result = await page(nextToken);
      refs.push(...result.items);
      nextToken = result.nextToken;
    } while (nextToken !== undefined);
    const found = await mapLimit(refs, READ_CONCURRENCY, async (ref) => {
      if (ref.arn === undefined)
        throw new MeshError('TARGET_E_API', `${what} listed a resource without an ARN`, { path: what });
      const managed = isManaged(await tagsOf(ref.arn), meshName);
      if (!managed && !wanted.has(idOf(ref))) return undefined;
      return describe(ref, managed);
    });
    return found.filter((live): live is LiveResource => live !== undefined);
  };

  const listAppMesh = async (wanted: ReadonlySet<string>): Promise<LiveResource[]> => {
    let mesh: MeshData | undefined;
    try {
      ({ mesh } = await call(`DescribeMesh ${meshName}`, () =>
        appmesh.send(new DescribeMeshCommand({ meshName })),
      ));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const meshArn = mesh?.metadata?.arn;
    if (meshArn === undefined)
      throw new MeshError('TARGET_E_API', `DescribeMesh ${meshName} returned no ARN`, {
        path: 'DescribeMesh',
      });
    const meshManaged = isManaged(await tagsOf(meshArn), meshName);
    const meshId = ids.mesh(meshName);
    const out: LiveResource[] = [
      {
        kind: 'Mesh',
        id: meshId,
        name: meshName,
        managed: meshManaged,
        dependsOn: [],
        spec: project(mesh?.spec),
        handle: { arn: meshArn },
      },
    ];
    // An unmanaged mesh is refused by the engine; nothing inside it is ours.
    if (!meshManaged) return out;
    const backendsLive: LiveResource[] = [];

    out.push(
      ...(await listChildren(
        'ListVirtualNodes',
        async (nextToken) => {
          const r = await call('ListVirtualNodes', () =>
            appmesh.send(new ListVirtualNodesCommand({ meshName, nextToken })),
          );
          return { items: r.virtualNodes ?? [], nextToken: r.nextToken };
        },
        (ref) => ids.virtualNode(ref.virtualNodeName ?? ''),
        wanted,
        async (ref, managed) => {
          const name = ref.virtualNodeName as string;
          const { virtualNode } = await call(`DescribeVirtualNode ${name}`, () =>
            appmesh.send(new DescribeVirtualNodeCommand({ meshName, virtualNodeName: name })),
          );
          const spec = project(virtualNode?.spec, 'VirtualNode') as unknown as VirtualNodeSpec;
          const { node, backends } = splitNodeSpec(spec);
          const discovery =
            'awsCloudMap' in (spec.serviceDiscovery ?? {})
              ? (spec.serviceDiscovery as { awsCloudMap: { namespaceName: string; serviceName: string } })
                  .awsCloudMap
              : undefined;
          const nodeLive: LiveResource = {
            kind: 'VirtualNode',
            id: ids.virtualNode(name),
            name,
            managed,
            dependsOn: [
              meshId,
              ...(discovery === undefined
                ? []
                : [ids.cloudMapService(discovery.namespaceName, discovery.serviceName)]),
            ],
            spec: node as unknown as Json,
            handle: { arn: ref.arn as string },
          };
          if (backends.length > 0) {
            // Returned beside the node so the engine sees (and orders) the backends separately.
            backendsLive.push({
              kind: 'VirtualNodeBackends',
              id: ids.backends(name),
              name,
              managed,
              dependsOn: [
                ids.virtualNode(name),
                ...backends.map((b) => ids.virtualService(b.virtualService.virtualServiceName)),
              ],
              spec: { backends } as unknown as Json,
              handle: { arn: ref.arn as string },
            });
          }
          return nodeLive;
        },
      )),
    );
    const routers = await listChildren(
      'ListVirtualRouters',
      async (nextToken) => {
        const r = await call('ListVirtualRouters', () =>
          appmesh.send(new ListVirtualRoutersCommand({ meshName, nextToken })),
        );
        return { items: r.virtualRouters ?? [], nextToken: r.nextToken };
      },
      (ref) => ids.virtualRouter(ref.virtualRouterName ?? ''),
      wanted,
      async (ref, managed) => {
        const name = ref.virtualRouterName as string;
        const { virtualRouter } = await call(`DescribeVirtualRouter ${name}`, () =>
          appmesh.send(new DescribeVirtualRouterCommand({ meshName, virtualRouterName: name })),
        );
        return {
          kind: 'VirtualRouter',
          id: ids.virtualRouter(name),
          name,
          managed,
          dependsOn: [meshId],
          spec: project(virtualRouter?.spec),
          handle: { arn: ref.arn as string },
        };
      },
    );
    out.push(...routers);
    // Routes of every router we may touch; an unmanaged router's routes are not ours.
    for (const router of routers.filter((r) => r.managed)) {
      out.push(
        ...(await listChildren(
          `ListRoutes ${router.name}`,
          async (nextToken) => {
            const r = await call(`ListRoutes ${router.name}`, () =>
              appmesh.send(new ListRoutesCommand({ meshName, virtualRouterName: router.name, nextToken })),
            );
            return { items: r.routes ?? [], nextToken: r.nextToken };
          },
          (ref) => ids.route(router.name, ref.routeName ?? ''),
          wanted,
          async (ref, managed) => {
            const name = ref.routeName as string;
            const { route } = await call(`DescribeRoute ${router.name}/${name}`, () =>
              appmesh.send(
                new DescribeRouteCommand({ meshName, virtualRouterName: router.name, routeName: name }),
              ),
            );
            const spec = project(route?.spec);
            return {
              kind: 'Route',
              id: ids.route(router.name, name),
              name,
              managed,
              dependsOn: [router.id, ...routeTargets(spec).map(ids.virtualNode)],
              spec,
              handle: { arn: ref.arn as string, parent: router.name },
            };
          },
        )),
      );
    }

    out.push(
      ...(await listChildren(
        'ListVirtualServices',
        async (nextToken) => {
          const r = await call('ListVirtualServices', () =>
            appmesh.send(new ListVirtualServicesCommand({ meshName, nextToken })),
          );
          return { items: r.virtualServices ?? [], nextToken: r.nextToken };
        },
        (ref) => ids.virtualService(ref.virtualServiceName ?? ''),
        wanted,
        async (ref, managed) => {
          const name = ref.virtualServiceName as string;
          const { virtualService } = await call(`DescribeVirtualService ${name}`, () =>
            appmesh.send(new DescribeVirtualServiceCommand({ meshName, virtualServiceName: name })),
          );
          const spec = project(virtualService?.spec) as {
            provider?: {
              virtualRouter?: { virtualRouterName: string };
              virtualNode?: { virtualNodeName: string };
            };
          };
          const provider = spec.provider?.virtualRouter
            ? ids.virtualRouter(spec.provider.virtualRouter.virtualRouterName)
            : spec.provider?.virtualNode
              ? ids.virtualNode(spec.provider.virtualNode.virtualNodeName)
              : undefined;
          return {
            kind: 'VirtualService',
            id: ids.virtualService(name),
            name,
            managed,
            dependsOn: provider === undefined ? [meshId] : [meshId, provider],
            spec: spec as Json,
            handle: { arn: ref.arn as string },
          };
        },
      )),
    );
    // Filled concurrently: sorted so plans stay deterministic.
    out.push(...backendsLive.sort((a, b) => (a.id < b.id ? -1 : 1)));

    const gateways = await listChildren(
      'ListVirtualGateways',
      async (nextToken) => {
        const r = await call('ListVirtualGateways', () =>
          appmesh.send(new ListVirtualGatewaysCommand({ meshName, nextToken })),
        );
        return { items: r.virtualGateways ?? [], nextToken: r.nextToken };
      },
      (ref) => ids.virtualGateway(ref.virtualGatewayName ?? ''),
      wanted,
      async (ref, managed) => {
        const name = ref.virtualGatewayName as string;
        const { virtualGateway } = await call(`DescribeVirtualGateway ${name}`, () =>
          appmesh.send(new DescribeVirtualGatewayCommand({ meshName, virtualGatewayName: name })),
        );
        return {
          kind: 'VirtualGateway',
          id: ids.virtualGateway(name),
          name,
          managed,
          dependsOn: [meshId],
          spec: project(virtualGateway?.spec),
          handle: { arn: ref.arn as string },
        };
      },
    );
    out.push(...gateways);
    for (const gateway of gateways.filter((g) => g.managed)) {
      out.push(
        ...(await listChildren(
          `ListGatewayRoutes ${gateway.name}`,
          async (nextToken) => {
            const r = await call(`ListGatewayRoutes ${gateway.name}`, () =>
              appmesh.send(
                new ListGatewayRoutesCommand({ meshName, virtualGatewayName: gateway.name, nextToken }),
              ),
            );
            return { items: r.gatewayRoutes ?? [], nextToken: r.nextToken };
          },
          (ref) => ids.gatewayRoute(gateway.name, ref.gatewayRouteName ?? ''),
          wanted,
          async (ref, managed) => {
            const name = ref.gatewayRouteName as string;
            const { gatewayRoute } = await call(`DescribeGatewayRoute ${gateway.name}/${name}`, () =>
              appmesh.send(
                new DescribeGatewayRouteCommand({
                  meshName,
                  virtualGatewayName: gateway.name,
                  gatewayRouteName: name,
                }),
              ),
            );
            const spec = project(gatewayRoute?.spec, 'GatewayRoute');
            const target = gatewayRouteTarget(spec);
            return {
              kind: 'GatewayRoute',
              id: ids.gatewayRoute(gateway.name, name),
              name,
              managed,
              dependsOn: [gateway.id, ...(target === undefined ? [] : [ids.virtualService(target)])],
              spec,
              handle: { arn: ref.arn as string, parent: gateway.name },
            };
          },
        )),
      );
    }
    return out;
  };

  // -------------------------------------------------------------------------------------------
  // writes

  const tags = managedTags(meshName);
  const cloudMapTags = tags.map((t) => ({ Key: t.key, Value: t.value }));

  const namespaceId = async (name: string): Promise<string> => {
    const known = namespaceIds.get(name);
    if (known !== undefined) return known;
    let nextToken: string | undefined;
    do {
      const page = await call('ListNamespaces', () =>
        cloudMap.send(new ListNamespacesCommand({ NextToken: nextToken })),
      );
      const found = (page.Namespaces ?? []).find((ns) => ns.Name === name);
      if (found?.Id !== undefined) {
        namespaceIds.set(name, found.Id);
        return found.Id;
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    throw new MeshError('TARGET_E_API', `Cloud Map namespace ${JSON.stringify(name)} does not exist`, {
      path: ids.namespace(name),
    });
  };

  const describeNodeSpec = async (name: string): Promise<VirtualNodeSpec | undefined> => {
    try {
      const { virtualNode } = await call(`DescribeVirtualNode ${name}`, () =>
        appmesh.send(new DescribeVirtualNodeCommand({ meshName, virtualNodeName: name })),
      );
      return project(virtualNode?.spec, 'VirtualNode') as unknown as VirtualNodeSpec;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const updateNode = (name: string, spec: VirtualNodeSpec) =>
    call(`UpdateVirtualNode ${name}`, () =>
      appmesh.send(
        new UpdateVirtualNodeCommand({
          meshName,
          virtualNodeName: name,
          spec: spec as never,
          clientToken: randomUUID(),
        }),
      ),
    );

  /** The parent segment of a scoped id (`Route/<router>/<route>` → `<router>`). */
  const parentOf = (id: string): string => id.split('/')[1] as string;

  // The SDK's spec types are unions with `$unknown` members; our specs are the same wire shape.
  const asSpec = (spec: Json): never => spec as never;

  const write = async (resource: DesiredResource, mode: 'create' | 'update'): Promise<void> => {
    const { name } = resource;
    const token = randomUUID();
    const create = mode === 'create';
    switch (resource.kind) {
      case 'CloudMapNamespace': {
        const spec = resource.spec as { description: string; type: 'http' | 'private-dns'; vpc?: string };
        if (create && spec.type === 'private-dns') {
          const { OperationId } = await call(`CreatePrivateDnsNamespace ${name}`, () =>
            cloudMap.send(
              new CreatePrivateDnsNamespaceCommand({
                Name: name,
                Vpc: spec.vpc,
                Description: spec.description,
                // Cloud Map never reports a namespace's VPC: the tag lets plans compare it.
                Tags: [...cloudMapTags, { Key: VPC_TAG, Value: spec.vpc ?? '' }],
                CreatorRequestId: token,
              }),
            ),
          );
          await waitOperation(OperationId, `CreatePrivateDnsNamespace ${name}`);
        } else if (create) {
          const { OperationId } = await call(`CreateHttpNamespace ${name}`, () =>
            cloudMap.send(
              new CreateHttpNamespaceCommand({
                Name: name,
                Description: spec.description,
                Tags: cloudMapTags,
                CreatorRequestId: token,
              }),
            ),
          );
          await waitOperation(OperationId, `CreateHttpNamespace ${name}`);
        } else {
          const id = await namespaceId(name);
          const namespace = { Description: spec.description };
          const { OperationId } = await call(`Update namespace ${name}`, () =>
            spec.type === 'private-dns'
              ? cloudMap.send(
                  new UpdatePrivateDnsNamespaceCommand({
                    Id: id,
                    Namespace: namespace,
                    UpdaterRequestId: token,
                  }),
                )
              : cloudMap.send(
                  new UpdateHttpNamespaceCommand({ Id: id, Namespace: namespace, UpdaterRequestId: token }),
                ),
          );
          await waitOperation(OperationId, `Update namespace ${name}`);
        }
        return;
      }
      case 'CloudMapService': {
        const { description, dns } = resource.spec as unknown as {
          description: string;
          dns?: CloudMapDnsConfig;
        };
        const ns = parentOf(resource.id);
        if (create) {
          const id = await namespaceId(ns);
          await call(`CreateService ${ns}/${name}`, () =>
            cloudMap.send(
              new CreateServiceCommand({
                Name: name,
                NamespaceId: id,
                Description: description,
                ...(dns === undefined ? {} : { DnsConfig: cloudMapDnsConfig(dns) }),
                Tags: cloudMapTags,
                CreatorRequestId: token,
              }),
            ),
          );
        } else {
          throw new MeshError(
            'INTERNAL_E_BUG',
            'Cloud Map service updates go through update() with a live handle',
            { path: resource.id },
          );
        }
        return;
      }
      case 'Mesh':
        if (create) {
          await call(`CreateMesh ${name}`, () =>
            appmesh.send(
              new CreateMeshCommand({
                meshName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          await call(`UpdateMesh ${name}`, () =>
            appmesh.send(
              new UpdateMeshCommand({ meshName: name, spec: asSpec(resource.spec), clientToken: token }),
            ),
          );
        }
        return;
      case 'VirtualNode': {
        if (create) {
          await call(`CreateVirtualNode ${name}`, () =>
            appmesh.send(
              new CreateVirtualNodeCommand({
                meshName,
                virtualNodeName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          // Keep the live backends: they are VirtualNodeBackends' business, written after the services exist.
          const live = await describeNodeSpec(name);
          const backends = live?.backends ?? [];
          await updateNode(name, {
            ...(resource.spec as unknown as VirtualNodeSpec),
            ...(backends.length === 0 ? {} : { backends }),
          });
        }
        return;
      }
      case 'VirtualNodeBackends': {
        const live = await describeNodeSpec(name);
        if (live === undefined)
          throw new MeshError(
            'TARGET_E_API',
            `virtual node ${name} does not exist, cannot set its backends`,
            { path: resource.id },
          );
        await updateNode(name, {
          ...live,
          backends: (resource.spec as unknown as { backends: VirtualNodeSpec['backends'] }).backends,
        });
        return;
      }
      case 'VirtualRouter':
        if (create) {
          await call(`CreateVirtualRouter ${name}`, () =>
            appmesh.send(
              new CreateVirtualRouterCommand({
                meshName,
                virtualRouterName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          await call(`UpdateVirtualRouter ${name}`, () =>
            appmesh.send(
              new UpdateVirtualRouterCommand({
                meshName,
                virtualRouterName: name,
                spec: asSpec(resource.spec),
                clientToken: token,
              }),
            ),
          );
        }
        return;
      case 'Route': {
        const router = parentOf(resource.id);
        if (create) {
          await call(`CreateRoute ${router}/${name}`, () =>
            appmesh.send(
              new CreateRouteCommand({
                meshName,
                virtualRouterName: router,
                routeName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          await call(`UpdateRoute ${router}/${name}`, () =>
            appmesh.send(
              new UpdateRouteCommand({
                meshName,
                virtualRouterName: router,
                routeName: name,
                spec: asSpec(resource.spec),
                clientToken: token,
              }),
            ),
          );
        }
        return;
      }
      case 'VirtualService':
        if (create) {
          await call(`CreateVirtualService ${name}`, () =>
            appmesh.send(
              new CreateVirtualServiceCommand({
                meshName,
                virtualServiceName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          await call(`UpdateVirtualService ${name}`, () =>
            appmesh.send(
              new UpdateVirtualServiceCommand({
                meshName,
                virtualServiceName: name,
                spec: asSpec(resource.spec),
                clientToken: token,
              }),
            ),
          );
        }
        return;
      case 'VirtualGateway':
        if (create) {
          await call(`CreateVirtualGateway ${name}`, () =>
            appmesh.send(
              new CreateVirtualGatewayCommand({
                meshName,
                virtualGatewayName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          await call(`UpdateVirtualGateway ${name}`, () =>
            appmesh.send(
              new UpdateVirtualGatewayCommand({
                meshName,
                virtualGatewayName: name,
                spec: asSpec(resource.spec),
                clientToken: token,
              }),
            ),
          );
        }
        return;
      case 'GatewayRoute': {
        const gateway = parentOf(resource.id);
        if (create) {
          await call(`CreateGatewayRoute ${gateway}/${name}`, () =>
            appmesh.send(
              new CreateGatewayRouteCommand({
                meshName,
                virtualGatewayName: gateway,
                gatewayRouteName: name,
                spec: asSpec(resource.spec),
                tags,
                clientToken: token,
              }),
            ),
          );
        } else {
          await call(`UpdateGatewayRoute ${gateway}/${name}`, () =>
            appmesh.send(
              new UpdateGatewayRouteCommand({
                meshName,
                virtualGatewayName: gateway,
                gatewayRouteName: name,
                spec: asSpec(resource.spec),
                clientToken: token,
              }),
            ),
          );
        }
        return;
      }
      default:
        throw new MeshError('INTERNAL_E_BUG', `appmesh provider cannot write kind ${resource.kind}`, {
          path: resource.id,
        });
    }
  };

  /** Names of what is still inside the mesh (after crossmesh deleted its own). */
  const meshLeftovers = async (): Promise<string[]> => {
    const left: string[] = [];
    const nodes = await call('ListVirtualNodes', () =>
      appmesh.send(new ListVirtualNodesCommand({ meshName })),
    );
    left.push(...(nodes.virtualNodes ?? []).map((r) => `VirtualNode ${r.virtualNodeName}`));
    const routers = await call('ListVirtualRouters', () =>
      appmesh.send(new ListVirtualRoutersCommand({ meshName })),
    );
    left.push(...(routers.virtualRouters ?? []).map((r) => `VirtualRouter ${r.virtualRouterName}`));
    const services = await call('ListVirtualServices', () =>
      appmesh.send(new ListVirtualServicesCommand({ meshName })),
    );
    left.push(...(services.virtualServices ?? []).map((r) => `VirtualService ${r.virtualServiceName}`));
    const gateways = await call('ListVirtualGateways', () =>
      appmesh.send(new ListVirtualGatewaysCommand({ meshName })),
    );
    left.push(...(gateways.virtualGateways ?? []).map((r) => `VirtualGateway ${r.virtualGatewayName}`));
    return left;
  };

  const refuseLeftovers = (id: string, what: string, left: readonly string[]): void => {
    if (left.length === 0) return;
    throw new MeshError(
      'TARGET_E_NOT_MANAGED',
      `${what} still holds resources crossmesh does not manage (${left.join(', ')}); crossmesh leaves it in place. Remove them yourself, then re-run destroy`,
      { path: id, value: left, allowed: 'a mesh or namespace holding only resources crossmesh manages' },
    );
  };

  const ignoreNotFound = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      // Already gone (e.g. a destroy cut off after the delete went through): the goal is reached.
      if (!isNotFound(error)) throw error;
    }
  };

  /** The route member a route or gateway route spec sets (`httpRoute`, `grpcRoute`, ...). */
  const routeType = (spec: Json): string | undefined =>
    Object.keys(spec as Record<string, unknown>).find((key) => key.endsWith('Route'));

  const provider: Provider = {
    target: 'appmesh',
    async list(desired) {
      const wanted = new Set(desired.map((d) => d.id));
      return [...(await listCloudMap(wanted)), ...(await listAppMesh(wanted))];
    },
    async create(resource) {
      await write(resource, 'create');
    },
    async update(resource, live) {
      if (resource.kind === 'CloudMapNamespace') {
        const want = resource.spec as { type: string; vpc?: string };
        const have = live.spec as { type: string; vpc?: string };
        if (want.type !== have.type || want.vpc !== have.vpc) {
          throw new MeshError(
            'TARGET_E_OPTION',
            `Cloud Map namespace ${resource.name} is ${have.type}${have.vpc === undefined ? '' : ` in ${have.vpc}`}; ` +
              `it cannot become ${want.type}${want.vpc === undefined ? '' : ` in ${want.vpc}`} in place. ` +
              'Run destroy, then apply, or keep the namespace options',
            { path: resource.id, value: want, allowed: JSON.stringify(have) },
          );
        }
      }
      if (resource.kind === 'CloudMapService') {
        const handle = live.handle as unknown as Handle;
        const { description, dns } = resource.spec as unknown as {
          description: string;
          dns?: CloudMapDnsConfig;
        };
        const { OperationId } = await call(`UpdateService ${resource.name}`, () =>
          cloudMap.send(
            new UpdateServiceCommand({
              Id: handle.cloudMapId,
              Service: {
                Description: description,
                ...(dns === undefined
                  ? {}
                  : { DnsConfig: { DnsRecords: cloudMapDnsConfig(dns).DnsRecords } }),
              },
            }),
          ),
        );
        await waitOperation(OperationId, `UpdateService ${resource.name}`);
        return;
      }
      // App Mesh does not change a route's type in place (e.g. httpRoute to grpcRoute when a port
      // changes protocol): such a route is replaced instead.
      if (
        (resource.kind === 'Route' || resource.kind === 'GatewayRoute') &&
        routeType(resource.spec) !== routeType(live.spec)
      ) {
        await provider.delete(live);
        await write(resource, 'create');
        return;
      }
      await write(resource, 'update');
    },
    async delete(live) {
      const handle = live.handle as unknown as Handle;
      const { name } = live;
      switch (live.kind) {
        case 'CloudMapNamespace': {
          const id = handle.cloudMapId as string;
          const page = await call(`ListServices ${name}`, () =>
            cloudMap.send(
              new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [id], Condition: 'EQ' }] }),
            ),
          );
          const left: string[] = [];
          for (const s of page.Services ?? []) {
            const { Service } = await call(`GetService ${s.Id}`, () =>
              cloudMap.send(new GetServiceCommand({ Id: s.Id })),
            );
            if (Service?.NamespaceId === id) left.push(`CloudMapService ${s.Name}`);
          }
          refuseLeftovers(live.id, `Cloud Map namespace ${name}`, left);
          const { OperationId } = await call(`DeleteNamespace ${name}`, () =>
            cloudMap.send(new DeleteNamespaceCommand({ Id: id })),
          );
          await waitOperation(OperationId, `DeleteNamespace ${name}`);
          return;
        }
        case 'CloudMapService':
          await ignoreNotFound(() =>
            call(`DeleteService ${name}`, () =>
              cloudMap.send(new DeleteServiceCommand({ Id: handle.cloudMapId })),
            ),
          );
          return;
        case 'Mesh':
          refuseLeftovers(live.id, `mesh ${name}`, await meshLeftovers());
          await ignoreNotFound(() =>
            call(`DeleteMesh ${name}`, () => appmesh.send(new DeleteMeshCommand({ meshName: name }))),
          );
          return;
        case 'VirtualNodeBackends': {
          const spec = await describeNodeSpec(name);
          if (spec === undefined || (spec.backends ?? []).length === 0) return;
          const { backends: _dropped, ...rest } = spec;
          await updateNode(name, rest);
          return;
        }
        case 'VirtualNode':
          await ignoreNotFound(() =>
            call(`DeleteVirtualNode ${name}`, () =>
              appmesh.send(new DeleteVirtualNodeCommand({ meshName, virtualNodeName: name })),
            ),
          );
          return;
        case 'VirtualRouter':
          await ignoreNotFound(() =>
            call(`DeleteVirtualRouter ${name}`, () =>
              appmesh.send(new DeleteVirtualRouterCommand({ meshName, virtualRouterName: name })),
            ),
          );
          return;
        case 'Route':
          await ignoreNotFound(() =>
            call(`DeleteRoute ${handle.parent}/${name}`, () =>
              appmesh.send(
                new DeleteRouteCommand({ meshName, virtualRouterName: handle.parent, routeName: name }),
              ),
            ),
          );
          return;
        case 'VirtualService':
          await ignoreNotFound(() =>
            call(`DeleteVirtualService ${name}`, () =>
              appmesh.send(new DeleteVirtualServiceCommand({ meshName, virtualServiceName: name })),
            ),
          );
          return;
        case 'VirtualGateway':
          await ignoreNotFound(() =>
            call(`DeleteVirtualGateway ${name}`, () =>
              appmesh.send(new DeleteVirtualGatewayCommand({ meshName, virtualGatewayName: name })),
            ),
          );
          return;
        case 'GatewayRoute':
          await ignoreNotFound(() =>
            call(`DeleteGatewayRoute ${handle.parent}/${name}`, () =>
              appmesh.send(
                new DeleteGatewayRouteCommand({
                  meshName,
                  virtualGatewayName: handle.parent,
                  gatewayRouteName: name,
                }),
              ),
            ),
          );
          return;
        default:
          throw new MeshError('INTERNAL_E_BUG', `appmesh provider cannot delete kind ${live.kind}`, {
            path: live.id,
          });
      }
    },
  };
  return provider;
}
