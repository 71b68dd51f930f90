/**
 * TCP under `crossmesh up`: a TCP backend is reached through the caller's sidecar on the port
 * `CROSSMESH_TCP_SIDECARS` names (TCP has no host to route on), then the backend's sidecar
 * inbound `tcp_proxy`, then the backend. The services are real processes (`node -e` one-liners:
 * an HTTP app that only has to listen, and a TCP echo server); the test plays the caller's app.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { type LocalMesh, startLocalMesh } from '../../controlplane/up/local-mesh.js';

const HTTP_APP =
  "require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')";
const ECHO = "require('net').createServer((c) => c.pipe(c)).listen(Number(process.env.PORT), '127.0.0.1')";
const dir = mkdtempSync(join(tmpdir(), 'crossmesh-tcp-'));
let mesh: LocalMesh;

beforeAll(async () => {
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    stringify({
      name: 'tcp',
      services: {
        app: {
          ports: [{ port: 8080, protocol: 'http' }],
          versions: { v1: { local: { kind: 'command', command: ['node', '-e', HTTP_APP] } } },
          backends: ['db'],
        },
        db: {
          ports: [{ port: 5432, protocol: 'tcp' }],
          versions: { v1: { local: { kind: 'command', command: ['node', '-e', ECHO] } } },
        },
      },
    }),
  );
  mesh = await startLocalMesh(file, { stateDir: dir, watch: false });
}, 60_000);

afterAll(async () => {
  await mesh?.stop();
  // Logs, certificates and state: about 1 MB a run, left behind by every run otherwise.
  rmSync(dir, { recursive: true, force: true });
});

describe('crossmesh up: TCP backends', () => {
  test('bytes sent to the caller sidecar TCP port reach the backend and come back', async () => {
    // GIVEN the port the app would read from CROSSMESH_TCP_SIDECARS
    const app = mesh.placement.sidecars.find((s) => s.service === 'app');
    const port = app?.tcpEgressPorts['db:5432'];
    expect(port).toBeTypeOf('number');
    // WHEN a line is sent through it
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: port ?? 0 }, () =>
        socket.write('hello over the mesh\n'),
      );
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
        if (data.endsWith('\n')) {
          socket.end();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
    // THEN the echo server answered through both sidecars
    expect(echoed).toBe('hello over the mesh\n');
  });
});
