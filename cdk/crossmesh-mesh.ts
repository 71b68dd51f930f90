/**
 * `CrossmeshAppMesh`: the crossmesh model as aws-cdk-lib App Mesh and Cloud Map L2 constructs,
 * inside the user's own stack.
 *
 * Record, then render (cdk8s style) does not fit here: the model is complete when the construct
 * is created, so the constructor canonicalizes it, checks it against the App Mesh capability
 * matrix, renders it with the same pure renderer `crossmesh apply --target appmesh` uses, and
 * builds one L2 construct per rendered resource. Both paths therefore agree on every name,
 * weight, retry event and TLS source; test/cdk checks the templates against the render.
 *
 * AWS discontinued App Mesh on 2026-09-30; the construct says so as a synth warning, once.
 */
import { Annotations, Stack, Tags, Token } from 'aws-cdk-lib';
import * as appmesh from 'aws-cdk-lib/aws-appmesh';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct, type IConstruct } from 'constructs';
import { MANAGED_TAG } from '../adapters/appmesh/render.js';
import type { AppMeshOptions, AppMeshResources } from '../adapters/appmesh/types.js';
import { MeshError } from '../errors/index.js';
import type { DroppedFeature } from '../model/target.js';
import type { Mesh, MeshInput } from '../model/types.js';
import { annotateRender } from './private/annotations.js';
import * as l2 from './private/l2.js';
import { type AppMeshRender, renderAppMeshForCdk } from './private/render.js';

/** The warning every App Mesh construct tree carries, once. */
export const APP_MESH_DISCONTINUED =
  'AWS discontinued App Mesh on 2026-09-30 (no new customers since 2024-09-24). ECS users migrate to ' +
  'ECS Service Connect, EKS users to Amazon VPC Lattice. crossmesh still renders App Mesh for existing ' +
  'stacks and migrations.';

/**
 * Value of the `crossmesh:managed` tag on resources this construct creates. Not `true`: these
 * resources belong to CloudFormation, so `crossmesh apply --target appmesh` must treat them as
 * unmanaged and refuse to touch them (TARGET_E_NOT_MANAGED) rather than fight the stack.
 */
export const CLOUDFORMATION_MANAGED_VALUE = 'cloudformation';

/** Props of {@link CrossmeshAppMesh}. */
export interface CrossmeshAppMeshProps {
  /**
   * The mesh, as written (`defineMesh({...})`) or already canonical. A mesh parsed from JSON or
   * YAML is typed `MeshInput` by the caller: it is validated and canonicalized here either way,
   * and problems throw one MeshError naming every field.
   */
  readonly mesh: MeshInput | Mesh;
  /** App Mesh render options: discovery (`cloudmap` or `dns`), namespace, certificate source. @default - Cloud Map discovery, SDS certificates */
  readonly options?: AppMeshOptions;
  /**
   * Render without the features App Mesh cannot express instead of failing. Each dropped
   * feature becomes a synth warning on this construct (never silent).
   * @default false - unsupported features fail with TARGET_E_UNSUPPORTED
   */
  readonly allowDrop?: boolean;
  /**
   * The VPC of a private DNS Cloud Map namespace (`options.namespaceType: 'private-dns'`), for a
   * VPC defined in this app (its id is then unknown until deployment).
   * @default - the VPC whose id is `options.vpc`, imported by id
   */
  readonly vpc?: ec2.IVpc;
}

/**
 * What the renderer is told as the VPC id when the VPC is a construct whose id is only known at
 * deployment: the renderer only checks and echoes the id; the namespace takes the construct.
 */
const UNRESOLVED_VPC_ID = 'vpc-0';

/** One model service as constructs. */
interface ServiceConstructs {
  /** Parent of the service's constructs. */
  readonly scope: Construct;
  readonly router: appmesh.VirtualRouter;
  readonly virtualService: appmesh.VirtualService;
  readonly nodes: Map<string, appmesh.VirtualNode>;
  readonly routes: Map<string, appmesh.Route>;
  readonly cloudMapService?: servicediscovery.Service;
}

/**
 * The crossmesh model rendered through aws-cdk-lib's `aws_appmesh` and `aws_servicediscovery`
 * L2 constructs: a Mesh; per service a VirtualRouter with its Routes, a VirtualService and one
 * VirtualNode per version; per gateway a VirtualGateway with its GatewayRoutes; with Cloud Map
 * discovery an HttpNamespace with one Service per model service.
 */
export class CrossmeshAppMesh extends Construct {
  /** The canonical model the constructs were rendered from. */
  readonly model: Mesh;
  /** The App Mesh render (the same objects `crossmesh apply --target appmesh` creates). */
  readonly resources: AppMeshResources;
  /** Features left out under `allowDrop` (each also a synth warning). */
  readonly dropped: readonly DroppedFeature[];
  /** The App Mesh mesh. */
  readonly mesh: appmesh.Mesh;
  /** The Cloud Map namespace, when discovery is Cloud Map. */
  readonly namespace?: servicediscovery.HttpNamespace | servicediscovery.PrivateDnsNamespace;

  private readonly services = new Map<string, ServiceConstructs>();
  private readonly gateways = new Map<
    string,
    { gateway: appmesh.VirtualGateway; routes: appmesh.GatewayRoute[] }
  >();

  constructor(scope: Construct, id: string, props: CrossmeshAppMeshProps) {
    super(scope, id);
    const options = props.options ?? {};
    if (props.vpc !== undefined && options.namespaceType !== 'private-dns') {
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: vpc is only used by a private DNS Cloud Map namespace, and options.namespaceType is ${JSON.stringify(options.namespaceType ?? 'http')}`,
        {
          path: 'options.namespaceType',
          value: options.namespaceType ?? 'http',
          allowed: '"private-dns" with vpc',
        },
      );
    }
    const vpcId =
      props.vpc === undefined || options.vpc !== undefined
        ? options.vpc
        : Token.isUnresolved(props.vpc.vpcId)
          ? UNRESOLVED_VPC_ID
          : props.vpc.vpcId;
    const rendered = this.guard('', () =>
      renderAppMeshForCdk(
        props.mesh,
        { ...options, ...(vpcId === undefined ? {} : { vpc: vpcId }) },
        props.allowDrop === true,
      ),
    );
    this.model = rendered.mesh;
    this.resources = rendered.resources;
    this.dropped = rendered.dropped;
    this.annotate(rendered.approximated);
    const res = this.resources;

    this.mesh = this.guard(
      '',
      () =>
        new appmesh.Mesh(this, 'Mesh', {
          meshName: res.mesh.meshName,
          egressFilter:
            res.mesh.spec.egressFilter.type === 'DROP_ALL'
              ? appmesh.MeshFilterType.DROP_ALL
              : appmesh.MeshFilterType.ALLOW_ALL,
          serviceDiscovery: {
            ipPreference: l2.ipPreference(res.mesh.spec.serviceDiscovery.ipPreference),
          },
        }),
    );

    // Creation order follows references: Cloud Map services before the nodes that discover
    // through them, routers and virtual services before node backends, nodes before routes.
    const cloudMap = this.buildCloudMap(props.vpc);
    if (cloudMap !== undefined) this.namespace = cloudMap.namespace;
    const resolveService = this.buildServices(cloudMap?.services ?? new Map());
    const resolveNode = this.buildNodes(resolveService);
    this.buildRoutes(resolveNode);
    this.buildGateways(resolveService);

    for (const tag of res.tags) {
      Tags.of(this).add(tag.key, tag.key === MANAGED_TAG ? CLOUDFORMATION_MANAGED_VALUE : tag.value);
    }
  }

  /** The virtual node of one version of a service. @throws MeshError TARGET_E_OPTION for an unknown service or version */
  virtualNode(service: string, version: string): appmesh.VirtualNode {
    const node = this.serviceConstructs(service).nodes.get(version);
    if (node === undefined) {
      const versions = [...this.serviceConstructs(service).nodes.keys()].join(', ');
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: service ${JSON.stringify(service)} has no version ${JSON.stringify(version)}; versions: ${versions}`,
        { path: `services.${service}.versions.${version}`, value: version, allowed: versions },
      );
    }
    return node;
  }

  /** The virtual router of a service. @throws MeshError TARGET_E_OPTION for an unknown service */
  virtualRouter(service: string): appmesh.VirtualRouter {
    return this.serviceConstructs(service).router;
  }

  /** The virtual service of a service (named by its mesh hostname). @throws MeshError TARGET_E_OPTION for an unknown service */
  virtualService(service: string): appmesh.VirtualService {
    return this.serviceConstructs(service).virtualService;
  }

  /** A route of a service's router, by model route name. @throws MeshError TARGET_E_OPTION when it does not exist */
  route(service: string, route: string): appmesh.Route {
    const built = this.serviceConstructs(service).routes.get(route);
    if (built === undefined) {
      const names = [...this.serviceConstructs(service).routes.keys()].join(', ');
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: service ${JSON.stringify(service)} has no route ${JSON.stringify(route)}; routes: ${names}`,
        {
          path: `services.${service}.routes`,
          value: route,
          allowed: names,
        },
      );
    }
    return built;
  }

  /** The Cloud Map service of a service. @throws MeshError TARGET_E_OPTION for an unknown service or with DNS discovery */
  cloudMapService(service: string): servicediscovery.Service {
    const cloudMap = this.serviceConstructs(service).cloudMapService;
    if (cloudMap === undefined) {
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: discovery is DNS, so service ${JSON.stringify(service)} has no Cloud Map service`,
        {
          path: 'options.discovery',
          value: 'dns',
          allowed: 'cloudmap',
        },
      );
    }
    return cloudMap;
  }

  /** The virtual gateway of a model gateway. @throws MeshError TARGET_E_OPTION for an unknown gateway */
  virtualGateway(gateway: string): appmesh.VirtualGateway {
    const built = this.gateways.get(gateway);
    if (built === undefined) {
      const names = [...this.gateways.keys()].join(', ') || 'none';
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: no gateway ${JSON.stringify(gateway)}; gateways: ${names}`,
        {
          path: `gateways.${gateway}`,
          value: gateway,
          allowed: names,
        },
      );
    }
    return built.gateway;
  }

  /** The gateway routes of a model gateway. @throws MeshError TARGET_E_OPTION for an unknown gateway */
  gatewayRoutes(gateway: string): readonly appmesh.GatewayRoute[] {
    this.virtualGateway(gateway);
    return this.gateways.get(gateway)?.routes ?? [];
  }

  /** The listener ports of a gateway (what its Envoy task exposes). @throws MeshError TARGET_E_OPTION for an unknown gateway */
  gatewayPorts(gateway: string): readonly number[] {
    this.virtualGateway(gateway);
    return (this.model.gateways?.[gateway]?.listeners ?? []).map((l) => l.port);
  }

  /** The ports a service listens on, primary first (what a sidecar redirects). @throws MeshError TARGET_E_OPTION for an unknown service */
  servicePorts(service: string): readonly number[] {
    this.serviceConstructs(service);
    return (this.model.services[service]?.ports ?? []).map((p) => p.port);
  }

  /** The discontinuation, each dropped use (warnings) and each approximated feature (info). */
  private annotate(approximatedUses: AppMeshRender['approximated']): void {
    Annotations.of(this).addWarningV2('crossmesh:appmesh-discontinued', APP_MESH_DISCONTINUED);
    annotateRender(this, 'App Mesh', this.dropped, approximatedUses);
  }

  /**
   * The Cloud Map namespace (HTTP, or private DNS in a VPC) and one service per model service, with
   * the rendered DNS records in a private DNS namespace. Cloud Map discovery only.
   */
  private buildCloudMap(vpc: ec2.IVpc | undefined):
    | {
        namespace: servicediscovery.HttpNamespace | servicediscovery.PrivateDnsNamespace;
        services: Map<string, servicediscovery.Service>;
      }
    | undefined {
    const cloudMap = this.resources.cloudMap;
    if (cloudMap === undefined) return undefined;
    const ns = cloudMap.namespace;
    const services = new Map<string, servicediscovery.Service>();
    if (ns.type === 'private-dns') {
      const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
        name: ns.name,
        description: ns.description,
        // The namespace only reads the VPC id; the zones are the stack's, as aws-cdk-lib requires some.
        vpc:
          vpc ??
          ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
            vpcId: ns.vpc ?? '',
            availabilityZones: Stack.of(this).availabilityZones,
          }),
      });
      for (const svc of cloudMap.services) {
        services.set(
          svc.name,
          this.guard(`services.${svc.name}`, () =>
            namespace.createService(`Service-${svc.name}`, {
              name: svc.name,
              description: svc.description,
              ...l2.cloudMapDns(svc.dns),
            }),
          ),
        );
      }
      return { namespace, services };
    }
    const namespace = new servicediscovery.HttpNamespace(this, 'Namespace', {
      name: ns.name,
      description: ns.description,
    });
    for (const svc of cloudMap.services) {
      services.set(
        svc.name,
        namespace.createService(`Service-${svc.name}`, { name: svc.name, description: svc.description }),
      );
    }
    return { namespace, services };
  }

  /** Per service: its construct scope, virtual router and virtual service. Returns a resolver by virtual service name. */
  private buildServices(
    cloudMapServices: ReadonlyMap<string, servicediscovery.Service>,
  ): l2.Resolve<appmesh.VirtualService> {
    const res = this.resources;
    // Routers and virtual services first: node backends refer to virtual services, routes to nodes.
    const serviceByVsName = new Map<string, appmesh.VirtualService>();
    for (const router of res.virtualRouters) {
      const path = `services.${router.service}`;
      const scope = new Construct(this, `Service-${router.service}`);
      const virtualRouter = this.guard(
        path,
        () =>
          new appmesh.VirtualRouter(scope, 'Router', {
            mesh: this.mesh,
            virtualRouterName: router.virtualRouterName,
            listeners: router.spec.listeners.map((l) => l2.virtualRouterListener(l.portMapping)),
          }),
      );
      const rendered = res.virtualServices.find((vs) => vs.service === router.service);
      if (rendered === undefined)
        throw new RangeError(`the App Mesh render has no virtual service for ${router.service}`);
      const virtualService = new appmesh.VirtualService(scope, 'VirtualService', {
        virtualServiceName: rendered.virtualServiceName,
        virtualServiceProvider: appmesh.VirtualServiceProvider.virtualRouter(virtualRouter),
      });
      serviceByVsName.set(rendered.virtualServiceName, virtualService);
      const cloudMapService = cloudMapServices.get(router.service);
      this.services.set(router.service, {
        scope,
        router: virtualRouter,
        virtualService,
        nodes: new Map(),
        routes: new Map(),
        ...(cloudMapService === undefined ? {} : { cloudMapService }),
      });
    }
    return (name: string): appmesh.VirtualService => {
      const vs = serviceByVsName.get(name);
      if (vs === undefined)
        throw new RangeError(`the App Mesh render refers to an unknown virtual service ${name}`);
      return vs;
    };
  }

  /** One virtual node per version. Returns a resolver by virtual node name. */
  private buildNodes(resolveService: l2.Resolve<appmesh.VirtualService>): l2.Resolve<appmesh.VirtualNode> {
    const nodeByName = new Map<string, appmesh.VirtualNode>();
    for (const node of this.resources.virtualNodes) {
      const path = `services.${node.service}.versions.${node.version}`;
      const service = this.serviceConstructs(node.service);
      const spec = node.spec;
      const discovery = spec.serviceDiscovery;
      const serviceDiscovery =
        'dns' in discovery
          ? appmesh.ServiceDiscovery.dns(discovery.dns.hostname)
          : appmesh.ServiceDiscovery.cloudMap(
              this.cloudMapService(node.service),
              Object.fromEntries((discovery.awsCloudMap.attributes ?? []).map((a) => [a.key, a.value])),
            );
      const defaultsPolicy = l2.tlsClientPolicy(spec.backendDefaults?.clientPolicy);
      const virtualNode = this.guard(
        path,
        () =>
          new appmesh.VirtualNode(service.scope, `Node-${node.version}`, {
            mesh: this.mesh,
            virtualNodeName: node.virtualNodeName,
            serviceDiscovery,
            listeners: spec.listeners.map(l2.virtualNodeListener),
            backends: (spec.backends ?? []).map((b) => {
              const policy = l2.tlsClientPolicy(b.virtualService.clientPolicy);
              return appmesh.Backend.virtualService(
                resolveService(b.virtualService.virtualServiceName),
                policy === undefined ? {} : { tlsClientPolicy: policy },
              );
            }),
            ...(defaultsPolicy === undefined ? {} : { backendDefaults: { tlsClientPolicy: defaultsPolicy } }),
            ...(spec.logging === undefined ? {} : { accessLog: l2.accessLog(spec.logging) }),
          }),
      );
      // The L2 writes backend names as plain strings; App Mesh wants the virtual service to exist.
      for (const backend of spec.backends ?? []) {
        virtualNode.node.addDependency(resolveService(backend.virtualService.virtualServiceName));
      }
      service.nodes.set(node.version, virtualNode);
      nodeByName.set(node.virtualNodeName, virtualNode);
    }
    return (name: string): appmesh.VirtualNode => {
      const vn = nodeByName.get(name);
      if (vn === undefined)
        throw new RangeError(`the App Mesh render refers to an unknown virtual node ${name}`);
      return vn;
    };
  }

  /** The routes of every virtual router. */
  private buildRoutes(resolveNode: l2.Resolve<appmesh.VirtualNode>): void {
    const res = this.resources;
    for (const route of res.routes) {
      const service = this.serviceConstructs(route.service);
      const index = (this.model.services[route.service]?.routes ?? []).findIndex(
        (r) => r.name === route.route,
      );
      const path = `services.${route.service}.routes[${index}]`;
      const listeners = res.virtualRouters.find((r) => r.service === route.service)?.spec.listeners ?? [];
      const onlyPort = listeners.length === 1 ? listeners[0]?.portMapping.port : undefined;
      // Not `router.addRoute()`: it names the route after its construct id, ignoring routeName.
      const built = this.guard(
        path,
        () =>
          new appmesh.Route(service.router, `Route-${route.route}`, {
            mesh: this.mesh,
            virtualRouter: service.router,
            routeName: route.routeName,
            routeSpec: l2.routeSpec(route.spec, resolveNode, onlyPort),
          }),
      );
      service.routes.set(route.route, built);
    }
  }

  /** One virtual gateway per model gateway, with its routes. */
  private buildGateways(resolveService: l2.Resolve<appmesh.VirtualService>): void {
    const res = this.resources;
    for (const gw of res.virtualGateways) {
      const path = `gateways.${gw.gateway}`;
      const spec = gw.spec;
      const defaultsPolicy = l2.tlsClientPolicy(spec.backendDefaults?.clientPolicy);
      const gateway = this.guard(
        path,
        () =>
          new appmesh.VirtualGateway(this, `Gateway-${gw.gateway}`, {
            mesh: this.mesh,
            virtualGatewayName: gw.virtualGatewayName,
            listeners: spec.listeners.map(l2.virtualGatewayListener),
            ...(defaultsPolicy === undefined ? {} : { backendDefaults: { tlsClientPolicy: defaultsPolicy } }),
            ...(spec.logging === undefined ? {} : { accessLog: l2.accessLog(spec.logging) }),
          }),
      );
      const onlyPort = spec.listeners.length === 1 ? spec.listeners[0]?.portMapping.port : undefined;
      // aws-cdk-lib refuses every route of a gateway it owns once that gateway has several
      // listeners, even routes that match a port (its check never reads the match). The renderer
      // gives each such route its listener's port, so the routes attach through a reference to
      // the same gateway, which that check skips, with the ordering made explicit.
      const parent =
        spec.listeners.length > 1
          ? appmesh.VirtualGateway.fromVirtualGatewayAttributes(this, `Gateway-${gw.gateway}-Ref`, {
              virtualGatewayName: gw.virtualGatewayName,
              mesh: this.mesh,
            })
          : gateway;
      const routes = res.gatewayRoutes
        .filter((r) => r.gateway === gw.gateway)
        .map((r) => {
          const index = (this.model.gateways?.[gw.gateway]?.routes ?? []).findIndex(
            (m) => m.name === r.route,
          );
          const route = this.guard(
            `${path}.routes[${index}]`,
            () =>
              new appmesh.GatewayRoute(gateway, `Route-${r.gatewayRouteName}`, {
                virtualGateway: parent,
                gatewayRouteName: r.gatewayRouteName,
                routeSpec: l2.gatewayRouteSpec(r.spec, resolveService, onlyPort),
              }),
          );
          // On the gateway's resource, not the construct: the routes are its children.
          if (parent !== gateway) route.node.addDependency(gateway.node.defaultChild as IConstruct);
          return route;
        });
      this.gateways.set(gw.gateway, { gateway, routes });
    }
  }

  private serviceConstructs(service: string): ServiceConstructs {
    const found = this.services.get(service);
    if (found === undefined) {
      const names = [...this.services.keys()].join(', ');
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: mesh has no service ${JSON.stringify(service)}; services: ${names}`,
        {
          path: `services.${service}`,
          value: service,
          allowed: names,
        },
      );
    }
    return found;
  }

  /**
   * Runs a build step and turns any failure into a MeshError that carries this construct's
   * path and the model path, so a refusal by aws-cdk-lib reads like any other crossmesh error.
   */
  private guard<T>(modelPath: string, build: () => T): T {
    try {
      return build();
    } catch (error) {
      if (error instanceof MeshError) {
        const prefix = `${this.node.path}: `;
        throw new MeshError(error.code, `${prefix}${error.message}`, {
          path: error.path,
          problems: error.problems,
          cause: error,
          ...(error.value === undefined ? {} : { value: error.value }),
          ...(error.allowed === undefined ? {} : { allowed: error.allowed }),
        });
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new MeshError(
        'TARGET_E_UNSUPPORTED',
        `${this.node.path}: aws-cdk-lib refused ${modelPath || 'the mesh'}: ${reason}`,
        {
          path: modelPath,
          cause: error,
        },
      );
    }
  }
}
