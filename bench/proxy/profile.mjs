#!/usr/bin/env node
// Profiles the crossmesh row of bench/proxy/run.mjs alone (not part of `npm test`):
//   node bench/proxy/profile.mjs [--duration 8] [--no-prof] [--top 40] [--skip-build] [--cli other/dist/bin/cli.js]
//   [--node-args "--single-threaded-gc"] [--resilience]
// Same setup as run.mjs (nginx `return 200` upstream and wrk -c50 on CPU 1, the compiled proxy on
// CPU 0, one route, one STATIC cluster, stats on), then prints the proxy's CPU µs per request and,
// unless --no-prof, the functions with the most self time from a V8 CPU profile (--cpu-prof).
// Profiling costs some CPU itself: compare µs per request from --no-prof runs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { plainConfig, resilienceConfig, upstreamNginxConfig } from './configs.mjs';
import { buildDist, compiledCli, freePort, root, waitHttp } from './harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const duration = Number(opt('--duration', 8));
const top = Number(opt('--top', 40));
const profile = !args.includes('--no-prof');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'crossmesh-prof-'));
const children = [];

/** [user, system] clock ticks of `pid`. */
function ticksOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
}

function wrk(port, seconds) {
  const out = execFileSync(
    'taskset',
    ['-c', '1', 'wrk', '-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`],
    { encoding: 'utf8' },
  );
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
}

/** Self time per function (and per file) from a .cpuprofile. */
function summarise(file) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const files = new Map();
  for (const [id, t] of self) {
    const cf = byId.get(id).callFrame;
    const url = cf.url.replace(pathToFileURL(root).href, '').replace(/^file:\/\//, '');
    const key = `${cf.functionName || '(anon)'}  ${url}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + t);
    const fk = url || cf.functionName;
    files.set(fk, (files.get(fk) ?? 0) + t);
  }
  const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
  console.log('\nself time by function:');
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
  console.log('\nself time by file:');
  for (const [k, t] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(t)}  ${k}`);
}

async function main() {
  if (!args.includes('--skip-build')) buildDist();
  const upstreamPort = await freePort();
  const port = await freePort();
  writeFileSync(path.join(tmp, 'upstream.conf'), upstreamNginxConfig(tmp, upstreamPort));
  children.push(
    spawn('taskset', ['-c', '1', 'nginx', '-c', path.join(tmp, 'upstream.conf'), '-p', tmp], {
      stdio: 'ignore',
    }),
  );
  const conf = path.join(tmp, 'crossmesh.yaml');
  // --resilience: the issue-6 row's config (resilienceConfig in configs.mjs) instead of the plain one.
  const yaml = args.includes('--resilience')
    ? resilienceConfig(port, upstreamPort)
    : plainConfig(port, upstreamPort);
  writeFileSync(conf, yaml);
  // --cli: another build's dist/bin/cli.js (an A/B comparison against a baseline checkout).
  const cli = compiledCli(path.resolve(opt('--cli', path.join(root, 'dist/bin/cli.js'))));
  const node = [
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', tmp] : []),
    // --node-args: extra Node/V8 flags for the proxy process (e.g. "--single-threaded-gc").
    ...opt('--node-args', '')
      .split(' ')
      .filter((a) => a.length > 0),
    ...cli,
    'proxy',
    '-c',
    conf,
    '--log-level',
    'error',
  ];
  const proxy = spawn('taskset', ['-c', '0', process.execPath, ...node], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CROSSMESH_DEV: '0' },
  });
  children.push(proxy);
  await waitHttp(upstreamPort);
  await waitHttp(port);
  wrk(port, 2);
  const before = ticksOf(proxy.pid);
  const rps = wrk(port, duration);
  const after = ticksOf(proxy.pid);
  const us = (ticks) => ((ticks * 10_000) / (rps * duration)).toFixed(1);
  const user = after[0] - before[0];
  const sys = after[1] - before[1];
  const direct = wrk(upstreamPort, Math.min(4, duration));
  console.log(
    `crossmesh ${rps.toFixed(0)} req/s, ${us(user + sys)} µs CPU per request (user ${us(user)}, system ${us(sys)}); direct ${direct.toFixed(0)} req/s (${(rps / direct).toFixed(2)}x); load ${os.loadavg()[0].toFixed(1)}`,
  );
  const exited = new Promise((r) => proxy.once('exit', r));
  // taskset execs node, so the pid is node's: SIGINT lets it stop cleanly and write the profile.
  proxy.kill('SIGINT');
  await exited;
  if (profile) {
    const file = readdirSync(tmp).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error('no .cpuprofile written');
    summarise(path.join(tmp, file));
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
