// `npm run bench [-- name...]`: runs every benchmark entry `bench/<name>/run.{mjs,js,ts}` in
// name order (TypeScript through tsx), or only the named ones. Benchmarks are never part of
// `npm test`; each prints its own figures (and may write bench/<name>/RESULTS.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const wanted = process.argv.slice(2);
const entries = readdirSync(`${root}bench`, { withFileTypes: true })
  .filter((d) => d.isDirectory() && (wanted.length === 0 || wanted.includes(d.name)))
  .map((d) => d.name)
  .sort()
  .flatMap((name) => {
    const file = ['run.mjs', 'run.js', 'run.ts'].find((f) => existsSync(`${root}bench/${name}/${f}`));
    return file === undefined ? [] : [{ name, file: `bench/${name}/${file}` }];
  });

let failed = 0;
for (const { name, file } of entries) {
  process.stdout.write(`\n== bench/${name} (${file})\n`);
  const args = file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    process.stderr.write(`bench/${name} failed (exit ${result.status})\n`);
  }
}
if (entries.length === 0)
  process.stderr.write(`no benchmark matches ${wanted.join(', ') || 'bench/*/run.*'}\n`);
process.exitCode = failed > 0 || entries.length === 0 ? 1 : 0;
