/**
 * Envoy's v3 protobuf descriptors, compiled at build time by
 * `scripts/build-steps/10-envoy-protos.mjs` into `gen/envoy.binpb` (never committed), and loaded
 * once, lazily, into a `@bufbuild/protobuf` registry. Loading costs ~70 ms and ~500 KiB, paid only
 * by processes that parse Envoy configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createFileRegistry, type DescMessage, type FileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { MeshError } from '../../errors/index.js';

/** Prefix every type URL in Envoy configuration carries. */
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

// From source (proxy/config/) the repo root is two levels up; from dist/proxy/config/ three.
const CANDIDATES = ['../../gen/envoy.binpb', '../../../gen/envoy.binpb'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);

let registry: FileRegistry | undefined;

/**
 * The registry of every Envoy v3 message, built from `gen/envoy.binpb`, or from the file named by
 * `CROSSMESH_ENVOY_DESCRIPTORS` (for installs that keep the generated file elsewhere, e.g. an image).
 * @throws MeshError PROXY_E_INVALID when the descriptor file is missing (run `npm run build`).
 */
export function envoyRegistry(): FileRegistry {
  if (registry !== undefined) return registry;
  const override = process.env['CROSSMESH_ENVOY_DESCRIPTORS'];
  const candidates = override === undefined || override === '' ? CANDIDATES : [override];
  const file = candidates.find((p) => existsSync(p));
  if (file === undefined) {
    throw new MeshError(
      'PROXY_E_INVALID',
      `Envoy proto descriptors not found (looked for ${candidates.join(', ')}): run \`npm run build\` to generate gen/envoy.binpb`,
      { allowed: 'a built checkout (npm ci or npm run build generates gen/envoy.binpb)' },
    );
  }
  registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(file)));
  return registry;
}

/** The message descriptor for a full proto name; throws if the build lacks it (a build bug). */
export function envoyMessage(typeName: string): DescMessage {
  const desc = envoyRegistry().getMessage(typeName);
  if (desc === undefined) {
    throw new MeshError('INTERNAL_E_BUG', `message ${typeName} missing from gen/envoy.binpb; rebuild`);
  }
  return desc;
}

/** The full message name in a type URL (`type.googleapis.com/a.b.C` → `a.b.C`). */
export function typeNameOf(typeUrl: string): string {
  const slash = typeUrl.lastIndexOf('/');
  return slash === -1 ? typeUrl : typeUrl.slice(slash + 1);
}
