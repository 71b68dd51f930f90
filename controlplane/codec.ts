/**
 * Turns a resource's proto3 JSON into the protobuf bytes an xDS response carries in `Any.value`.
 * `@bufbuild/protobuf`'s `fromJson` is strict (unknown fields and oneof conflicts are errors) and
 * handles every well-known type (durations as strings, wrappers, nested `Any` with `@type`), with
 * the Envoy descriptors the proxy's config loader builds at install time.
 *
 * Encoding is memoized by content hash: in a mesh most endpoint assignments are the same bytes for
 * every proxy that asks, and a push to 100 proxies should encode each distinct resource once.
 */
import { fromJson, type JsonValue, toBinary } from '@bufbuild/protobuf';
import { MeshError } from '../errors/index.js';
import { envoyMessage, envoyRegistry, typeNameOf } from '../proxy/config/descriptors.js';
import type { SnapshotResource } from './snapshot.js';
import { SHORT_NAME, type TypeUrl } from './types.js';

const MAX_MEMO = 50_000;
const memo = new Map<string, Uint8Array>();

/**
 * The protobuf encoding of one resource.
 * @throws MeshError CP_E_ENCODE naming the resource when its JSON is not valid for its type
 */
export function encodeResource(type: TypeUrl, resource: SnapshotResource): Uint8Array {
  const key = `${type}\0${resource.hash}`;
  const cached = memo.get(key);
  if (cached !== undefined) return cached;
  const desc = envoyMessage(typeNameOf(type));
  let bytes: Uint8Array;
  try {
    bytes = toBinary(desc, fromJson(desc, resource.json as JsonValue, { registry: envoyRegistry() }));
  } catch (error) {
    throw new MeshError(
      'CP_E_ENCODE',
      `${SHORT_NAME[type]} resource ${JSON.stringify(resource.name)} is not a valid ${typeNameOf(type)}: ${error instanceof Error ? error.message : String(error)}`,
      { path: `${SHORT_NAME[type]}[${JSON.stringify(resource.name)}]`, cause: error },
    );
  }
  // A bounded memo: a long-running `crossmesh up` re-renders on every mesh change.
  if (memo.size >= MAX_MEMO) memo.clear();
  memo.set(key, bytes);
  return bytes;
}
