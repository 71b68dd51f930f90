/**
 * A mesh route's `mirror` end to end, as `crossmesh up` runs it: the model rendered by the Envoy
 * adapter for the loopback placement, served by the project's control plane (real gRPC on
 * loopback, port 0), applied by the bundled proxy's xDS client (in process), with real node:http
 * upstreams for each version. Nothing is stood in.
 */
import { get } from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import { localPlacement, localPortCount } from '../../../adapters/envoy/placement.js';
import { renderEnvoy } from '../../../adapters/envoy/render.js';
import { MeshPublisher } from '../../../controlplane/publisher.js';
import { XdsServer } from '../../../controlplane/server.js';
import { freePorts } from '../../../controlplane/up/ports.js';
import { canonicalize } from '../../../model/canonical.js';
import { startXdsProxy, type XdsProxyHandle } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';

describe('a mesh route mirror under the bundled proxy (xDS)', () => {
  const closer = new Closer();
  let proxy: XdsProxyHandle | undefined;
  afterAll(async () => {
    await proxy?.close();
    await closer.closeAll();
  });

  test('web calls api v1; every call is mirrored to api v2, whose answer is dropped', async () => {
    // GIVEN api v1 and v2 as real upstreams (v2 answers 500), and a mesh mirroring api to v2
    const v1 = await httpUpstream(closer, 'v1');
    const v2 = await httpUpstream(closer, 'v2', (_req, res) => {
      res.statusCode = 500;
      res.end('v2 broken');
    });
    const endpoints = (port: number) => ({
      local: { kind: 'endpoints', endpoints: [{ host: '127.0.0.1', port }] },
    });
    const mesh = canonicalize({
      name: 'mirror',
      services: {
        web: {
          ports: [{ port: 8080, protocol: 'http' }],
          versions: { v1: { local: { kind: 'command', command: ['node', 'web.mjs'] } } },
          backends: ['api'],
        },
        api: {
          ports: [{ port: 8080, protocol: 'http' }],
          versions: { v1: endpoints(v1.port), v2: endpoints(v2.port) },
          routes: [
            { name: 'all', destinations: [{ version: 'v1' }], mirror: { service: 'api', version: 'v2' } },
          ],
        },
      },
    });
    const ports = await freePorts(localPortCount(mesh));
    const placement = localPlacement(mesh, () => ports.shift() ?? 0);
    const publisher = new MeshPublisher();
    const server = new XdsServer(publisher.cache);
    const cp = await server.listen('127.0.0.1', 0);
    closer.add(() => server.close());
    const output = renderEnvoy(mesh, { placement, controlPlane: { host: '127.0.0.1', port: cp.port } });
    publisher.publish(output);
    // WHEN web's sidecar runs from its dynamic bootstrap
    const bootstrap = output.proxies.find((p) => p.id === 'sidecar/web/v1/0')?.bootstrap;
    proxy = await startXdsProxy(bootstrap, { logLevel: 'off' });
    const egress = placement.sidecars[0]?.egressPort ?? 0;
    // AND web calls api through it
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        await new Promise<string>((resolve, reject) => {
          get({ host: '127.0.0.1', port: egress, path: `/item/${i}`, headers: { host: 'api' } }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              text += c;
            });
            res.on('end', () => resolve(`${res.statusCode} ${text}`));
          }).on('error', reject);
        }),
      );
    }
    // THEN web only ever sees v1's answers
    expect(answers).toEqual(['200 v1 GET /item/0', '200 v1 GET /item/1', '200 v1 GET /item/2']);
    // AND v2 got a copy of each call, addressed to the shadow host
    await expect.poll(() => v2.seen.length).toBe(3);
    expect(v2.seen.map((s) => s.url).sort()).toEqual(['/item/0', '/item/1', '/item/2']);
    expect(v2.seen[0]?.headers.host).toBe('api-shadow');
  });
});
