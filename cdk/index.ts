/**
 * crossmesh for aws-cdk-lib users: the mesh model as App Mesh L2 constructs, the ECS sidecar of a
 * service version, and the Traffic Director manifest in the cloud assembly. See docs/targets/cdk.md.
 */
export {
  APP_MESH_DISCONTINUED,
  CLOUDFORMATION_MANAGED_VALUE,
  CrossmeshAppMesh,
  type CrossmeshAppMeshProps,
} from './crossmesh-mesh.js';
export {
  APP_MESH_ENVOY_IMAGE,
  type AppMeshGateway,
  type AppMeshGatewayOptions,
  type AppMeshSidecar,
  type AppMeshSidecarOptions,
  addAppMeshGateway,
  addAppMeshSidecar,
  ECS_CLOUD_MAP_ATTRIBUTES,
  EGRESS_IGNORED_IPS,
  ENVOY_EGRESS_PORT,
  ENVOY_INGRESS_PORT,
  ENVOY_UID,
  type EnvoyContainerOptions,
  type EnvoyLogLevel,
  ecsTaskFamily,
  withEcsVersionLabels,
} from './ecs.js';
export { CrossmeshAppMeshStack, type CrossmeshAppMeshStackProps } from './mesh-stack.js';
export {
  CrossmeshTrafficDirectorManifest,
  type CrossmeshTrafficDirectorManifestProps,
  TRAFFIC_DIRECTOR_METADATA,
} from './traffic-director-manifest.js';
