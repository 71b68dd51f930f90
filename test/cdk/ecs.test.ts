/**
 * addAppMeshSidecar: the Envoy sidecar, proxy configuration, container ordering and IAM of one
 * service version's ECS task definition.
 *
 * Real aws-cdk-lib synthesis read through `aws-cdk-lib/assertions`; nothing is stood in (the
 * artefact under test is the template; no container runs here, and no Docker engine exists).
 */
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, test } from 'vitest';
import { CrossmeshAppMesh } from '../../cdk/crossmesh-mesh.js';
import {
  APP_MESH_ENVOY_IMAGE,
  addAppMeshGateway,
  addAppMeshSidecar,
  ECS_CLOUD_MAP_ATTRIBUTES,
  ecsTaskFamily,
  withEcsVersionLabels,
} from '../../cdk/ecs.js';
import type { MeshInput } from '../../model/types.js';
import { testApp } from './helpers.js';

const mesh = {
  apiVersion: 'crossmesh/v1',
  name: 'm',
  services: {
    web: {
      ports: [
        { port: 8080, protocol: 'http' },
        { port: 9090, protocol: 'grpc' },
      ],
      versions: { v1: {}, v2: {} },
    },
  },
} satisfies MeshInput;

/** A stack with the mesh and a Fargate task definition holding an app container. */
function setup(taskProps: Partial<ecs.FargateTaskDefinitionProps> = {}) {
  const stack = new Stack(testApp(), 'S');
  const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh });
  const task = new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 256, memoryLimitMiB: 512, ...taskProps });
  const app = task.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('example/app:1'),
    essential: true,
  });
  return { stack, appMesh, task, app };
}

describe('addAppMeshSidecar', () => {
  test('adds the pinned Envoy container with the virtual node ARN, health check, UID 1337 and ulimits', () => {
    // GIVEN
    const { stack, appMesh, task } = setup();
    // WHEN
    const sidecar = addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v2' });
    // THEN
    expect(sidecar.appPorts).toEqual([8080, 9090]);
    const vnLogicalId = stack.getLogicalId(appMesh.virtualNode('web', 'v2').node.defaultChild as CfnElement);
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        { Name: 'app', DependsOn: [{ ContainerName: 'envoy', Condition: 'HEALTHY' }] },
        {
          Name: 'envoy',
          Image: APP_MESH_ENVOY_IMAGE,
          Essential: true,
          User: '1337',
          MemoryReservation: 256,
          Environment: [
            { Name: 'APPMESH_RESOURCE_ARN', Value: { Ref: vnLogicalId } },
            { Name: 'ENVOY_LOG_LEVEL', Value: 'info' },
          ],
          HealthCheck: {
            Command: ['CMD-SHELL', 'curl -s http://localhost:9901/server_info | grep state | grep -q LIVE'],
            Interval: 5,
            Timeout: 2,
            Retries: 3,
            StartPeriod: 10,
          },
          Ulimits: [{ Name: 'nofile', SoftLimit: 15000, HardLimit: 15000 }],
        },
      ],
    });
    expect(APP_MESH_ENVOY_IMAGE).toMatch(
      /^public\.ecr\.aws\/appmesh\/aws-appmesh-envoy:v\d+\.\d+\.\d+\.\d+-prod$/,
    );
  });

  test('sets the App Mesh proxy configuration: Envoy UID ignored, ingress/egress ports, app ports, metadata IPs bypassed', () => {
    // GIVEN
    const { stack, appMesh, task } = setup();
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'awsvpc',
      ProxyConfiguration: {
        Type: 'APPMESH',
        ContainerName: 'envoy',
        ProxyConfigurationProperties: Match.arrayEquals([
          { Name: 'IgnoredUID', Value: '1337' },
          { Name: 'ProxyIngressPort', Value: '15000' },
          { Name: 'ProxyEgressPort', Value: '15001' },
          { Name: 'AppPorts', Value: '8080,9090' },
          { Name: 'EgressIgnoredIPs', Value: '169.254.170.2,169.254.169.254' },
        ]),
      },
    });
  });

  test('grants appmesh:StreamAggregatedResources on the virtual node to the task role', () => {
    // GIVEN
    const { stack, appMesh, task } = setup();
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' });
    // THEN
    const vn = stack.getLogicalId(appMesh.virtualNode('web', 'v1').node.defaultChild as CfnElement);
    const role = stack.getLogicalId(task.taskRole.node.defaultChild as CfnElement);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'appmesh:StreamAggregatedResources', Effect: 'Allow', Resource: { Ref: vn } }],
      },
      Roles: [{ Ref: role }],
    });
  });

  test('options: custom image, container name, log level, memory, log driver and several app containers', () => {
    // GIVEN
    const { stack, appMesh, task, app } = setup();
    const worker = task.addContainer('worker', {
      image: ecs.ContainerImage.fromRegistry('example/worker:1'),
      essential: false,
    });
    // WHEN
    addAppMeshSidecar(task, {
      mesh: appMesh,
      service: 'web',
      version: 'v1',
      image: ecs.ContainerImage.fromRegistry('registry.example/envoy:pinned'),
      containerName: 'proxy',
      logLevel: 'debug',
      memoryReservationMiB: 128,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'envoy' }),
      appContainers: [app, worker],
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        { Name: 'app', DependsOn: [{ ContainerName: 'proxy', Condition: 'HEALTHY' }] },
        { Name: 'worker', DependsOn: [{ ContainerName: 'proxy', Condition: 'HEALTHY' }] },
        {
          Name: 'proxy',
          Image: 'registry.example/envoy:pinned',
          MemoryReservation: 128,
          Environment: Match.arrayWith([{ Name: 'ENVOY_LOG_LEVEL', Value: 'debug' }]),
          LogConfiguration: { LogDriver: 'awslogs' },
        },
      ],
      ProxyConfiguration: { ContainerName: 'proxy' },
    });
  });

  test('refuses a task definition outside awsvpc, with the construct path and TARGET_E_OPTION', () => {
    // GIVEN an EC2 task definition in bridge mode
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh });
    const task = new ecs.Ec2TaskDefinition(stack, 'Bridge', { networkMode: ecs.NetworkMode.BRIDGE });
    task.addContainer('app', {
      image: ecs.ContainerImage.fromRegistry('example/app:1'),
      memoryLimitMiB: 128,
    });
    // WHEN / THEN
    expect(() => addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' })).toThrow(
      expect.objectContaining({
        code: 'TARGET_E_OPTION',
        message: expect.stringMatching(/^S\/Bridge: .*awsvpc/),
        allowed: 'awsvpc',
      }),
    );
  });

  test('refuses a second sidecar, a task without app containers, and unknown services or versions', () => {
    // GIVEN
    const { appMesh, task } = setup();
    const stack = Stack.of(task);
    const empty = new ecs.FargateTaskDefinition(stack, 'Empty', { cpu: 256, memoryLimitMiB: 512 });
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' });
    // THEN
    expect(() => addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v2' })).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'proxyConfiguration' }),
    );
    expect(() => addAppMeshSidecar(empty, { mesh: appMesh, service: 'web', version: 'v1' })).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'appContainers' }),
    );
    expect(() => addAppMeshSidecar(empty, { mesh: appMesh, service: 'web', version: 'v3' })).toThrow(
      expect.objectContaining({
        code: 'TARGET_E_OPTION',
        path: 'services.web.versions.v3',
        allowed: 'v1, v2',
      }),
    );
    expect(() => addAppMeshSidecar(empty, { mesh: appMesh, service: 'db', version: 'v1' })).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'services.db' }),
    );
  });
});

describe('Cloud Map attributes ECS registers', () => {
  test('the default version labels draw a warning: ECS never registers them, so the node would find no task', () => {
    // GIVEN the model's default labels (version=v1) and Cloud Map discovery
    const { stack, appMesh, task } = setup();
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' });
    // THEN
    Annotations.fromStack(stack).hasWarning(
      '/S/Task',
      Match.stringLikeRegexp(
        'services.web.versions.v1.labels: .* by version=v1, which ECS service discovery never registers',
      ),
    );
  });

  test('withEcsVersionLabels selects by task definition family, which a task created with ecsTaskFamily matches', () => {
    // GIVEN versions labelled by family, and a task definition with that family
    const stack = new Stack(testApp(), 'S');
    const labelled = withEcsVersionLabels(mesh);
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: labelled });
    const task = new ecs.FargateTaskDefinition(stack, 'Task', {
      family: ecsTaskFamily('m', 'web', 'v2'),
      cpu: 256,
      memoryLimitMiB: 512,
    });
    task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('example/app:1') });
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v2' });
    // THEN the node selects the family, and nothing is left to warn about
    expect(labelled.services.web.versions).toEqual({
      v1: { labels: { ECS_TASK_DEFINITION_FAMILY: 'm-web-v1' } },
      v2: { labels: { ECS_TASK_DEFINITION_FAMILY: 'm-web-v2' } },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AppMesh::VirtualNode', {
      VirtualNodeName: 'web-v2',
      Spec: {
        ServiceDiscovery: {
          AWSCloudMap: { Attributes: [{ Key: 'ECS_TASK_DEFINITION_FAMILY', Value: 'm-web-v2' }] },
        },
      },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Family: 'm-web-v2' });
    Annotations.fromStack(stack).hasNoWarning('/S/Task', Match.anyValue());
  });

  test('a task definition of another family than the node selects is refused', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: withEcsVersionLabels(mesh) });
    const task = new ecs.FargateTaskDefinition(stack, 'Task', {
      family: 'something-else',
      cpu: 256,
      memoryLimitMiB: 512,
    });
    task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('example/app:1') });
    // WHEN / THEN
    expect(() => addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' })).toThrow(
      expect.objectContaining({
        code: 'TARGET_E_OPTION',
        path: 'services.web.versions.v1.labels',
        value: 'something-else',
        message: expect.stringMatching(/^S\/Task: .*ECS_TASK_DEFINITION_FAMILY=m-web-v1/),
      }),
    );
  });

  test('DNS discovery has no attributes to check', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh, options: { discovery: 'dns' } });
    const task = new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('example/app:1') });
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' });
    // THEN
    Annotations.fromStack(stack).hasNoWarning('/S/Task', Match.anyValue());
    expect(ECS_CLOUD_MAP_ATTRIBUTES).toContain('ECS_TASK_DEFINITION_FAMILY');
  });
});

describe('SDS certificates', () => {
  const strict = { ...mesh, security: { mtls: 'strict' } } satisfies MeshInput;

  test('an Envoy whose node takes certificates from SDS warns without a socket, and gets APPMESH_SDS_SOCKET_PATH with one', () => {
    // GIVEN strict mTLS with SDS certificates (the App Mesh render's default)
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: strict });
    const tasks = ['Without', 'With'].map((id) => {
      const task = new ecs.FargateTaskDefinition(stack, id, { cpu: 256, memoryLimitMiB: 512 });
      task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('example/app:1') });
      return task;
    });
    // WHEN
    addAppMeshSidecar(tasks[0] as ecs.TaskDefinition, { mesh: appMesh, service: 'web', version: 'v1' });
    addAppMeshSidecar(tasks[1] as ecs.TaskDefinition, {
      mesh: appMesh,
      service: 'web',
      version: 'v2',
      sdsSocketPath: '/run/spire/sockets/agent.sock',
    });
    // THEN
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning(
      '/S/Without',
      Match.stringLikeRegexp('services.web: .*SDS.*no APPMESH_SDS_SOCKET_PATH'),
    );
    annotations.hasNoWarning('/S/With', Match.stringLikeRegexp('SDS'));
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Name: 'envoy',
          Environment: Match.arrayWith([
            { Name: 'APPMESH_SDS_SOCKET_PATH', Value: '/run/spire/sockets/agent.sock' },
          ]),
        }),
      ]),
    });
  });

  test('file certificates need no socket', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: strict, options: { certificates: 'file' } });
    const task = new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('example/app:1') });
    // WHEN
    addAppMeshSidecar(task, { mesh: appMesh, service: 'web', version: 'v1' });
    // THEN
    Annotations.fromStack(stack).hasNoWarning('/S/Task', Match.stringLikeRegexp('SDS'));
  });
});

describe('addAppMeshGateway', () => {
  const withGateway = {
    ...mesh,
    gateways: {
      edge: {
        listeners: [
          { port: 8000, protocol: 'http' },
          { port: 8443, protocol: 'http2' },
        ],
        routes: [{ name: 'all', service: 'web' }],
      },
    },
  } satisfies MeshInput;

  test('runs the virtual gateway Envoy with a port per listener, no proxy configuration, and the IAM grant', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: withGateway });
    const task = new ecs.FargateTaskDefinition(stack, 'Edge', { cpu: 256, memoryLimitMiB: 512 });
    // WHEN
    const gateway = addAppMeshGateway(task, { mesh: appMesh, gateway: 'edge' });
    // THEN
    expect(gateway.ports).toEqual([8000, 8443]);
    const vg = stack.getLogicalId(appMesh.virtualGateway('edge').node.defaultChild as CfnElement);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        {
          Name: 'envoy',
          Image: APP_MESH_ENVOY_IMAGE,
          User: Match.absent(),
          Environment: Match.arrayWith([{ Name: 'APPMESH_RESOURCE_ARN', Value: { Ref: vg } }]),
          PortMappings: [
            { ContainerPort: 8000, Protocol: 'tcp' },
            { ContainerPort: 8443, Protocol: 'tcp' },
          ],
          HealthCheck: { Command: Match.arrayWith(['CMD-SHELL']) },
        },
      ],
      ProxyConfiguration: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'appmesh:StreamAggregatedResources', Resource: { Ref: vg } }] },
    });
  });

  test('an unknown gateway fails with TARGET_E_OPTION listing the gateways', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    const appMesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: withGateway });
    const task = new ecs.FargateTaskDefinition(stack, 'Edge', { cpu: 256, memoryLimitMiB: 512 });
    // WHEN / THEN
    expect(() => addAppMeshGateway(task, { mesh: appMesh, gateway: 'nope' })).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', allowed: 'edge' }),
    );
  });
});
