/**
 * The rendered Traffic Director manifest: plain request bodies for networkservices v1,
 * networksecurity v1 and compute v1, in dependency order. Pure data (the CDK construct puts it
 * into the cloud assembly; `desired()` turns it into plan/apply resources).
 */
import type { Json } from '../plan/types.js';

/** Which Google API serves a resource. */
export type TdApi = 'networkservices' | 'networksecurity' | 'compute';

/** Every resource kind the target renders, in the order apply creates them. */
export const TD_KINDS = [
  'HealthCheck',
  'ClientTlsPolicy',
  'ServerTlsPolicy',
  'AuthorizationPolicy',
  'BackendService',
  'Mesh',
  'Gateway',
  'HttpRoute',
  'GrpcRoute',
  'TcpRoute',
  'EndpointPolicy',
] as const;

/** A resource kind. */
export type TdKind = (typeof TD_KINDS)[number];

/** Where each kind lives: its API and collection (the URL segment and the `*Id` query parameter stem). */
export const TD_COLLECTIONS: Readonly<Record<TdKind, { readonly api: TdApi; readonly collection: string }>> =
  {
    HealthCheck: { api: 'compute', collection: 'healthChecks' },
    BackendService: { api: 'compute', collection: 'backendServices' },
    ClientTlsPolicy: { api: 'networksecurity', collection: 'clientTlsPolicies' },
    ServerTlsPolicy: { api: 'networksecurity', collection: 'serverTlsPolicies' },
    AuthorizationPolicy: { api: 'networksecurity', collection: 'authorizationPolicies' },
    Mesh: { api: 'networkservices', collection: 'meshes' },
    Gateway: { api: 'networkservices', collection: 'gateways' },
    HttpRoute: { api: 'networkservices', collection: 'httpRoutes' },
    GrpcRoute: { api: 'networkservices', collection: 'grpcRoutes' },
    TcpRoute: { api: 'networkservices', collection: 'tcpRoutes' },
    EndpointPolicy: { api: 'networkservices', collection: 'endpointPolicies' },
  };

/** One rendered resource. */
export interface TdResource {
  /** Resource kind. */
  readonly kind: TdKind;
  /** Resource id (the last segment of its name), e.g. `shop-catalog-8080`. */
  readonly name: string;
  /**
   * Request body without `name`: exactly the fields crossmesh manages, proto3-clean (no `false`,
   * `0`, `""`, empty lists or maps, which the API treats as unset and never echoes back).
   */
  readonly body: { readonly [key: string]: Json };
  /** `Kind/name` ids this resource references. */
  readonly dependsOn: readonly string[];
}

/** What the renderer produced for one mesh. */
export interface TrafficDirectorManifest {
  /** Manifest format version (bumped on incompatible changes). */
  readonly apiVersion: 'crossmesh.traffic-director/v1';
  /** GCP project the references point into. */
  readonly project: string;
  /** Model mesh name. */
  readonly mesh: string;
  /** Every resource, in dependency order (kind order of {@link TD_KINDS}, then name). */
  readonly resources: readonly TdResource[];
  /** Things the user should know (e.g. backend services rendered without backends). Sorted. */
  readonly warnings: readonly string[];
}

/** Options of the Traffic Director target. */
export interface TrafficDirectorOptions {
  /** GCP project id the resources are created in and refer to. */
  readonly project: string;
  /**
   * Network endpoint groups per service version, keyed `<service>/<version>`, each a NEG
   * reference (`projects/P/zones/Z/networkEndpointGroups/N` or its full URL). crossmesh never
   * creates NEGs: they belong to the workloads (GKE, VMs). @default - no backends; the backend
   * services exist but route nowhere until NEGs are attached, and the plan warns about it
   */
  readonly negs?: Readonly<Record<string, readonly string[]>>;
  /** `maxRatePerEndpoint` of each NEG backend (balancing mode RATE). @default 1000 */
  readonly maxRatePerEndpoint?: number;
  /** `connectionDraining.drainingTimeoutSec` of every backend service. @default 0 (compute's default) */
  readonly drainingTimeoutSec?: number;
}
