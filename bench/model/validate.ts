/**
 * Benchmark: validate + canonicalize a 5,000-service mesh (issue 2's goal: under 1 s and 300 MB).
 * Run: `npx tsx bench/model/validate.ts [services]` (also run by `npm run bench`). Prints one
 * line per measurement and a JSON summary line. Timings are wall-clock on this machine; compare
 * runs on the same machine only.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canonicalize, toCanonicalJson } from '../../model/canonical.js';
import { detectFeatures } from '../../model/detect.js';
import type { MeshInput, Service } from '../../model/types.js';
import { findProblems } from '../../model/validate.js';

const count = Math.max(Number(process.argv[2] ?? 5000) || 5000, 10);
const RUNS = 5;

/** A realistic service: two versions split 90/10 behind a header canary, policies, authorization. */
function service(i: number): Service {
  const name = `svc-${i}`;
  const peer = (k: number) => `svc-${(i + k) % count}`;
  return {
    ports: [
      { port: 8080, protocol: 'http' },
      { port: 9090, protocol: 'grpc' },
    ],
    versions: {
      v1: {
        labels: { version: 'v1', team: `t${i % 50}` },
        local: { kind: 'command', command: ['node', `services/${name}.mjs`] },
      },
      v2: { labels: { version: 'v2', team: `t${i % 50}` } },
    },
    backends: [peer(1), peer(2), peer(3)],
    routes: [
      {
        name: 'canary',
        match: {
          path: { kind: 'prefix', value: '/api' },
          headers: [{ kind: 'exact', name: 'x-canary', value: 'always' }],
        },
        destinations: [{ version: 'v2' }],
      },
      {
        name: 'split',
        destinations: [
          { version: 'v1', weight: 90 },
          { version: 'v2', weight: 10 },
        ],
        policy: { timeouts: { request: '2s' } },
      },
      {
        name: 'rpc',
        port: 9090,
        match: { grpc: { service: 'shop.Svc', method: 'Get' } },
        destinations: [{}],
      },
    ],
    policy: {
      timeouts: { request: '3s', idle: '1m' },
      retries: { attempts: 3, on: ['gateway-error', 'reset'], perTryTimeout: '500ms' },
      outlierDetection: { consecutive5xx: 5 },
      healthCheck: { kind: 'http', path: '/health' },
    },
    authorization: {
      action: 'allow-listed',
      rules: [{ from: [peer(count - 1), peer(count - 2)], methods: ['GET'] }],
    },
  };
}

function buildMesh(): MeshInput {
  const services: Record<string, Service> = {};
  for (let i = 0; i < count; i++) services[`svc-${i}`] = service(i);
  return {
    name: 'bench',
    security: { mtls: 'strict' },
    services,
    gateways: {
      edge: { listeners: [{ port: 80, protocol: 'http' }], routes: [{ name: 'r', service: 'svc-0' }] },
    },
  };
}

/** CPU milliseconds (user + system, all threads) of the last {@link time} call: less sensitive to a busy machine than wall time. */
let lastCpuMs = 0;

function time<T>(fn: () => T): [T, number] {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = fn();
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  lastCpuMs = (used.user + used.system) / 1000;
  return [result, elapsed];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

if (process.argv.includes('--memory')) {
  // Child mode: one validate + canonicalize in a fresh process, so the peak RSS is that of the
  // operation (plus Node and tsx), not of the repeated timing runs.
  const mesh = buildMesh();
  const before = process.memoryUsage();
  const canonical = canonicalize(mesh);
  const after = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      rssBeforeMb: mb(before.rss),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      heapBeforeMb: mb(before.heapUsed),
      heapAfterMb: mb(after.heapUsed),
      services: Object.keys(canonical.services).length,
    })}\n`,
  );
} else {
  const [mesh, buildMs] = time(buildMesh);
  const validateMs: number[] = [];
  const canonicalMs: number[] = [];
  const canonicalCpuMs: number[] = [];
  let canonical = canonicalize(mesh);
  for (let run = 0; run < RUNS; run++) {
    const [problems, v] = time(() => findProblems(mesh));
    if (problems.length > 0) throw new Error(`bench mesh is invalid: ${problems[0]?.message}`);
    validateMs.push(v);
    const [c, ms] = time(() => canonicalize(mesh));
    canonical = c;
    canonicalMs.push(ms);
    canonicalCpuMs.push(lastCpuMs);
  }
  const [json, jsonMs] = time(() => toCanonicalJson(canonical));
  const [uses, detectMs] = time(() => detectFeatures(canonical));
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), String(count), '--memory'],
    {
      encoding: 'utf8',
    },
  );
  if (child.status !== 0) throw new Error(`memory run failed: ${child.stderr}`);
  const memory = JSON.parse(child.stdout) as Record<string, number>;
  const summary = {
    bench: 'model/validate',
    services: count,
    buildMs: Math.round(buildMs),
    validateMsMedian: Math.round(median(validateMs)),
    canonicalizeMsMedian: Math.round(median(canonicalMs)),
    canonicalizeMsMin: Math.round(Math.min(...canonicalMs)),
    canonicalizeCpuMsMedian: Math.round(median(canonicalCpuMs)),
    canonicalJsonMs: Math.round(jsonMs),
    canonicalJsonMb: Math.round((json.length / 1024 / 1024) * 10) / 10,
    detectFeaturesMs: Math.round(detectMs),
    featureUses: uses.length,
    ...memory,
    loadAverage1m: Math.round(loadavg()[0] ?? 0),
  };
  const lines = [
    `services                    ${count}`,
    `validate (median of ${RUNS})      ${summary.validateMsMedian} ms`,
    `canonicalize (median/min)   ${summary.canonicalizeMsMedian} / ${summary.canonicalizeMsMin} ms wall, ${summary.canonicalizeCpuMsMedian} ms CPU (validate included; goal < 1000 ms)`,
    `canonical JSON              ${summary.canonicalJsonMs} ms, ${summary.canonicalJsonMb} MB`,
    `detectFeatures              ${summary.detectFeaturesMs} ms, ${summary.featureUses} uses`,
    `peak RSS, one canonicalize  ${memory.peakRssMb} MB in a fresh process (RSS before: ${memory.rssBeforeMb} MB; goal < 300 MB)`,
    `heap before / after         ${memory.heapBeforeMb} / ${memory.heapAfterMb} MB`,
    `load average (1 min)        ${summary.loadAverage1m} (timings are inflated when the machine is busy)`,
    JSON.stringify(summary),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (count === 5000) {
    writeFileSync(
      new URL('RESULTS.md', import.meta.url),
      [
        '# bench/model: validate + canonicalize a 5,000-service mesh',
        '',
        '<!-- Written by `npx tsx bench/model/validate.ts` (also `npm run bench -- model`); numbers from the last run. -->',
        '',
        `Run on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores, load average ${summary.loadAverage1m}.`,
        'Goal (issue 2): validate + canonicalize under 1 s and 300 MB. Wall times inflate when the',
        'machine is shared; the CPU time is the steadier figure.',
        '',
        '```',
        ...lines,
        '```',
        '',
      ].join('\n'),
    );
  }
}
