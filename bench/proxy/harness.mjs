// What run.mjs and profile.mjs both do around a measurement: pick ports, rebuild dist/, start the
// compiled CLI, wait until a server answers.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A port that was free a moment ago on loopback (the bench's servers cannot all take port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a GET / on `port` answers 200; throws after `timeoutMs`. */
export async function waitHttp(port, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
      s.on('data', (d) => {
        resolve(d.toString('latin1').startsWith('HTTP/1.1 200'));
        s.destroy();
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answered 200 on port ${port}`);
}

/**
 * Rebuilds dist/ with tsc so the bench measures the compiled proxy users run. tsc still emits when
 * another area's work in progress has type errors, so those are reported, not fatal.
 */
export function buildDist() {
  try {
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: root,
        stdio: 'ignore',
      },
    );
  } catch {
    console.log('tsc reported type errors (see npx tsc -p tsconfig.build.json); using what it emitted');
  }
}

/**
 * Node arguments that run a compiled `dist/bin/cli.js` itself (default: this checkout's):
 * bin/crossmesh.js falls back to the TypeScript sources (tsx, ~35 MB more RSS) whenever a source
 * file is newer than the last `npm run build`, which on a shared checkout is nearly always.
 */
export function compiledCli(cliPath = path.join(root, 'dist/bin/cli.js')) {
  return [
    '--input-type=module',
    '-e',
    `const { main } = await import(${JSON.stringify(pathToFileURL(cliPath).href)}); process.exitCode = await main(process.argv.slice(1));`,
  ];
}
