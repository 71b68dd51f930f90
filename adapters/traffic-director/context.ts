/**
 * What every part of the renderer needs to know about the mesh: references, identities and the
 * effective (inherited) policy of a route. Pure functions over the canonical model.
 */
import type { Mesh, Route, RoutePolicy, Service, ServicePolicy } from '../../model/types.js';
import { ref, resourceName } from './names.js';

/** Shared rendering context. */
export interface RenderContext {
  /** The canonical mesh. */
  readonly mesh: Mesh;
  /** GCP project id. */
  readonly project: string;
  /** Warnings collected while rendering (sorted and de-duplicated at the end). */
  readonly warnings: string[];
}

/** The DNS domain services live under. */
export function domainOf(mesh: Mesh): string {
  return mesh.domain ?? `${mesh.name}.mesh.local`;
}

/** The SPIFFE trust domain. */
export function trustDomainOf(mesh: Mesh): string {
  return mesh.security?.trustDomain ?? 'cluster.local';
}

/** A service's workload identity. */
export function identityOf(mesh: Mesh, service: string): string {
  return mesh.services[service]?.identity ?? `spiffe://${trustDomainOf(mesh)}/ns/${mesh.name}/sa/${service}`;
}

/** Version names of a service, in model order. */
export function versionsOf(mesh: Mesh, service: string): string[] {
  return Object.keys(mesh.services[service]?.versions ?? {});
}

/** Name of the BackendService of one service version. */
export function backendServiceName(mesh: Mesh, service: string, version: string): string {
  return resourceName(mesh.name, service, version);
}

/** Reference to the BackendService of one service version. */
export function backendServiceRef(ctx: RenderContext, service: string, version: string): string {
  return ref.compute(ctx.project, 'backendServices', backendServiceName(ctx.mesh, service, version));
}

/** The service's effective policy: its own fields, else the mesh defaults, field by field. */
export function servicePolicy(mesh: Mesh, service: Service): ServicePolicy {
  return { ...(mesh.defaults ?? {}), ...(service.policy ?? {}) };
}

/** A route's effective policy: route fields, else the service's, else the mesh defaults. */
export function routePolicy(mesh: Mesh, service: Service, route: Route | undefined): RoutePolicy {
  return { ...servicePolicy(mesh, service), ...(route?.policy ?? {}) };
}

/** The primary port of a service. */
export function primaryPort(service: Service): number {
  return service.ports[0]?.port ?? 0;
}

/** Routes of a service that apply to one port, by priority (ties keep declaration order). */
export function routesForPort(service: Service, port: number): Route[] {
  const primary = primaryPort(service);
  return (service.routes ?? [])
    .map((route, index) => ({ route, index }))
    .filter(({ route }) => (route.port ?? primary) === port)
    .sort((a, b) => (a.route.priority ?? a.index) - (b.route.priority ?? b.index) || a.index - b.index)
    .map(({ route }) => route);
}
