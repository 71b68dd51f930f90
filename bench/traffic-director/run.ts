/**
 * Traffic Director benchmark (not part of `npm test`): `npx tsx bench/traffic-director/run.ts`.
 *
 * 1. Render time for a generated mesh of 1,000 services (2 versions each, a 90/10 split route
 *    with retries, an HTTP health check, strict mTLS, an allow-list): canonicalize once, then the
 *    median of repeated renders (renderTrafficDirector + desiredResources).
 * 2. API calls for examples/shop (with NEG inputs for every version) against the GCP stand-in
 *    (test/helpers/gcp/standin.ts, the same server as the tests) through the real googleapis
 *    client: first apply, no-change apply, destroy, split into writes, operation polls and other
 *    reads. Operations complete on their first poll (the stand-in's default), so the poll count
 *    is the minimum a real API would need.
 * Writes bench/traffic-director/RESULTS.md and prints it.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { applyPlan, computeDestroyPlan, computePlan } from '../../adapters/plan/engine.js';
import {
  createTrafficDirectorProvider,
  desiredResources,
  renderTrafficDirector,
  trafficDirectorDesired,
} from '../../adapters/traffic-director/index.js';
import shop from '../../examples/shop/mesh.js';
import { canonicalize } from '../../model/canonical.js';
import type { Mesh } from '../../model/types.js';
import { type CallRecord, GcpStandin } from '../../test/helpers/gcp/standin.js';
import { bigMesh, median } from '../mesh.js';

const PROJECT = 'bench-project';

function summary(calls: readonly CallRecord[]): {
  total: number;
  writes: number;
  polls: number;
  reads: number;
  byOp: string;
} {
  const byOp = new Map<string, number>();
  for (const c of calls) {
    const segments = c.path.split('/');
    const collection = c.path.includes('/operations/')
      ? 'operations'
      : (segments.find(
          (s, i) => i > 0 && /^[a-z]+[A-Z]|^meshes$|^gateways$/.test(s) && segments[i - 1] !== 'projects',
        ) ?? '?');
    const key = `${c.method} ${collection}`;
    byOp.set(key, (byOp.get(key) ?? 0) + 1);
  }
  const polls = calls.filter((c) => c.path.includes('/operations/')).length;
  const writes = calls.filter((c) => c.mutating).length;
  return {
    total: calls.length,
    writes,
    polls,
    reads: calls.length - writes - polls,
    byOp: [...byOp.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, n]) => `${op} ${n}`)
      .join(', '),
  };
}

async function main(): Promise<void> {
  // 1. Render time.
  const canonicalStart = performance.now();
  const big = canonicalize(bigMesh(1000, { authorization: true }));
  const canonicalMs = performance.now() - canonicalStart;
  let resources = 0;
  const times: number[] = [];
  for (let i = 0; i < 11; i++) {
    const start = performance.now();
    resources = desiredResources(renderTrafficDirector(big, { project: PROJECT })).length;
    times.push(performance.now() - start);
  }

  // 2. API calls for examples/shop.
  const mesh: Mesh = canonicalize(shop);
  const negs: Record<string, string[]> = {};
  for (const [service, def] of Object.entries(mesh.services)) {
    for (const version of Object.keys(def.versions)) {
      negs[`${service}/${version}`] = [
        `projects/${PROJECT}/zones/us-central1-a/networkEndpointGroups/${service}-${version}`,
      ];
    }
  }
  const desired = trafficDirectorDesired(mesh, { project: PROJECT, allowDrop: true }, { negs });
  const standin = await GcpStandin.start();
  const rows: [string, ReturnType<typeof summary>, number][] = [];
  try {
    const provider = createTrafficDirectorProvider({
      project: PROJECT,
      mesh: mesh.name,
      endpoint: standin.url,
      pollIntervalMs: 1,
    });
    const phase = async (label: string, run: () => Promise<void>) => {
      standin.resetCalls();
      const start = performance.now();
      await run();
      rows.push([label, summary(standin.calls), performance.now() - start]);
    };
    await phase('first apply', async () =>
      applyPlan(provider, await computePlan(provider, mesh.name, desired)),
    );
    await phase('no-change apply', async () =>
      applyPlan(provider, await computePlan(provider, mesh.name, desired)),
    );
    await phase('destroy', async () => applyPlan(provider, await computeDestroyPlan(provider, mesh.name)));
  } finally {
    await standin.close();
  }

  const text = [
    '# Traffic Director benchmark',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on Node ${process.version} by \`npx tsx bench/traffic-director/run.ts\`.`,
    '',
    '## Render time, 1,000 services',
    '',
    `Each service: 2 versions, a 90/10 split with retries, an HTTP health check, an allow-list; strict mTLS. ${resources} resources (per service: 2 BackendServices, a HealthCheck, an HttpRoute, an AuthorizationPolicy and an EndpointPolicy; plus the Mesh and the two TLS policies).`,
    '',
    '| step | time |',
    '| --- | --- |',
    `| canonicalize (validate + defaults), once | ${canonicalMs.toFixed(1)} ms |`,
    `| render + desired resources, median of ${times.length} | ${median(times).toFixed(1)} ms |`,
    `| render + desired resources, fastest | ${Math.min(...times).toFixed(1)} ms |`,
    '',
    '## API calls, examples/shop',
    '',
    `examples/shop with access logs dropped (\`--allow-drop\`) and one NEG per version: ${desired.length} resources. Against the GCP stand-in through the real googleapis client; every write is a long-running operation polled once.`,
    '',
    '| phase | calls | writes | operation polls | other reads | wall time | by method and collection |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      ([label, s, ms]) =>
        `| ${label} | ${s.total} | ${s.writes} | ${s.polls} | ${s.reads} | ${ms.toFixed(0)} ms | ${s.byOp} |`,
    ),
    '',
    'Reads: `list` of all 11 collections per plan (one page each at this size). A no-change apply is',
    'those 11 lists and nothing else. Wall time is against a loopback stand-in whose operations finish on',
    'the first poll (polled after 1 ms): it measures crossmesh and the googleapis client, not Google.',
    `Machine load during the run (1-minute average): ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores;`,
    'timings on a shared machine vary several-fold between runs.',
    '',
  ].join('\n');
  writeFileSync(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), text);
  process.stdout.write(text);
}

await main();
