/**
 * The shop (examples/shop/mesh.ts) as a CDK app:
 * - `ShopMesh`: the mesh as App Mesh and Cloud Map resources (CrossmeshAppMeshStack), plus the
 *   same mesh's Traffic Director manifest in the cloud assembly;
 * - `ShopWorkloads`: one Fargate task definition per service version, each with its App Mesh
 *   Envoy sidecar and proxy configuration, and one per ingress gateway running its Envoy.
 *
 * Versions are labelled with their ECS task definition family (`withEcsVersionLabels`): ECS service
 * discovery registers tasks in Cloud Map with that attribute and never with custom labels.
 *
 * The shop restricts callers by HTTP method, which App Mesh cannot express, so the mesh is
 * rendered with `allowDrop`: `cdk synth` prints that as a warning instead of failing.
 * AWS discontinued App Mesh on 2026-09-30; see docs/targets/cdk.md for migrating.
 */
import { type App, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import {
  addAppMeshGateway,
  addAppMeshSidecar,
  type CrossmeshAppMesh,
  CrossmeshAppMeshStack,
  CrossmeshTrafficDirectorManifest,
  ecsTaskFamily,
  withEcsVersionLabels,
} from '../../../cdk/index.js';
import shop from '../../shop/mesh.js';

/**
 * Where the SPIRE agent's Workload API socket is mounted in the task (the App Mesh SPIRE
 * integration's usual path); running the SPIRE agent and mounting its socket is deployment work
 * this example leaves out.
 */
const SPIRE_AGENT_SOCKET = '/run/spire/sockets/agent.sock';

/** Context key of the GCP project the Traffic Director manifest targets. */
export const GCP_PROJECT_CONTEXT = 'crossmesh:gcpProject';

/** Props of {@link ShopWorkloadsStack}. */
interface ShopWorkloadsProps extends StackProps {
  /** The mesh the sidecars join. */
  readonly mesh: CrossmeshAppMesh;
}

/** One Fargate task definition per service version with its Envoy sidecar, and one per gateway. */
class ShopWorkloadsStack extends Stack {
  constructor(scope: Construct, id: string, props: ShopWorkloadsProps) {
    super(scope, id, props);
    const model = props.mesh.model;
    for (const service of Object.keys(model.services).sort()) {
      const ports = props.mesh.servicePorts(service);
      for (const version of Object.keys(model.services[service]?.versions ?? {}).sort()) {
        const task = new ecs.FargateTaskDefinition(this, `${service}-${version}`, {
          // The family is what ECS service discovery registers and the virtual node selects.
          family: ecsTaskFamily(model.name, service, version),
          cpu: 256,
          memoryLimitMiB: 512,
        });
        task.addContainer('app', {
          image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:20-alpine'),
          command: ['node', `services/${service}.mjs`],
          environment: { PORT: String(ports[0]), SERVICE: service, VERSION: version },
          portMappings: ports.map((containerPort) => ({ containerPort })),
          essential: true,
        });
        // The shop's strict mTLS takes certificates from SDS: Envoy needs the SPIRE agent's socket.
        addAppMeshSidecar(task, { mesh: props.mesh, service, version, sdsSocketPath: SPIRE_AGENT_SOCKET });
      }
    }
    for (const gateway of Object.keys(model.gateways ?? {}).sort()) {
      const task = new ecs.FargateTaskDefinition(this, `gateway-${gateway}`, {
        cpu: 256,
        memoryLimitMiB: 512,
      });
      addAppMeshGateway(task, { mesh: props.mesh, gateway, sdsSocketPath: SPIRE_AGENT_SOCKET });
    }
  }
}

/** Adds the shop's stacks to `app`. */
export function buildShopApp(app: App): { readonly mesh: CrossmeshAppMeshStack; readonly workloads: Stack } {
  // ECS registers tasks in Cloud Map by task definition family, not by the shop's version labels.
  const mesh = new CrossmeshAppMeshStack(app, 'ShopMesh', {
    mesh: withEcsVersionLabels(shop),
    allowDrop: true,
  });
  const project = String(app.node.tryGetContext(GCP_PROJECT_CONTEXT) ?? 'crossmesh-example');
  new CrossmeshTrafficDirectorManifest(mesh, 'TrafficDirector', { mesh: shop, project, allowDrop: true });
  const workloads = new ShopWorkloadsStack(app, 'ShopWorkloads', { mesh: mesh.appMesh });
  return { mesh, workloads };
}
