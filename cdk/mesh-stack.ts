/**
 * `CrossmeshAppMeshStack`: a stack holding one {@link CrossmeshAppMesh}, for apps that deploy the
 * mesh on its own (workloads in other stacks reference it through `stack.appMesh`).
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CrossmeshAppMesh, type CrossmeshAppMeshProps } from './crossmesh-mesh.js';

/** Props of {@link CrossmeshAppMeshStack}: the stack's and the mesh construct's. */
export interface CrossmeshAppMeshStackProps extends StackProps, CrossmeshAppMeshProps {}

/** A stack with one crossmesh App Mesh (construct id `Mesh`). */
export class CrossmeshAppMeshStack extends Stack {
  /** The mesh construct: look up virtual nodes, services and gateways here. */
  readonly appMesh: CrossmeshAppMesh;

  constructor(scope: Construct, id: string, props: CrossmeshAppMeshStackProps) {
    super(scope, id, props);
    this.appMesh = new CrossmeshAppMesh(this, 'Mesh', {
      mesh: props.mesh,
      ...(props.options === undefined ? {} : { options: props.options }),
      ...(props.allowDrop === undefined ? {} : { allowDrop: props.allowDrop }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
    });
  }
}
