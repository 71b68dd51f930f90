/**
 * The resources the App Mesh renderer produces: the request shapes of the App Mesh API
 * (botocore `appmesh-2019-01-25`, e.g. `VirtualNodeSpec`) and of Cloud Map
 * (`servicediscovery-2017-03-14`), written as readonly plain data.
 *
 * Why our own interfaces rather than the SDK's: the SDK types make every member optional and
 * model unions as `$unknown` members; a renderer's output is exact. Member names are the API's
 * own, so a spec goes into `CreateVirtualNode` (or `aws appmesh create-virtual-node
 * --cli-input-json`, or the CDK L1 `CfnVirtualNode` after key casing) unchanged.
 * Only the members crossmesh renders are declared; optional members are omitted, never `undefined`.
 */

/** A tag as App Mesh takes it (`TagRef`). */
export interface TagRef {
  readonly key: string;
  readonly value: string;
}

/** `Duration`: App Mesh durations are a value and a unit. */
export interface AmDuration {
  readonly unit: 's' | 'ms';
  readonly value: number;
}

/** `IpPreference`. */
export type AmIpPreference = 'IPv6_PREFERRED' | 'IPv4_PREFERRED' | 'IPv4_ONLY' | 'IPv6_ONLY';

/** `PortProtocol`. */
export type AmProtocol = 'http' | 'http2' | 'grpc' | 'tcp';

/** `MeshSpec`. */
export interface MeshSpec {
  readonly egressFilter: { readonly type: 'ALLOW_ALL' | 'DROP_ALL' };
  readonly serviceDiscovery: { readonly ipPreference: AmIpPreference };
}

/** `PortMapping`. */
export interface PortMapping {
  readonly port: number;
  readonly protocol: AmProtocol;
}

/** `HealthCheckPolicy`. */
export interface HealthCheckPolicy {
  readonly healthyThreshold: number;
  readonly intervalMillis: number;
  readonly path?: string;
  readonly port?: number;
  readonly protocol: AmProtocol;
  readonly timeoutMillis: number;
  readonly unhealthyThreshold: number;
}

/** `OutlierDetection`. */
export interface OutlierDetection {
  readonly baseEjectionDuration: AmDuration;
  readonly interval: AmDuration;
  readonly maxEjectionPercent: number;
  readonly maxServerErrors: number;
}

/** `VirtualNodeConnectionPool` (a union: exactly one member). */
export type VirtualNodeConnectionPool =
  | { readonly http: { readonly maxConnections: number; readonly maxPendingRequests?: number } }
  | { readonly http2: { readonly maxRequests: number } }
  | { readonly grpc: { readonly maxRequests: number } }
  | { readonly tcp: { readonly maxConnections: number } };

/** `HttpTimeout` / `GrpcTimeout`. */
export interface HttpTimeout {
  readonly idle?: AmDuration;
  readonly perRequest?: AmDuration;
}

/** `TcpTimeout`. */
export interface TcpTimeout {
  readonly idle?: AmDuration;
}

/** `ListenerTimeout` (a union). */
export type ListenerTimeout =
  | { readonly http: HttpTimeout }
  | { readonly http2: HttpTimeout }
  | { readonly grpc: HttpTimeout }
  | { readonly tcp: TcpTimeout };

/** `ListenerTlsFileCertificate` / `ListenerTlsSdsCertificate` as a union. */
export type TlsCertificate =
  | { readonly file: { readonly certificateChain: string; readonly privateKey: string } }
  | { readonly sds: { readonly secretName: string } };

/** `TlsValidationContextTrust` restricted to what crossmesh renders (file or SDS). */
export type TlsTrust =
  | { readonly file: { readonly certificateChain: string } }
  | { readonly sds: { readonly secretName: string } };

/** `TlsValidationContext` / `ListenerTlsValidationContext`. */
export interface TlsValidationContext {
  readonly subjectAlternativeNames?: { readonly match: { readonly exact: readonly string[] } };
  readonly trust: TlsTrust;
}

/** `ListenerTls`. */
export interface ListenerTls {
  readonly certificate: TlsCertificate;
  readonly mode: 'STRICT' | 'PERMISSIVE' | 'DISABLED';
  readonly validation?: TlsValidationContext;
}

/** `Listener` of a virtual node. */
export interface Listener {
  readonly connectionPool?: VirtualNodeConnectionPool;
  readonly healthCheck?: HealthCheckPolicy;
  readonly outlierDetection?: OutlierDetection;
  readonly portMapping: PortMapping;
  readonly timeout?: ListenerTimeout;
  readonly tls?: ListenerTls;
}

/** `ClientPolicy`. */
export interface ClientPolicy {
  readonly tls?: {
    readonly certificate?: TlsCertificate;
    readonly enforce?: boolean;
    readonly ports?: readonly number[];
    readonly validation: TlsValidationContext;
  };
}

/** `Backend` (only virtual-service backends exist). */
export interface Backend {
  readonly virtualService: { readonly clientPolicy?: ClientPolicy; readonly virtualServiceName: string };
}

/** `LoggingFormat` (a union). */
export type LoggingFormat =
  | { readonly text: string }
  | { readonly json: readonly { readonly key: string; readonly value: string }[] };

/** `Logging` with a file access log. */
export interface Logging {
  readonly accessLog: { readonly file: { readonly format?: LoggingFormat; readonly path: string } };
}

/** `AwsCloudMapServiceDiscovery`. */
export interface AwsCloudMapServiceDiscovery {
  readonly attributes?: readonly { readonly key: string; readonly value: string }[];
  readonly namespaceName: string;
  readonly serviceName: string;
}

/** `DnsServiceDiscovery`. */
export interface DnsServiceDiscovery {
  readonly hostname: string;
}

/** `ServiceDiscovery` (a union). */
export type ServiceDiscovery =
  | { readonly awsCloudMap: AwsCloudMapServiceDiscovery }
  | { readonly dns: DnsServiceDiscovery };

/** `VirtualNodeSpec`. */
export interface VirtualNodeSpec {
  readonly backendDefaults?: { readonly clientPolicy: ClientPolicy };
  readonly backends?: readonly Backend[];
  readonly listeners: readonly Listener[];
  readonly logging?: Logging;
  readonly serviceDiscovery: ServiceDiscovery;
}

/** `VirtualRouterSpec`. */
export interface VirtualRouterSpec {
  readonly listeners: readonly { readonly portMapping: PortMapping }[];
}

/** `WeightedTarget`. */
export interface WeightedTarget {
  readonly port?: number;
  readonly virtualNode: string;
  /** 0-100; the targets of one route add up to 100. */
  readonly weight: number;
}

/** `MatchRange`: start inclusive, end exclusive. */
export interface MatchRange {
  readonly end: number;
  readonly start: number;
}

/** `HeaderMatchMethod` (a union). */
export type HeaderMatchMethod =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly suffix: string }
  | { readonly regex: string }
  | { readonly range: MatchRange };

/** `HttpRouteHeader` / `GrpcRouteMetadata`: no `match` means "the header is present". */
export interface HttpRouteHeader {
  readonly invert?: boolean;
  readonly match?: HeaderMatchMethod;
  readonly name: string;
}

/** `HttpQueryParameter`: no `match` means "the parameter is present". */
export interface HttpQueryParameter {
  readonly match?: { readonly exact: string };
  readonly name: string;
}

/** HTTP methods (`HttpMethod`). */
export type AmHttpMethod =
  | 'GET'
  | 'HEAD'
  | 'POST'
  | 'PUT'
  | 'DELETE'
  | 'CONNECT'
  | 'OPTIONS'
  | 'TRACE'
  | 'PATCH';

/** `HttpRouteMatch`: exactly one of `prefix` and `path`. */
export interface HttpRouteMatch {
  readonly headers?: readonly HttpRouteHeader[];
  readonly method?: AmHttpMethod;
  readonly path?: { readonly exact: string } | { readonly regex: string };
  readonly port?: number;
  readonly prefix?: string;
  readonly queryParameters?: readonly HttpQueryParameter[];
}

/** `HttpRetryPolicy` / `GrpcRetryPolicy`. */
export interface RetryPolicy {
  readonly grpcRetryEvents?: readonly (
    | 'cancelled'
    | 'deadline-exceeded'
    | 'internal'
    | 'resource-exhausted'
    | 'unavailable'
  )[];
  readonly httpRetryEvents?: readonly ('server-error' | 'gateway-error' | 'client-error' | 'stream-error')[];
  readonly maxRetries: number;
  readonly perRetryTimeout: AmDuration;
  readonly tcpRetryEvents?: readonly 'connection-error'[];
}

/** `HttpRoute` (also used for `http2Route`). */
export interface HttpRoute {
  readonly action: { readonly weightedTargets: readonly WeightedTarget[] };
  readonly match: HttpRouteMatch;
  readonly retryPolicy?: RetryPolicy;
  readonly timeout?: HttpTimeout;
}

/** `GrpcRouteMatch`. */
export interface GrpcRouteMatch {
  readonly metadata?: readonly HttpRouteHeader[];
  readonly methodName?: string;
  readonly port?: number;
  readonly serviceName?: string;
}

/** `GrpcRoute`. */
export interface GrpcRoute {
  readonly action: { readonly weightedTargets: readonly WeightedTarget[] };
  readonly match: GrpcRouteMatch;
  readonly retryPolicy?: RetryPolicy;
  readonly timeout?: HttpTimeout;
}

/** `TcpRoute`. */
export interface TcpRoute {
  readonly action: { readonly weightedTargets: readonly WeightedTarget[] };
  readonly match?: { readonly port: number };
  readonly timeout?: TcpTimeout;
}

/** `RouteSpec`: exactly one of the four route members. */
export interface RouteSpec {
  readonly grpcRoute?: GrpcRoute;
  readonly http2Route?: HttpRoute;
  readonly httpRoute?: HttpRoute;
  readonly priority: number;
  readonly tcpRoute?: TcpRoute;
}

/** `VirtualServiceSpec` with a virtual-router provider (crossmesh always routes through a router). */
export interface VirtualServiceSpec {
  readonly provider: { readonly virtualRouter: { readonly virtualRouterName: string } };
}

/** `VirtualGatewayListener`. */
export interface VirtualGatewayListener {
  readonly portMapping: { readonly port: number; readonly protocol: 'http' | 'http2' | 'grpc' };
  readonly tls?: {
    readonly certificate: {
      readonly file: { readonly certificateChain: string; readonly privateKey: string };
    };
    readonly mode: 'STRICT' | 'PERMISSIVE' | 'DISABLED';
  };
}

/** `VirtualGatewaySpec`. */
export interface VirtualGatewaySpec {
  readonly backendDefaults?: { readonly clientPolicy: ClientPolicy };
  readonly listeners: readonly VirtualGatewayListener[];
  readonly logging?: Logging;
}

/** `GatewayRouteHostnameMatch`. */
export type GatewayRouteHostnameMatch = { readonly exact: string } | { readonly suffix: string };

/** `GatewayRouteTarget`. */
export interface GatewayRouteTarget {
  readonly port?: number;
  readonly virtualService: { readonly virtualServiceName: string };
}

/** `HttpGatewayRoute` (also `http2Route`). */
export interface HttpGatewayRoute {
  readonly action: {
    readonly rewrite?: {
      readonly hostname?: { readonly defaultTargetHostname: 'ENABLED' | 'DISABLED' };
      readonly prefix?: { readonly defaultPrefix?: 'ENABLED' | 'DISABLED'; readonly value?: string };
    };
    readonly target: GatewayRouteTarget;
  };
  readonly match: {
    readonly headers?: readonly HttpRouteHeader[];
    readonly hostname?: GatewayRouteHostnameMatch;
    readonly path?: { readonly exact: string } | { readonly regex: string };
    readonly port?: number;
    readonly prefix?: string;
  };
}

/** `GrpcGatewayRoute`. */
export interface GrpcGatewayRoute {
  readonly action: {
    readonly rewrite?: { readonly hostname: { readonly defaultTargetHostname: 'ENABLED' | 'DISABLED' } };
    readonly target: GatewayRouteTarget;
  };
  readonly match: {
    readonly hostname?: GatewayRouteHostnameMatch;
    readonly metadata?: readonly HttpRouteHeader[];
    readonly port?: number;
    readonly serviceName?: string;
  };
}

/** `GatewayRouteSpec`: exactly one of the three route members. */
export interface GatewayRouteSpec {
  readonly grpcRoute?: GrpcGatewayRoute;
  readonly http2Route?: HttpGatewayRoute;
  readonly httpRoute?: HttpGatewayRoute;
  readonly priority: number;
}

/** The mesh resource. */
export interface RenderedMesh {
  readonly meshName: string;
  readonly spec: MeshSpec;
}

/** A virtual node: one per version of a service. */
export interface RenderedVirtualNode {
  readonly virtualNodeName: string;
  /** Model service this node belongs to. */
  readonly service: string;
  /** Model version this node is. */
  readonly version: string;
  readonly spec: VirtualNodeSpec;
}

/** A virtual router: one per service. */
export interface RenderedVirtualRouter {
  readonly virtualRouterName: string;
  /** Model service it routes for. */
  readonly service: string;
  readonly spec: VirtualRouterSpec;
}

/** A route of a virtual router. */
export interface RenderedRoute {
  readonly routeName: string;
  readonly virtualRouterName: string;
  /** Model service and route name it comes from. */
  readonly service: string;
  readonly route: string;
  readonly spec: RouteSpec;
}

/** A virtual service: one per service, named by its mesh hostname. */
export interface RenderedVirtualService {
  readonly virtualServiceName: string;
  /** Model service it stands for. */
  readonly service: string;
  readonly spec: VirtualServiceSpec;
}

/** A virtual gateway: one per model gateway. */
export interface RenderedVirtualGateway {
  readonly virtualGatewayName: string;
  /** Model gateway it comes from. */
  readonly gateway: string;
  readonly spec: VirtualGatewaySpec;
}

/** A gateway route. */
export interface RenderedGatewayRoute {
  readonly gatewayRouteName: string;
  readonly virtualGatewayName: string;
  /** Model gateway and route it comes from. */
  readonly gateway: string;
  readonly route: string;
  readonly spec: GatewayRouteSpec;
}

/**
 * The Cloud Map namespace. `http` (default, `CreateHttpNamespace`): App Mesh's Envoy discovers
 * instances through the DiscoverInstances API, which every namespace type serves, and an HTTP
 * namespace needs no VPC, so the render stays independent of networking. `private-dns`
 * (`CreatePrivateDnsNamespace` in `vpc`): Cloud Map also publishes DNS records, so applications
 * can resolve the virtual service names `<service>.<domain>` before their sidecar intercepts.
 */
export interface RenderedNamespace {
  readonly name: string;
  readonly description: string;
  readonly type: 'http' | 'private-dns';
  /** VPC of a `private-dns` namespace (set at creation: Cloud Map cannot move a namespace). */
  readonly vpc?: string;
}

/** DNS records of a Cloud Map service in a `private-dns` namespace (`DnsConfig`). */
export interface CloudMapDnsConfig {
  readonly records: readonly { readonly type: 'A' | 'AAAA'; readonly ttl: number }[];
  readonly routingPolicy: 'MULTIVALUE';
}

/** A Cloud Map service (`CreateService`) in the namespace: one per model service. */
export interface RenderedCloudMapService {
  readonly name: string;
  /** Name of the namespace it lives in. */
  readonly namespace: string;
  readonly description: string;
  /** DNS records, in a `private-dns` namespace only. */
  readonly dns?: CloudMapDnsConfig;
}

/** Everything one mesh renders to. Arrays are sorted by name; keys of every object are sorted. */
export interface AppMeshResources {
  /** Tags put on every resource (App Mesh `TagRef` form). */
  readonly tags: readonly TagRef[];
  readonly mesh: RenderedMesh;
  /** Present when discovery is Cloud Map. */
  readonly cloudMap?: {
    readonly namespace: RenderedNamespace;
    readonly services: readonly RenderedCloudMapService[];
  };
  readonly virtualNodes: readonly RenderedVirtualNode[];
  readonly virtualRouters: readonly RenderedVirtualRouter[];
  readonly routes: readonly RenderedRoute[];
  readonly virtualServices: readonly RenderedVirtualService[];
  readonly virtualGateways: readonly RenderedVirtualGateway[];
  readonly gatewayRoutes: readonly RenderedGatewayRoute[];
}

/** Render options (`render --target appmesh`, `plan --target appmesh`). */
export interface AppMeshOptions {
  /**
   * How virtual nodes find their instances: `cloudmap` (an HTTP namespace, one service per model
   * service, instances told apart by their version labels as attributes) or `dns`
   * (`<version>.<service>.<domain>`).
   * @default - `cloudmap`
   */
  readonly discovery?: 'cloudmap' | 'dns';
  /** Cloud Map namespace name. @default - the mesh domain */
  readonly namespace?: string;
  /**
   * Cloud Map namespace type: `http` (API discovery only) or `private-dns` (also DNS records in
   * `vpc`, so applications resolve `<service>.<domain>`; the namespace must then be the domain).
   * @default - `http`
   */
  readonly namespaceType?: 'http' | 'private-dns';
  /** VPC id (`vpc-...`) of a `private-dns` namespace. Required with it. @default - none */
  readonly vpc?: string;
  /**
   * Where sidecars get mTLS certificates: `sds` (App Mesh's SPIRE integration: the secret name is
   * the workload's SPIFFE ID) or `file` (PEM files under `certificateDir`).
   * @default - `sds`
   */
  readonly certificates?: 'sds' | 'file';
  /** Directory holding `<service>/cert-chain.pem`, `<service>/key.pem` and `ca.pem` for `file` certificates. @default - `/etc/crossmesh/certs` */
  readonly certificateDir?: string;
}
