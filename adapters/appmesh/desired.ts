/**
 * From the render to the plan engine's {@link DesiredResource}s. Pure and deterministic.
 *
 * Ids: `<Kind>/<name>` with the parent in between where names are scoped (`Route/<router>/<route>`,
 * `GatewayRoute/<gateway>/<route>`, `CloudMapService/<namespace>/<service>`).
 *
 * Breaking the backend cycle: a virtual node's backends name virtual services, whose routers'
 * routes target virtual nodes, so two services that call each other form a cycle. Each node
 * is therefore two resources: `VirtualNode/<n>` (the spec without `backends`, created early) and
 * `VirtualNodeBackends/<n>` (the `backends` list, written by UpdateVirtualNode once the virtual
 * services exist). Order: mesh → Cloud Map namespace → Cloud Map services → virtual nodes →
 * routers → routes → virtual services → node backends → gateways → gateway routes. The namespace
 * depends on the mesh (not an API constraint) so that destroy deletes the mesh last: when an
 * unmanaged resource keeps the mesh alive, everything crossmesh manages is already gone.
 */
import type { DesiredResource, Json } from '../plan/types.js';
import type { AppMeshResources, Backend, VirtualNodeSpec } from './types.js';

/** Resource kinds, in create order. */
export const KINDS = [
  'Mesh',
  'CloudMapNamespace',
  'CloudMapService',
  'VirtualNode',
  'VirtualRouter',
  'Route',
  'VirtualService',
  'VirtualNodeBackends',
  'VirtualGateway',
  'GatewayRoute',
] as const;

/** A resource kind. */
export type Kind = (typeof KINDS)[number];

/** Ids of each kind. */
export const ids = {
  namespace: (name: string) => `CloudMapNamespace/${name}`,
  cloudMapService: (namespace: string, name: string) => `CloudMapService/${namespace}/${name}`,
  mesh: (name: string) => `Mesh/${name}`,
  virtualNode: (name: string) => `VirtualNode/${name}`,
  backends: (node: string) => `VirtualNodeBackends/${node}`,
  virtualRouter: (name: string) => `VirtualRouter/${name}`,
  route: (router: string, name: string) => `Route/${router}/${name}`,
  virtualService: (name: string) => `VirtualService/${name}`,
  virtualGateway: (name: string) => `VirtualGateway/${name}`,
  gatewayRoute: (gateway: string, name: string) => `GatewayRoute/${gateway}/${name}`,
};

/** The spec of `VirtualNodeBackends/<n>`. */
export interface BackendsSpec {
  readonly backends: readonly Backend[];
}

/** Splits a node spec into its backend-free part and its backends. */
export function splitNodeSpec(spec: VirtualNodeSpec): {
  readonly node: VirtualNodeSpec;
  readonly backends: readonly Backend[];
} {
  const { backends, ...node } = spec;
  return { node, backends: backends ?? [] };
}

/** Virtual nodes a route's weighted targets name. */
export function routeTargets(spec: unknown): string[] {
  const s = spec as Record<
    string,
    { action?: { weightedTargets?: { virtualNode: string }[] } } | number | undefined
  >;
  const nodes = new Set<string>();
  for (const member of ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute']) {
    const route = s[member];
    if (typeof route === 'object')
      for (const t of route.action?.weightedTargets ?? []) nodes.add(t.virtualNode);
  }
  return [...nodes].sort();
}

/** The virtual service a gateway route targets. */
export function gatewayRouteTarget(spec: unknown): string | undefined {
  const s = spec as Record<
    string,
    { action?: { target?: { virtualService?: { virtualServiceName?: string } } } } | number | undefined
  >;
  for (const member of ['httpRoute', 'http2Route', 'grpcRoute']) {
    const route = s[member];
    if (typeof route === 'object') return route.action?.target?.virtualService?.virtualServiceName;
  }
  return undefined;
}

const json = (value: unknown): Json => value as Json;

/** The desired resources of a render, in create order. */
export function desiredResources(resources: AppMeshResources): DesiredResource[] {
  const out: DesiredResource[] = [];
  const meshId = ids.mesh(resources.mesh.meshName);
  out.push({
    kind: 'Mesh',
    id: meshId,
    name: resources.mesh.meshName,
    dependsOn: [],
    spec: json(resources.mesh.spec),
  });
  const cloudMap = resources.cloudMap;
  if (cloudMap !== undefined) {
    const ns = cloudMap.namespace;
    out.push({
      kind: 'CloudMapNamespace',
      id: ids.namespace(ns.name),
      name: ns.name,
      dependsOn: [meshId],
      // A private DNS namespace's VPC is compared through the tag the provider puts on it.
      spec: { description: ns.description, type: ns.type, ...(ns.vpc === undefined ? {} : { vpc: ns.vpc }) },
    });
    for (const service of cloudMap.services) {
      out.push({
        kind: 'CloudMapService',
        id: ids.cloudMapService(service.namespace, service.name),
        name: service.name,
        dependsOn: [ids.namespace(service.namespace)],
        spec: json({
          description: service.description,
          ...(service.dns === undefined ? {} : { dns: service.dns }),
        }),
      });
    }
  }
  for (const node of resources.virtualNodes) {
    const { node: spec } = splitNodeSpec(node.spec);
    const discovery =
      'awsCloudMap' in node.spec.serviceDiscovery ? node.spec.serviceDiscovery.awsCloudMap : undefined;
    out.push({
      kind: 'VirtualNode',
      id: ids.virtualNode(node.virtualNodeName),
      name: node.virtualNodeName,
      dependsOn: [
        meshId,
        ...(discovery === undefined
          ? []
          : [ids.cloudMapService(discovery.namespaceName, discovery.serviceName)]),
      ],
      spec: json(spec),
    });
  }
  for (const router of resources.virtualRouters) {
    out.push({
      kind: 'VirtualRouter',
      id: ids.virtualRouter(router.virtualRouterName),
      name: router.virtualRouterName,
      dependsOn: [meshId],
      spec: json(router.spec),
    });
  }
  for (const route of resources.routes) {
    out.push({
      kind: 'Route',
      id: ids.route(route.virtualRouterName, route.routeName),
      name: route.routeName,
      dependsOn: [
        ids.virtualRouter(route.virtualRouterName),
        ...routeTargets(route.spec).map(ids.virtualNode),
      ],
      spec: json(route.spec),
    });
  }
  for (const vs of resources.virtualServices) {
    out.push({
      kind: 'VirtualService',
      id: ids.virtualService(vs.virtualServiceName),
      name: vs.virtualServiceName,
      dependsOn: [ids.virtualRouter(vs.spec.provider.virtualRouter.virtualRouterName)],
      spec: json(vs.spec),
    });
  }
  for (const node of resources.virtualNodes) {
    const { backends } = splitNodeSpec(node.spec);
    if (backends.length === 0) continue;
    out.push({
      kind: 'VirtualNodeBackends',
      id: ids.backends(node.virtualNodeName),
      name: node.virtualNodeName,
      dependsOn: [
        ids.virtualNode(node.virtualNodeName),
        ...backends.map((b) => ids.virtualService(b.virtualService.virtualServiceName)),
      ],
      spec: json({ backends }),
    });
  }
  for (const gateway of resources.virtualGateways) {
    out.push({
      kind: 'VirtualGateway',
      id: ids.virtualGateway(gateway.virtualGatewayName),
      name: gateway.virtualGatewayName,
      dependsOn: [meshId],
      spec: json(gateway.spec),
    });
  }
  for (const route of resources.gatewayRoutes) {
    const target = gatewayRouteTarget(route.spec);
    out.push({
      kind: 'GatewayRoute',
      id: ids.gatewayRoute(route.virtualGatewayName, route.gatewayRouteName),
      name: route.gatewayRouteName,
      dependsOn: [
        ids.virtualGateway(route.virtualGatewayName),
        ...(target === undefined ? [] : [ids.virtualService(target)]),
      ],
      spec: json(route.spec),
    });
  }
  return out;
}
