// Maps a real corpus config onto this machine without changing what it exercises: every pipe
// (Unix socket) path goes into a temp dir under the same base name (Istio's `/tmp/XDS`,
// `./var/run/secrets/workload-spiffe-uds/socket`), so tests never touch system paths.
import path from 'node:path';

type Json = Record<string, unknown>;

/**
 * Rewrites every `pipe.path` in `node` (in place) to `dir/<base name>`; returns the mapping, in
 * the order met, original path to mapped path.
 */
export function mapPipePaths(
  node: unknown,
  dir: string,
  mapped = new Map<string, string>(),
): Map<string, string> {
  if (Array.isArray(node)) {
    for (const n of node) mapPipePaths(n, dir, mapped);
    return mapped;
  }
  if (typeof node !== 'object' || node === null) return mapped;
  const o = node as Json;
  const pipe = o.pipe as Json | undefined;
  if (typeof pipe === 'object' && pipe !== null && typeof pipe.path === 'string') {
    const to = path.join(dir, path.basename(pipe.path));
    mapped.set(pipe.path, to);
    pipe.path = to;
  }
  for (const v of Object.values(o)) mapPipePaths(v, dir, mapped);
  return mapped;
}
