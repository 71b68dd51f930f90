// Real third-party Envoy configs from ../shared/envoy-corpus/, run by the proxy as they are, with
// only what a machine without their Docker network needs changed: listener/admin ports set to 0,
// endpoint ports pointed at real loopback upstreams, and their DNS names resolved to 127.0.0.1
// through the proxy's lookup hook. Real node:http / node:https upstreams; nothing else stood in.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startProxy } from '../../../proxy/main.js';
import { Closer, httpUpstream, makeCerts } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const CORPUS = new URL('../../../../shared/envoy-corpus/', import.meta.url);

type Json = Record<string, unknown>;

/** Sets every listener and admin port to 0 and every endpoint port to `endpointPort`. */
function localize(node: unknown, endpointPort: number, inEndpoint = false): void {
  if (Array.isArray(node)) {
    for (const n of node) localize(n, endpointPort, inEndpoint);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Json;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'port_value') o[k] = inEndpoint ? endpointPort : 0;
    else localize(v, endpointPort, inEndpoint || k === 'lb_endpoints');
  }
}

async function runCorpus(file: string, endpointPort: number) {
  const json = parse(readFileSync(new URL(file, CORPUS), 'utf8')) as Json;
  localize(json, endpointPort);
  const bootstrap = loadBootstrap(JSON.stringify(json), { format: 'json', source: file });
  const handle = await startProxy(bootstrap, {
    logLevel: 'off',
    dnsLookup: async () => [{ address: '127.0.0.1', family: 4 }],
  });
  closer.add(() => handle.close());
  return handle;
}

function get(port: number, path: string, tls = false): Promise<{ status: number; body: string }> {
  const mod = tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host: '127.0.0.1', port, path, agent: false, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('envoy-corpus configs served end to end', () => {
  test('front-proxy: plain and TLS listeners route /service/1 to STRICT_DNS clusters', async () => {
    // GIVEN the envoyproxy/examples front-proxy config, both services on one loopback upstream
    const up = await httpUpstream(closer, 'svc');
    const proxy = await runCorpus('examples__front-proxy__envoy.yaml', up.port);
    const [plain, secure] = [...proxy.listeners.values()];
    // WHEN
    const a = await get(plain?.port as number, '/service/1');
    const b = await get(secure?.port as number, '/service/2', true);
    const none = await get(plain?.port as number, '/elsewhere');
    // THEN
    expect(a).toEqual({ status: 200, body: 'svc GET /service/1' });
    expect(b).toEqual({ status: 200, body: 'svc GET /service/2' });
    expect(none.status).toBe(404);
    expect(proxy.admin?.port).toBeGreaterThan(0);
  });

  test('tls https-https: downstream TLS in, TLS 1.3 to a STRICT_DNS upstream out', async () => {
    // GIVEN an HTTPS upstream (its certificate is not verified: the config has no trusted_ca)
    const certs = makeCerts(['service-https']);
    const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) =>
      res.end(`tls upstream ${req.url}`),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => server.close(r)));
    const proxy = await runCorpus(
      'examples__tls__envoy-https-https.yaml',
      (server.address() as net.AddressInfo).port,
    );
    // WHEN
    const res = await get([...proxy.listeners.values()][0]?.port as number, '/hello', true);
    // THEN
    expect(res).toEqual({ status: 200, body: 'tls upstream /hello' });
  });
});
