/**
 * App Mesh benchmark (not part of `npm test`): `npx tsx bench/appmesh/run.ts`.
 *
 * 1. Render time for a generated mesh of 1,000 services (2 versions each, a 90/10 split route,
 *    two backends, strict mTLS, health checks, retries): canonicalize once, then the median of
 *    repeated renders (renderAppMesh + desiredResources).
 * 2. API calls for examples/shop against moto_server behind the test shim (the same harness as
 *    test/adapters/appmesh): first apply, no-change apply, destroy, split into reads and writes
 *    and by operation.
 * Writes bench/appmesh/RESULTS.md and prints it.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { desiredResources } from '../../adapters/appmesh/desired.js';
import { appMeshDesired } from '../../adapters/appmesh/index.js';
import { createAppMeshProvider } from '../../adapters/appmesh/provider.js';
import { renderAppMesh } from '../../adapters/appmesh/render.js';
import { applyPlan, computeDestroyPlan, computePlan } from '../../adapters/plan/engine.js';
import shop from '../../examples/shop/mesh.js';
import { canonicalize } from '../../model/canonical.js';
import { type CallRecord, startAwsStandIn } from '../../test/helpers/aws/moto.js';
import { bigMesh, median } from '../mesh.js';

function summary(calls: readonly CallRecord[]): {
  total: number;
  writes: number;
  reads: number;
  byOp: string;
} {
  const byOp = new Map<string, number>();
  for (const c of calls) byOp.set(c.operation, (byOp.get(c.operation) ?? 0) + 1);
  return {
    total: calls.length,
    writes: calls.filter((c) => c.mutating).length,
    reads: calls.filter((c) => !c.mutating).length,
    byOp: [...byOp.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([op, n]) => `${op} ${n}`)
      .join(', '),
  };
}

async function main(): Promise<void> {
  // 1. Render time
  const t0 = performance.now();
  const mesh = canonicalize(bigMesh(1000) as Parameters<typeof canonicalize>[0]);
  const canonicalMs = performance.now() - t0;
  const times: number[] = [];
  let resources = 0;
  for (let run = 0; run < 7; run++) {
    const start = performance.now();
    const out = renderAppMesh(mesh);
    resources = desiredResources(out).length;
    times.push(performance.now() - start);
  }

  // 2. API calls for examples/shop
  process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIDCROSSMESHBENCH';
  process.env['AWS_SECRET_ACCESS_KEY'] ??= 'crossmesh-bench-secret';
  const aws = await startAwsStandIn();
  const rows: string[] = [];
  try {
    const shopMesh = canonicalize(shop);
    const desired = appMeshDesired(shopMesh, { allowDrop: true });
    const provider = createAppMeshProvider(shopMesh.name, { endpoint: aws.endpoint, region: 'us-east-1' });
    const phases: [string, () => Promise<void>][] = [
      ['first apply', async () => applyPlan(provider, await computePlan(provider, shopMesh.name, desired))],
      [
        'no-change apply',
        async () => applyPlan(provider, await computePlan(provider, shopMesh.name, desired)),
      ],
      ['destroy', async () => applyPlan(provider, await computeDestroyPlan(provider, shopMesh.name))],
    ];
    for (const [phase, run] of phases) {
      aws.resetCalls();
      const start = performance.now();
      await run();
      const ms = performance.now() - start;
      const s = summary(aws.calls);
      rows.push(`| ${phase} | ${s.total} | ${s.writes} | ${s.reads} | ${ms.toFixed(0)} | ${s.byOp} |`);
    }
    if (aws.violations.length > 0) throw new Error(`API model violations: ${JSON.stringify(aws.violations)}`);
    rows.unshift(`examples/shop: ${desired.length} desired resources.`, '');
  } finally {
    await aws.close();
  }

  const report = [
    '# App Mesh benchmark',
    '',
    `Run: ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' / ',
      )} (times scale with load: compare runs on an idle machine). Produced by \`npx tsx bench/appmesh/run.ts\`.`,
    '',
    '## Render time, 1,000 services',
    '',
    `Generated mesh: 1,000 services x 2 versions, a weighted route, 2 backends each, strict mTLS → ${resources} desired resources.`,
    '',
    '| step | time |',
    '| --- | --- |',
    `| canonicalize (once) | ${canonicalMs.toFixed(0)} ms |`,
    `| renderAppMesh + desiredResources (median of ${times.length}) | ${median(times).toFixed(0)} ms |`,
    `| fastest / slowest run | ${Math.min(...times).toFixed(0)} / ${Math.max(...times).toFixed(0)} ms |`,
    '',
    '## API calls, examples/shop against moto_server (through the validating shim)',
    '',
    rows[0] as string,
    '',
    '| phase | calls | writes | reads | wall ms | by operation |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.slice(2),
    '',
    'Writes are what a second apply must not make (zero). Reads are the tag-scoped listing: one',
    'ListTagsForResource per listed resource and one describe per managed resource.',
    '',
  ].join('\n');
  writeFileSync(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), report);
  process.stdout.write(report);
}

await main();
