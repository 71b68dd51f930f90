/**
 * The `envoy` target: per-proxy Envoy v3 bootstraps and resources (served by `crossmesh
 * control-plane`, run by `crossmesh up`).
 */
import type { Target } from '../../model/target.js';
import type { Mesh } from '../../model/types.js';
import { ENVOY_CAPABILITIES } from './capabilities.js';
import { proxyDirectory } from './files.js';
import { type EnvoyOutput, type EnvoyRenderOptions, renderEnvoy } from './render.js';

export { ENVOY_CAPABILITIES } from './capabilities.js';
export { proxyDirectory } from './files.js';
export * from './names.js';
export * from './placement.js';
export * from './render.js';

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The Envoy render target. */
export const envoyTarget: Target<EnvoyOutput, EnvoyRenderOptions> = {
  name: 'envoy',
  title: 'Envoy v3 resources per sidecar and gateway, served over xDS by crossmesh control-plane',
  capabilities: ENVOY_CAPABILITIES,
  render: (mesh: Mesh, options: EnvoyRenderOptions) => renderEnvoy(mesh, options),
  files(output) {
    const files = new Map<string, string>();
    for (const proxy of output.proxies) {
      const dir = `proxies/${proxyDirectory(proxy.id)}`;
      files.set(`${dir}/bootstrap.json`, json(proxy.bootstrap));
      files.set(`${dir}/resources.json`, json(proxy.resources));
    }
    files.set('proxyless/resources.json', json(output.proxyless));
    return files;
  },
};
