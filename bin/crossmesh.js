#!/usr/bin/env node
// Entry point. Runs the compiled CLI from dist/ (fast start). With CROSSMESH_DEV=1, when dist/
// has not been built, or when a source file is newer than the last build (a dev checkout after an
// edit), it runs the TypeScript sources through tsx instead, so a stale build never runs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/bin/cli.js`;
const stamp = `${root}dist/.build-stamp`;

function newerThan(dir, time) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (newerThan(path, time)) return true;
    } else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > time) {
      return true;
    }
  }
  return false;
}

function builtIsFresh() {
  if (!existsSync(built) || !existsSync(stamp)) return false;
  const time = statSync(stamp).mtimeMs;
  return !['model', 'adapters', 'bin', 'proxy', 'controlplane', 'errors', 'cdk'].some((d) =>
    newerThan(`${root}${d}`, time),
  );
}

let entry;
if (process.env.CROSSMESH_DEV !== '1' && builtIsFresh()) {
  entry = pathToFileURL(built).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(`${root}bin/cli.ts`).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
