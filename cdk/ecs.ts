/**
 * What an App Mesh user on ECS needs next: the Envoy sidecar of one service version, its proxy
 * configuration (traffic redirection), container ordering and the IAM permission Envoy needs to
 * fetch its configuration from App Mesh.
 *
 * AWS discontinued App Mesh on 2026-09-30. ECS users migrate to ECS Service Connect, EKS users to
 * Amazon VPC Lattice (docs/targets/cdk.md). This helper exists for stacks that still run App Mesh
 * and for migrations.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { VirtualNodeSpec } from '../adapters/appmesh/types.js';
import { MeshError } from '../errors/index.js';
import type { Mesh, MeshInput } from '../model/types.js';
import type { CrossmeshAppMesh } from './crossmesh-mesh.js';

/**
 * The pinned App Mesh Envoy image. v1.29.9.0-prod is the last release AWS announced
 * (aws/aws-app-mesh-roadmap#499, November 2024); App Mesh receives no newer images after its
 * discontinuation, so pinning the last one is deliberate, never `latest`.
 */
export const APP_MESH_ENVOY_IMAGE = 'public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.9.0-prod';

/** The UID Envoy runs as; the proxy configuration exempts it from redirection so Envoy's own traffic is not looped. */
export const ENVOY_UID = 1337;
/** Port Envoy listens on for redirected inbound traffic. */
export const ENVOY_INGRESS_PORT = 15000;
/** Port Envoy listens on for redirected outbound traffic. */
export const ENVOY_EGRESS_PORT = 15001;
/**
 * Link-local addresses that must bypass Envoy: the ECS task metadata / credentials endpoint and
 * the EC2 instance metadata service. Redirecting them breaks IAM credentials for the app.
 */
export const EGRESS_IGNORED_IPS: readonly string[] = ['169.254.170.2', '169.254.169.254'];

/**
 * The only attributes ECS service discovery puts on the Cloud Map instances it registers for a
 * task (ECS developer guide, "Service discovery"). A virtual node that selects instances by any
 * other attribute (the model's default label `version`) finds no ECS task at all.
 */
export const ECS_CLOUD_MAP_ATTRIBUTES: readonly string[] = [
  'AVAILABILITY_ZONE',
  'AWS_INSTANCE_IPV4',
  'AWS_INSTANCE_IPV6',
  'AWS_INSTANCE_PORT',
  'EC2_INSTANCE_ID',
  'ECS_CLUSTER_NAME',
  'ECS_SERVICE_NAME',
  'ECS_TASK_DEFINITION_FAMILY',
  'REGION',
];

/** The task definition family {@link withEcsVersionLabels} gives a version: `<mesh>-<service>-<version>`. */
export function ecsTaskFamily(mesh: string, service: string, version: string): string {
  return `${mesh}-${service}-${version}`;
}

/**
 * Returns a copy of a mesh whose versions are told apart by the task definition family ECS
 * registers (`ECS_TASK_DEFINITION_FAMILY: <mesh>-<service>-<version>`) instead of their labels,
 * so App Mesh's Cloud Map discovery finds tasks that ECS service discovery registered. Create each
 * version's task definition with `family: ecsTaskFamily(mesh, service, version)`.
 */
export function withEcsVersionLabels<T extends MeshInput | Mesh>(mesh: T): T {
  const services = Object.fromEntries(
    Object.entries(mesh.services).map(([name, service]) => [
      name,
      {
        ...service,
        versions: Object.fromEntries(
          Object.entries(service.versions).map(([version, spec]) => [
            version,
            { ...spec, labels: { ECS_TASK_DEFINITION_FAMILY: ecsTaskFamily(mesh.name, name, version) } },
          ]),
        ),
      },
    ]),
  );
  return { ...mesh, services };
}

/** Envoy log levels the App Mesh image accepts in `ENVOY_LOG_LEVEL`. */
export type EnvoyLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';

/** Envoy container settings shared by sidecars and gateways. */
export interface EnvoyContainerOptions {
  /** Envoy container image. @default - {@link APP_MESH_ENVOY_IMAGE} */
  readonly image?: ecs.ContainerImage;
  /** Name of the Envoy container. @default - `envoy` */
  readonly containerName?: string;
  /** Soft memory limit of the Envoy container, in MiB (EC2 tasks need one). @default - 256 */
  readonly memoryReservationMiB?: number;
  /** Envoy log level. @default - `info` */
  readonly logLevel?: EnvoyLogLevel;
  /** Where Envoy's stdout/stderr go (access logs written to /dev/stdout end up there). @default - no log driver */
  readonly logging?: ecs.LogDriver;
  /**
   * Unix socket of the SDS server (the SPIRE agent) Envoy fetches certificates from, passed as
   * `APPMESH_SDS_SOCKET_PATH`. Needed when the mesh renders SDS certificates (mTLS with the
   * default `certificates: 'sds'`); mounting the socket into the task is up to you.
   * @default - no SDS socket; a synth warning when the virtual node or gateway uses SDS
   */
  readonly sdsSocketPath?: string;
}

/** Options for {@link addAppMeshSidecar}. */
export interface AppMeshSidecarOptions extends EnvoyContainerOptions {
  /** The mesh construct that declares the service. */
  readonly mesh: CrossmeshAppMesh;
  /** Service name in the mesh model. */
  readonly service: string;
  /** Version name of that service; the sidecar serves this version's virtual node. */
  readonly version: string;
  /**
   * Containers that must start after Envoy is healthy (their traffic is redirected through it).
   * @default - the task definition's default container (the first essential container added)
   */
  readonly appContainers?: readonly ecs.ContainerDefinition[];
}

/** What {@link addAppMeshSidecar} added. */
export interface AppMeshSidecar {
  /** The Envoy container. */
  readonly container: ecs.ContainerDefinition;
  /** The proxy configuration set on the task definition. */
  readonly proxyConfiguration: ecs.AppMeshProxyConfiguration;
  /** Ports of the application Envoy forwards inbound traffic to (the service's ports). */
  readonly appPorts: readonly number[];
}

/**
 * Attaches the Envoy sidecar of `service`/`version` to an ECS task definition: the Envoy
 * container (pinned image, `APPMESH_RESOURCE_ARN` of the version's virtual node, health check on
 * Envoy's admin `server_info`, UID 1337, nofile ulimit), the App Mesh proxy configuration
 * (redirection of the service's ports through Envoy; Envoy's UID and the metadata endpoints
 * exempt), a HEALTHY start-up dependency of the app containers on Envoy, and
 * `appmesh:StreamAggregatedResources` on the virtual node for the task role.
 *
 * Why the proxy configuration is set on the task definition's L1 resource: aws-cdk-lib accepts
 * `proxyConfiguration` only in the TaskDefinition constructor, while the sidecar needs the virtual
 * node that exists only once the mesh is built. The configuration itself is still rendered by the
 * L2 `AppMeshProxyConfiguration`.
 *
 * @throws MeshError TARGET_E_OPTION when the service or version is unknown, the task definition is
 *   not in `awsvpc` network mode, it already has a proxy configuration, or it has no app container.
 */
export function addAppMeshSidecar(
  taskDefinition: ecs.TaskDefinition,
  options: AppMeshSidecarOptions,
): AppMeshSidecar {
  const where = taskDefinition.node.path;
  const virtualNode = options.mesh.virtualNode(options.service, options.version);
  const appPorts = options.mesh.servicePorts(options.service);

  if (taskDefinition.networkMode !== ecs.NetworkMode.AWS_VPC) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${where}: App Mesh proxy configuration needs network mode awsvpc, got ${JSON.stringify(taskDefinition.networkMode)}`,
      { path: 'networkMode', value: taskDefinition.networkMode, allowed: 'awsvpc' },
    );
  }
  const cfnTask = taskDefinition.node.defaultChild;
  if (!(cfnTask instanceof ecs.CfnTaskDefinition)) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${where}: is an imported task definition; the sidecar needs one defined in this app`,
      {
        path: 'taskDefinition',
      },
    );
  }
  if (cfnTask.proxyConfiguration !== undefined) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${where}: already has a proxy configuration; a task definition carries one mesh sidecar`,
      { path: 'proxyConfiguration', allowed: 'a task definition without proxyConfiguration' },
    );
  }
  const appContainers =
    options.appContainers ?? (taskDefinition.defaultContainer ? [taskDefinition.defaultContainer] : []);
  if (appContainers.length === 0) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${where}: has no app container; add the service's container before the sidecar, or pass appContainers`,
      { path: 'appContainers', allowed: 'at least one container' },
    );
  }

  const rendered = options.mesh.resources.virtualNodes.find(
    (n) => n.service === options.service && n.version === options.version,
  );
  checkCloudMapAttributes(taskDefinition, options, rendered?.spec);
  checkSds(taskDefinition, options, rendered?.spec, `services.${options.service}`);

  const { container, containerName } = addEnvoyContainer(
    taskDefinition,
    virtualNode.virtualNodeArn,
    options,
    true,
  );
  for (const app of appContainers) {
    app.addContainerDependencies({ container, condition: ecs.ContainerDependencyCondition.HEALTHY });
  }

  const proxyConfiguration = new ecs.AppMeshProxyConfiguration({
    containerName,
    properties: {
      ignoredUID: ENVOY_UID,
      proxyIngressPort: ENVOY_INGRESS_PORT,
      proxyEgressPort: ENVOY_EGRESS_PORT,
      appPorts: [...appPorts],
      egressIgnoredIPs: [...EGRESS_IGNORED_IPS],
    },
  });
  cfnTask.proxyConfiguration = proxyConfiguration.bind(taskDefinition, taskDefinition);
  // APPMESH_RESOURCE_ARN references the virtual node, so CloudFormation creates the node first.
  virtualNode.grantStreamAggregatedResources(taskDefinition.taskRole);

  return { container, proxyConfiguration, appPorts };
}

/**
 * With Cloud Map discovery, the version's virtual node only sees instances carrying all of its
 * attributes. ECS registers tasks with a fixed set of attributes, so a selector ECS never writes
 * is a warning (tasks registered by other means may still match), and a family selector that
 * names another family than this task definition's is an error: it can never match this task.
 */
function checkCloudMapAttributes(
  taskDefinition: ecs.TaskDefinition,
  options: AppMeshSidecarOptions,
  spec: VirtualNodeSpec | undefined,
): void {
  const discovery = spec?.serviceDiscovery;
  if (discovery === undefined || !('awsCloudMap' in discovery)) return;
  const attributes = discovery.awsCloudMap.attributes ?? [];
  const path = `services.${options.service}.versions.${options.version}.labels`;
  const family = attributes.find((a) => a.key === 'ECS_TASK_DEFINITION_FAMILY')?.value;
  if (family !== undefined && family !== taskDefinition.family) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${taskDefinition.node.path}: the virtual node of ${options.service}/${options.version} selects ECS_TASK_DEFINITION_FAMILY=${family}, but this task definition's family is ${JSON.stringify(taskDefinition.family)}`,
      {
        path,
        value: taskDefinition.family,
        allowed: `a task definition created with family ${JSON.stringify(family)}`,
      },
    );
  }
  const foreign = attributes.filter((a) => !ECS_CLOUD_MAP_ATTRIBUTES.includes(a.key));
  if (foreign.length > 0) {
    Annotations.of(taskDefinition).addWarningV2(
      'crossmesh:ecs-cloud-map-attributes',
      `${path}: the virtual node selects Cloud Map instances by ${foreign.map((a) => `${a.key}=${a.value}`).join(', ')}, ` +
        'which ECS service discovery never registers, so it will find no task ECS registers; ' +
        'label versions with withEcsVersionLabels() and create task definitions with family ecsTaskFamily(), ' +
        'or register the instances with these attributes yourself',
    );
  }
}

/** True when a rendered spec takes a certificate or trust from SDS anywhere. */
function usesSds(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(usesSds);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => key === 'sds' || usesSds(item));
}

/**
 * An Envoy whose virtual node or gateway takes certificates from SDS cannot start TLS without the
 * SDS socket; that is a synth warning, not an error, because the socket may be set by other means
 * (an image default, a later `addEnvironment`).
 */
function checkSds(
  taskDefinition: ecs.TaskDefinition,
  options: EnvoyContainerOptions,
  spec: unknown,
  path: string,
): void {
  if (options.sdsSocketPath !== undefined || !usesSds(spec)) return;
  Annotations.of(taskDefinition).addWarningV2(
    'crossmesh:sds-socket',
    `${path}: the mesh takes mTLS certificates from SDS, but the Envoy container has no APPMESH_SDS_SOCKET_PATH; ` +
      'pass sdsSocketPath (the SPIRE agent socket, e.g. /run/spire/sockets/agent.sock) and mount it, ' +
      "or render with options { certificates: 'file' }",
  );
}

/** Options for {@link addAppMeshGateway}. */
export interface AppMeshGatewayOptions extends EnvoyContainerOptions {
  /** The mesh construct that declares the gateway. */
  readonly mesh: CrossmeshAppMesh;
  /** Gateway name in the mesh model. */
  readonly gateway: string;
}

/** What {@link addAppMeshGateway} added. */
export interface AppMeshGateway {
  /** The Envoy container, with a port mapping per gateway listener. */
  readonly container: ecs.ContainerDefinition;
  /** The listener ports (put a load balancer in front of them). */
  readonly ports: readonly number[];
}

/**
 * Runs a model gateway's App Mesh virtual gateway on ECS: a standalone Envoy container (same
 * pinned image and health check as sidecars) serving the virtual gateway, with a port mapping
 * per listener, and `appmesh:StreamAggregatedResources` on the gateway for the task role.
 * A gateway is the edge itself, so it gets no proxy configuration: nothing is redirected.
 *
 * @throws MeshError TARGET_E_OPTION when the gateway is unknown
 */
export function addAppMeshGateway(
  taskDefinition: ecs.TaskDefinition,
  options: AppMeshGatewayOptions,
): AppMeshGateway {
  const gateway = options.mesh.virtualGateway(options.gateway);
  const ports = options.mesh.gatewayPorts(options.gateway);
  const rendered = options.mesh.resources.virtualGateways.find((g) => g.gateway === options.gateway);
  checkSds(taskDefinition, options, rendered?.spec, `gateways.${options.gateway}`);
  const { container } = addEnvoyContainer(taskDefinition, gateway.virtualGatewayArn, options, false);
  container.addPortMappings(...ports.map((containerPort) => ({ containerPort })));
  gateway.grantStreamAggregatedResources(taskDefinition.taskRole);
  return { container, ports };
}

/**
 * The Envoy container App Mesh documents for ECS: `APPMESH_RESOURCE_ARN` names the virtual node or
 * gateway Envoy fetches its configuration for; the health check passes once Envoy's admin reports
 * `state: LIVE`, i.e. once it has that configuration.
 */
function addEnvoyContainer(
  taskDefinition: ecs.TaskDefinition,
  resourceArn: string,
  options: EnvoyContainerOptions,
  sidecar: boolean,
): { container: ecs.ContainerDefinition; containerName: string } {
  const containerName = options.containerName ?? 'envoy';
  const container = taskDefinition.addContainer(containerName, {
    containerName,
    image: options.image ?? ecs.ContainerImage.fromRegistry(APP_MESH_ENVOY_IMAGE),
    essential: true,
    // Only a sidecar needs it (its UID is exempt from redirection); a gateway runs as the image's user.
    ...(sidecar ? { user: String(ENVOY_UID) } : {}),
    memoryReservationMiB: options.memoryReservationMiB ?? 256,
    environment: {
      APPMESH_RESOURCE_ARN: resourceArn,
      ENVOY_LOG_LEVEL: options.logLevel ?? 'info',
      ...(options.sdsSocketPath === undefined ? {} : { APPMESH_SDS_SOCKET_PATH: options.sdsSocketPath }),
    },
    healthCheck: {
      command: ['CMD-SHELL', 'curl -s http://localhost:9901/server_info | grep state | grep -q LIVE'],
      interval: Duration.seconds(5),
      timeout: Duration.seconds(2),
      retries: 3,
      startPeriod: Duration.seconds(10),
    },
    // AWS's Envoy guidance: one descriptor per upstream and downstream connection.
    ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 15000, hardLimit: 15000 }],
    ...(options.logging === undefined ? {} : { logging: options.logging }),
  });
  return { container, containerName };
}
