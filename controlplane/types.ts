/** xDS resource types the control plane serves, in the order it pushes them. */

/** Type URLs, xDS v3. */
export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** A served type URL. */
export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/**
 * Push order: clusters before the endpoints they name, listeners before the routes they name,
 * secrets last (Envoy warms clusters and listeners until their secrets arrive). This is the order
 * Envoy's own docs ask of an ADS server so no update references something not yet sent.
 */
export const PUSH_ORDER: readonly TypeUrl[] = [
  TYPE.cluster,
  TYPE.endpoint,
  TYPE.listener,
  TYPE.route,
  TYPE.secret,
];

/** Short names used in the status API and logs. */
export const SHORT_NAME: Readonly<Record<TypeUrl, string>> = {
  [TYPE.cluster]: 'CDS',
  [TYPE.endpoint]: 'EDS',
  [TYPE.listener]: 'LDS',
  [TYPE.route]: 'RDS',
  [TYPE.secret]: 'SDS',
};

/** Whether a type URL is one we serve. */
export function isTypeUrl(value: string): value is TypeUrl {
  return (PUSH_ORDER as readonly string[]).includes(value);
}

/**
 * Types whose empty subscription means "everything" (state of the world): Envoy subscribes to
 * listeners and clusters without names; routes, endpoints and secrets are always asked by name.
 */
export function isWildcardType(type: TypeUrl): boolean {
  return type === TYPE.cluster || type === TYPE.listener;
}

/** A JSON object (one Envoy resource in proto3 JSON). */
export type JsonObject = { readonly [key: string]: unknown };
