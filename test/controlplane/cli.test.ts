/**
 * `crossmesh control-plane` and `crossmesh status` as a user runs them: the real CLI in a child
 * process (control-plane) or in-process (status), real files, real gRPC. Nothing is stood in.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../bin/cli.js';
import { TYPE } from '../../controlplane/types.js';
import { SotwStream } from './ads-client.js';

const cli = fileURLToPath(new URL('../../bin/crossmesh.js', import.meta.url));
let child: ChildProcess | undefined;
let stream: SotwStream | undefined;

afterEach(() => {
  stream?.close();
  child?.kill('SIGKILL');
});

function mesh(weights: [number, number]) {
  return stringify({
    name: 'tiny',
    services: {
      web: { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: {} }, backends: ['api'] },
      api: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: {}, v2: {} },
        routes: [
          {
            name: 'split',
            destinations: [
              { version: 'v1', weight: weights[0] },
              { version: 'v2', weight: weights[1] },
            ],
          },
        ],
      },
    },
  });
}

function collect(proc: ChildProcess, which: 'stdout' | 'stderr'): { text: () => string } {
  let text = '';
  proc[which]?.setEncoding('utf8');
  proc[which]?.on('data', (chunk: string) => {
    text += chunk;
  });
  return { text: () => text };
}

describe('crossmesh control-plane', () => {
  test('prints its address, serves the mesh, pushes an edit, keeps the last good mesh on a bad edit, stops on SIGTERM', async () => {
    // GIVEN a mesh file and the control plane on a free port
    const dir = mkdtempSync(join(tmpdir(), 'crossmesh-cp-'));
    const file = join(dir, 'mesh.yaml');
    writeFileSync(file, mesh([90, 10]));
    child = spawn(process.execPath, [cli, 'control-plane', file, '--port', '0'], {
      env: { ...process.env, CROSSMESH_DEV: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collect(child, 'stdout');
    const err = collect(child, 'stderr');
    await expect.poll(() => out.text(), { timeout: 20_000 }).toMatch(/listening on 127\.0\.0\.1:\d+/);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out.text())?.[1]);
    // WHEN the web sidecar asks for its routes
    stream = new SotwStream(port, 'sidecar/web/v1/0');
    stream.send(TYPE.route, { names: ['outbound'] });
    const first = await stream.responses.next(10_000);
    stream.ack(first, ['outbound']);
    // THEN it gets the 90/10 split
    expect(JSON.stringify(first.resources)).toContain('"weight":90');
    // WHEN the file changes to 50/50, then to something invalid
    writeFileSync(file, mesh([50, 50]));
    const second = await stream.responses.next(10_000);
    stream.ack(second, ['outbound']);
    writeFileSync(file, mesh([-1, 50]));
    // THEN the edit is pushed, the bad one reported (path first) and not pushed
    expect(JSON.stringify(second.resources)).toContain('"weight":50');
    // (a save can be seen half-written first, reported as its own problem: wait for this one)
    await expect
      .poll(() => err.text(), { timeout: 10_000 })
      .toMatch(/services\.api\.routes\[0\]\.destinations\[0\]\.weight/);
    expect(err.text()).toContain('mesh not published');
    expect(await stream.responses.quiet(300)).toBe(true);
    // AND SIGTERM stops it with exit code 0
    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('crossmesh status', () => {
  test('says no local mesh runs where there is no state file (exit 1, LOCAL_E_NOT_RUNNING)', async () => {
    // GIVEN an empty directory
    const dir = mkdtempSync(join(tmpdir(), 'crossmesh-status-'));
    const err: string[] = [];
    const io = {
      stdout: { write: () => true } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => err.push(s) } as unknown as NodeJS.WritableStream,
    };
    // WHEN
    const code = await main(['status', '--state-dir', dir], io);
    // THEN
    expect(code).toBe(1);
    expect(err.join('')).toContain('[LOCAL_E_NOT_RUNNING]');
  });
});
