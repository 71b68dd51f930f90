/**
 * The public surface of cdk/ (cdk/index.ts) and its page, docs/targets/cdk.md, which is written by
 * hand: these checks keep the page from drifting from the code (pinned image, discontinuation
 * notice, every exported construct and function documented). Plain file reads; nothing stood in.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as cdk from '../../cdk/index.js';

const page = readFileSync(resolve(import.meta.dirname, '../../docs/targets/cdk.md'), 'utf8');

describe('cdk/index.ts and docs/targets/cdk.md', () => {
  test('the page documents every exported construct and function', () => {
    // GIVEN the runtime exports that are classes or functions
    const callables = Object.entries(cdk)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort();
    // WHEN / THEN
    expect(callables).toEqual([
      'CrossmeshAppMesh',
      'CrossmeshAppMeshStack',
      'CrossmeshTrafficDirectorManifest',
      'addAppMeshGateway',
      'addAppMeshSidecar',
      'ecsTaskFamily',
      'withEcsVersionLabels',
    ]);
    for (const name of callables) expect(page, name).toContain(`\`${name}(`);
  });

  test('the page names the pinned Envoy image, the sidecar constants and the discontinuation', () => {
    // GIVEN / WHEN / THEN
    expect(page).toContain(cdk.APP_MESH_ENVOY_IMAGE);
    expect(page).toContain(`user \`${cdk.ENVOY_UID}\``);
    expect(page).toContain(`ingress port ${cdk.ENVOY_INGRESS_PORT}`);
    expect(page).toContain(`egress port ${cdk.ENVOY_EGRESS_PORT}`);
    expect(page).toContain(cdk.EGRESS_IGNORED_IPS.join(','));
    expect(page).toContain(`crossmesh:managed=${cdk.CLOUDFORMATION_MANAGED_VALUE}`);
    expect(page).toContain(cdk.TRAFFIC_DIRECTOR_METADATA);
    expect(page).toMatch(/AWS discontinued App Mesh on 2026-09-30/);
    expect(cdk.APP_MESH_DISCONTINUED).toMatch(/2026-09-30.*Service Connect.*VPC Lattice/);
  });
});
