#!/usr/bin/env node
// Proxy benchmark (not part of `npm test`): `node bench/proxy/run.mjs [--duration 10]`.
//
// Setup (PLATFORM.md "Measuring"): an nginx `return 200` upstream; wrk -c50 pinned to one core,
// the proxy under test pinned to the other (taskset); every row in the same run so the numbers
// compare as ratios. Rows: direct (wrk -> upstream), crossmesh proxy (routing + stats + access
// log off), nginx, haproxy, a node:http pipe proxy and an undici Pool proxy. Then the RSS of the
// crossmesh proxy holding 1,000 idle keep-alive connections. Writes bench/proxy/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainConfig, resilienceConfig, upstreamNginxConfig } from './configs.mjs';
import { buildDist, compiledCli, freePort, root, waitHttp } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const duration = Number(args[args.indexOf('--duration') + 1] || 10);
const connections = 50;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'crossmesh-bench-'));
const cpus = os.cpus().length;
const PROXY_CPU = '0';
const WRK_CPU = cpus > 1 ? '1' : '0';
const children = [];

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureTools() {
  const missing = ['nginx', 'haproxy', 'wrk', 'taskset'].filter((t) => !have(t));
  if (missing.length === 0) return;
  const pkgs = missing.map((m) => (m === 'taskset' ? 'util-linux' : m));
  console.log(`installing ${pkgs.join(' ')} with apt-get`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  execFileSync(
    sudo[0] ?? 'apt-get',
    [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', ...pkgs],
    {
      stdio: 'inherit',
    },
  );
}

function start(cmd, argv, opts = {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  child.stderrText = () => stderr;
  children.push(child);
  return child;
}

function stop(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** utime+stime (clock ticks) of `pid` and all its descendants (nginx and cluster workers). */
function cpuTicks(pid) {
  const parent = new Map();
  const ticks = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process exited while we listed /proc.
    }
  }
  let total = 0;
  for (const [p, t] of ticks) {
    for (let q = p; q > 1; q = parent.get(q) ?? 0) {
      if (q === pid) {
        total += t;
        break;
      }
    }
  }
  return total;
}

function wrk(port) {
  const out = execFileSync(
    'taskset',
    [
      '-c',
      WRK_CPU,
      'wrk',
      '-t1',
      `-c${connections}`,
      `-d${duration}s`,
      '--latency',
      `http://127.0.0.1:${port}/`,
    ],
    { encoding: 'utf8' },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
  const p99raw = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const unit = { us: 0.001, ms: 1, s: 1000 };
  const p99 = p99raw ? Number(p99raw[1]) * unit[p99raw[2]] : Number.NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors:[^\n]*/.exec(out)?.[0] ?? '';
  return { rps, p99, non2xx, errors };
}

function warm(port) {
  execFileSync(
    'taskset',
    ['-c', WRK_CPU, 'wrk', '-t1', `-c${connections}`, '-d2s', `http://127.0.0.1:${port}/`],
    {
      stdio: 'ignore',
    },
  );
}

async function measure(name, port, pid) {
  await waitHttp(port);
  warm(port);
  const before = pid === undefined ? 0 : cpuTicks(pid);
  const r = wrk(port);
  // CPU time per request (µs) of the proxy process tree: unlike req/s it barely depends on how
  // busy the machine is, so it compares proxies fairly on a shared box.
  const ticks = pid === undefined ? Number.NaN : cpuTicks(pid) - before;
  const cpuUs = (ticks * 10_000) / (r.rps * duration);
  console.log(
    `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99.toFixed(2)} ms  cpu ${cpuUs.toFixed(1)} us/req ${r.non2xx ? `non-2xx ${r.non2xx}` : ''} ${r.errors}`,
  );
  return { name, ...r, cpuUs };
}

/** The resilience row against plain crossmesh: throughput loss and CPU per request. */
function resilienceLoss(rows) {
  const plain = rows.find((r) => r.name === 'crossmesh proxy');
  const res = rows.find((r) => r.name === 'crossmesh + resilience');
  if (!plain || !res) return 'not measured';
  const loss = (100 * (1 - res.rps / plain.rps)).toFixed(1);
  return `${loss} % fewer req/s than plain crossmesh; proxy CPU ${res.cpuUs.toFixed(1)} vs ${plain.cpuUs.toFixed(1)} µs per request`;
}

function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
}

/** Opens `n` keep-alive connections, one request each, and keeps them open. */
async function idleConnections(port, n) {
  const sockets = [];
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); j++) {
      batch.push(
        new Promise((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
          s.once('data', () => resolve(s));
          s.on('error', reject);
        }),
      );
    }
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

const loadAtStart = os.loadavg();

// The bench must measure the compiled proxy it has just built (see compiledCli).
const COMPILED_CLI = compiledCli();

async function main() {
  ensureTools();
  const upstreamPort = await freePort();
  const ports = {
    crossmesh: await freePort(),
    crossmeshResilient: await freePort(),
    nginx: await freePort(),
    haproxy: await freePort(),
    nodeHttp: await freePort(),
    undici: await freePort(),
  };

  // Upstream: nginx return 200 on wrk's core (PLATFORM.md "Measuring": the proxy gets one core to
  // itself, the load generator and the upstream share the other). Left unpinned, the upstream
  // steals the proxy's core and every proxy row measures the upstream's contention instead.
  const upConf = path.join(tmp, 'upstream.conf');
  writeFileSync(upConf, upstreamNginxConfig(tmp, upstreamPort));
  start('taskset', ['-c', WRK_CPU, 'nginx', '-c', upConf, '-p', tmp]);

  // crossmesh: one HTTP listener, a prefix route to a STATIC cluster, stats always on.
  const cmConf = path.join(tmp, 'crossmesh.yaml');
  writeFileSync(cmConf, plainConfig(ports.crossmesh, upstreamPort));
  // Measure what users run: the compiled dist/ (tsc output), rebuilt now so it is current; only
  // missing output fails.
  buildDist();
  if (!existsSync(path.join(root, 'dist/proxy/main.js'))) throw new Error('dist/proxy/main.js was not built');
  const cliEnv = { ...process.env, CROSSMESH_DEV: '0' };

  const nginxConf = path.join(tmp, 'nginx-proxy.conf');
  writeFileSync(
    nginxConf,
    `worker_processes 1; daemon off; master_process off; pid ${tmp}/np.pid; error_log stderr error;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 100000000;
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server { listen 127.0.0.1:${ports.nginx}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`,
  );
  const haConf = path.join(tmp, 'haproxy.cfg');
  writeFileSync(
    haConf,
    `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:${ports.haproxy}
  default_backend be
backend be
  server up 127.0.0.1:${upstreamPort}
`,
  );

  const rows = [];
  await waitHttp(upstreamPort);
  rows.push({ ...(await measure('direct (nginx upstream)', upstreamPort)), cpuUs: Number.NaN });

  const cm = start(
    'taskset',
    ['-c', PROXY_CPU, process.execPath, ...COMPILED_CLI, 'proxy', '-c', cmConf, '--log-level', 'error'],
    {
      env: cliEnv,
    },
  );
  try {
    rows.push(await measure('crossmesh proxy', ports.crossmesh, cm.pid));
  } catch (error) {
    console.error(`crossmesh failed: ${error.message}\n${cm.stderrText()}`);
    rows.push({ name: 'crossmesh proxy', rps: Number.NaN, p99: Number.NaN, cpuUs: Number.NaN });
  }
  stop(cm);

  // Issue 6 row: the same proxy with every resilience filter on (resilienceConfig in configs.mjs).
  const resConf = path.join(tmp, 'crossmesh-resilience.yaml');
  writeFileSync(resConf, resilienceConfig(ports.crossmeshResilient, upstreamPort));
  const cmr = start(
    'taskset',
    ['-c', PROXY_CPU, process.execPath, ...COMPILED_CLI, 'proxy', '-c', resConf, '--log-level', 'error'],
    { env: cliEnv },
  );
  try {
    rows.push(await measure('crossmesh + resilience', ports.crossmeshResilient, cmr.pid));
  } catch (error) {
    console.error(`crossmesh + resilience failed: ${error.message}\n${cmr.stderrText()}`);
  }
  stop(cmr);

  const ng = start('taskset', ['-c', PROXY_CPU, 'nginx', '-c', nginxConf, '-p', tmp]);
  rows.push(await measure('nginx proxy', ports.nginx, ng.pid));
  stop(ng);

  const ha = start('taskset', ['-c', PROXY_CPU, 'haproxy', '-f', haConf, '-db']);
  rows.push(await measure('haproxy', ports.haproxy, ha.pid));
  stop(ha);

  const nh = start(
    'taskset',
    [
      '-c',
      PROXY_CPU,
      process.execPath,
      path.join(here, 'peers.mjs'),
      'node-http',
      String(ports.nodeHttp),
      String(upstreamPort),
    ],
    { cwd: root },
  );
  rows.push(await measure('node:http pipe proxy', ports.nodeHttp, nh.pid));
  stop(nh);

  const un = start(
    'taskset',
    [
      '-c',
      PROXY_CPU,
      process.execPath,
      path.join(here, 'peers.mjs'),
      'undici',
      String(ports.undici),
      String(upstreamPort),
    ],
    { cwd: root },
  );
  rows.push(await measure('undici Pool proxy', ports.undici, un.pid));
  stop(un);

  // RSS with 1,000 idle keep-alive connections (fresh crossmesh process).
  const cm2 = start(process.execPath, [...COMPILED_CLI, 'proxy', '-c', cmConf, '--log-level', 'error'], {
    env: cliEnv,
  });
  await waitHttp(ports.crossmesh);
  const baseline = rssKb(cm2.pid);
  const sockets = await idleConnections(ports.crossmesh, 1000);
  await new Promise((r) => setTimeout(r, 1000));
  const withIdle = rssKb(cm2.pid);
  for (const s of sockets) s.destroy();
  stop(cm2);

  const direct = rows[0].rps;
  const table = [
    '| setup | req/s | ratio to direct | p99 latency (ms) | proxy CPU per request (µs) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.rps.toFixed(0)} | ${(r.rps / direct).toFixed(2)}x | ${r.p99.toFixed(2)} | ${Number.isFinite(r.cpuUs) ? r.cpuUs.toFixed(1) : '-'} |`,
    ),
  ].join('\n');
  const md = `# Proxy benchmark results

<!-- Written by \`node bench/proxy/run.mjs\`; numbers vary between machines, compare ratios within one run. -->

Run on ${new Date().toISOString()}, ${cpus} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version},
load average at start ${loadAtStart.map((l) => l.toFixed(1)).join(' / ')} (other work shares these cores: req/s ratios move
with it; CPU µs per request of the proxy process does not).
wrk -t1 -c${connections} -d${duration}s pinned to CPU ${WRK_CPU}; each proxy pinned to CPU ${PROXY_CPU};
upstream: nginx \`return 200\` (1 worker) pinned to CPU ${WRK_CPU} with wrk. crossmesh runs with routing and stats on
(one route, one STATIC cluster, stats recorded per request, no access log).

${table}

Resilience row (issue 6, target <= 10 % loss): ${resilienceLoss(rows)}

RSS of the crossmesh proxy: ${(baseline / 1024).toFixed(1)} MB at start, ${(withIdle / 1024).toFixed(1)} MB with 1,000 idle
keep-alive connections open (each served one request first).
`;
  writeFileSync(path.join(here, 'RESULTS.md'), md);
  console.log(
    `\n${table}\n\nRSS: ${(baseline / 1024).toFixed(1)} MB idle, ${(withIdle / 1024).toFixed(1)} MB with 1000 keep-alive connections`,
  );
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) stop(c);
    // Child pipes must not keep the runner alive once the table is written.
    setTimeout(() => process.exit(), 200).unref();
  });
