#!/usr/bin/env node
// Entry point. Runs the compiled CLI from dist/ (fast start). With CROSSMESH_DEV=1, or when
// dist/ has not been built, it runs the TypeScript sources through tsx instead.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/bin/cli.js`;
let entry;
if (process.env.CROSSMESH_DEV !== '1' && existsSync(built)) {
  entry = pathToFileURL(built).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(`${root}bin/cli.ts`).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
