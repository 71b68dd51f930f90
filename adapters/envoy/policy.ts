/**
 * Effective policies: a route's own policy, else its service's, else the mesh defaults. The
 * canonical model fills defaults already; these helpers only resolve the inheritance chain, so
 * every renderer asks one place which timeout or retry applies.
 */
import type { Mesh, Route, RoutePolicy, ServicePolicy } from '../../model/types.js';

/** The policy a service's clusters use (the service's own, else the mesh defaults). */
export function servicePolicy(mesh: Mesh, serviceName: string): ServicePolicy {
  const own = mesh.services[serviceName]?.policy ?? {};
  const defaults = mesh.defaults ?? {};
  return {
    ...defaults,
    ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)),
  } as ServicePolicy;
}

/** The policy one route uses: each field from the route, else the service, else the mesh. */
export function routePolicy(mesh: Mesh, serviceName: string, route: Route): RoutePolicy {
  const base = servicePolicy(mesh, serviceName);
  const own = route.policy ?? {};
  return {
    ...((own.timeouts ?? base.timeouts) ? { timeouts: { ...base.timeouts, ...own.timeouts } } : {}),
    ...((own.retries ?? base.retries) ? { retries: own.retries ?? base.retries } : {}),
    ...((own.rateLimit ?? base.rateLimit) ? { rateLimit: own.rateLimit ?? base.rateLimit } : {}),
  } as RoutePolicy;
}
