// Where the loader finds Envoy's descriptors. Each test file runs in its own process (vitest forks),
// so the registry cache starts empty here. Nothing is stood in.
import { afterEach, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { envoyRegistry } from '../../../proxy/config/descriptors.js';

afterEach(() => {
  delete process.env['CROSSMESH_ENVOY_DESCRIPTORS'];
});

describe('envoyRegistry', () => {
  test('a missing descriptor file says how to build it', () => {
    // GIVEN a descriptor path that does not exist
    process.env['CROSSMESH_ENVOY_DESCRIPTORS'] = '/nonexistent/envoy.binpb';
    // WHEN the registry is needed
    let error: unknown;
    try {
      envoyRegistry();
    } catch (err) {
      error = err;
    }
    // THEN the error names the path and the fix
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).message).toContain('/nonexistent/envoy.binpb');
    expect((error as MeshError).message).toContain('npm run build');
  });

  test('the built descriptors hold the bootstrap and the supported extensions', () => {
    // GIVEN the default location (gen/envoy.binpb from the build step)
    // WHEN loaded
    const registry = envoyRegistry();
    // THEN the bootstrap, the HCM and the validate extension are all there
    expect(registry.getMessage('envoy.config.bootstrap.v3.Bootstrap')).toBeDefined();
    expect(
      registry.getMessage(
        'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      ),
    ).toBeDefined();
    expect(registry.getExtension('validate.rules')).toBeDefined();
  });
});
