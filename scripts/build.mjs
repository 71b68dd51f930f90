// Build: compile TypeScript to dist/ and generate build-time artefacts (never committed).
// Runs on `npm ci` (prepare) and `npm run build`. Each generation step is its own script in
// scripts/build-steps/ and runs in file-name order.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

const steps = `${root}scripts/build-steps`;
if (existsSync(steps)) {
  for (const step of readdirSync(steps)
    .filter((f) => f.endsWith('.mjs'))
    .sort()) {
    run(process.execPath, [`${steps}/${step}`]);
  }
}
run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json']);
// bin/crossmesh.js runs dist/ only while no source is newer than this stamp.
writeFileSync(`${root}dist/.build-stamp`, `${new Date().toISOString()}\n`);
