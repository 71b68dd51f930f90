/**
 * The sidecar process entry (proxy/xds/main.ts, what the compose sidecar image runs): a real
 * child process with a dynamic bootstrap file, fed by a real control plane in this process,
 * forwarding a real HTTP call to a real upstream on loopback. Nothing is stood in.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { localPlacement, localPortCount } from '../../../adapters/envoy/placement.js';
import { renderEnvoy } from '../../../adapters/envoy/render.js';
import { MeshPublisher } from '../../../controlplane/publisher.js';
import { XdsServer } from '../../../controlplane/server.js';
import { freePorts } from '../../../controlplane/up/ports.js';
import { canonicalize } from '../../../model/canonical.js';

const entry = fileURLToPath(new URL('../../../proxy/xds/main.ts', import.meta.url));
let upstream: Server | undefined;
let server: XdsServer | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  upstream?.close();
  await server?.close();
});

describe('proxy/xds/main.ts', () => {
  test('runs a sidecar from a dynamic bootstrap file, forwards a call, and drains on SIGTERM', async () => {
    // GIVEN an upstream for `api` and a control plane serving a mesh where `web` calls `api`
    const api = createServer((_req, res) => res.end('hello from api'));
    upstream = api;
    const apiPort = await new Promise<number>((resolve) =>
      api.listen(0, '127.0.0.1', () => resolve((api.address() as { port: number }).port)),
    );
    const mesh = canonicalize({
      name: 'tiny',
      services: {
        web: {
          ports: [{ port: 8080, protocol: 'http' }],
          versions: { v1: { local: { kind: 'command', command: ['node', 'web.mjs'] } } },
          backends: ['api'],
        },
        api: {
          ports: [{ port: 8080, protocol: 'http' }],
          versions: {
            v1: { local: { kind: 'endpoints', endpoints: [{ host: '127.0.0.1', port: apiPort }] } },
          },
        },
      },
    });
    const ports = await freePorts(localPortCount(mesh));
    const placement = localPlacement(mesh, () => ports.shift() ?? 0);
    const publisher = new MeshPublisher();
    server = new XdsServer(publisher.cache);
    const cp = await server.listen('127.0.0.1', 0);
    const output = renderEnvoy(mesh, { placement, controlPlane: { host: '127.0.0.1', port: cp.port } });
    publisher.publish(output);
    const file = join(mkdtempSync(join(tmpdir(), 'crossmesh-xds-main-')), 'bootstrap.json');
    writeFileSync(file, JSON.stringify(output.proxies.find((p) => p.id === 'sidecar/web/v1/0')?.bootstrap));
    // WHEN the sidecar process starts
    child = spawn(process.execPath, ['--import', 'tsx', entry, '-c', file, '--log-level', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    await expect.poll(() => stderr, { timeout: 20_000 }).toContain('xds proxy ready');
    // THEN a call to its egress port with Host `api` reaches the upstream
    const egress = placement.sidecars[0]?.egressPort;
    // (node:http, not fetch: fetch may not set Host, which is how a mesh call names its service)
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port: egress, path: '/', headers: { host: 'api' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('hello from api');
    // AND SIGTERM drains it and it exits 0
    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
