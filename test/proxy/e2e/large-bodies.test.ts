// Large bodies both ways through the real proxy (flow control and backpressure on every side):
// 4 MiB up and down over HTTP/1.1 (chunked and content-length) and HTTP/2 on both sides, with
// real node:http / node:http2 peers on loopback (port 0). Nothing is stood in.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { bootstrapJson, Closer, ingressPort, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const BODY = randomBytes(4 * 1024 * 1024);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const H2_UPSTREAM = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

/** Echoes the sha256 of the request body in a header and sends BODY back. */
function handler(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('x-request-sha', sha(Buffer.concat(chunks)));
    res.end(BODY);
  });
}

async function upstream(h2: boolean): Promise<number> {
  const server = h2 ? http2.createServer(handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(
    () =>
      new Promise((r) => {
        if (server instanceof http.Server) server.closeAllConnections();
        server.close(r);
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

async function proxyFor(port: number, h2: boolean) {
  const proxy = await startFromJson(
    closer,
    bootstrapJson({
      routeConfig: {
        virtual_hosts: [
          { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up' } }] },
        ],
      },
      clusters: [{ name: 'up', ports: [port], ...(h2 ? { extra: H2_UPSTREAM } : {}) }],
    }),
  );
  return ingressPort(proxy);
}

function h1Post(port: number, chunked: boolean): Promise<{ sha: string; bodySha: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/big',
        agent: false,
        headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(BODY.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ sha: String(res.headers['x-request-sha']), bodySha: sha(Buffer.concat(chunks)) }),
        );
      },
    );
    req.on('error', reject);
    // Write in pieces so the proxy sees a streamed body.
    for (let i = 0; i < BODY.length; i += 256 * 1024) req.write(BODY.subarray(i, i + 256 * 1024));
    req.end();
  });
}

function h2Post(port: number): Promise<{ sha: string; bodySha: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': '/big' });
    let sha256 = '';
    req.on('response', (h) => {
      sha256 = String(h['x-request-sha']);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ sha: sha256, bodySha: sha(Buffer.concat(chunks)) });
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

describe('large bodies through the proxy', () => {
  const expected = { sha: sha(BODY), bodySha: sha(BODY) };

  test('HTTP/1.1 both sides, content-length and chunked uploads', async () => {
    // GIVEN
    const port = await proxyFor(await upstream(false), false);
    // WHEN
    const sized = await h1Post(port, false);
    const chunked = await h1Post(port, true);
    // THEN both directions arrive byte for byte
    expect(sized).toEqual(expected);
    expect(chunked).toEqual(expected);
  });

  test('HTTP/2 both sides', async () => {
    // GIVEN
    const port = await proxyFor(await upstream(true), true);
    // WHEN
    const result = await h2Post(port);
    // THEN
    expect(result).toEqual(expected);
  });

  test('HTTP/1.1 downstream, HTTP/2 upstream', async () => {
    // GIVEN
    const port = await proxyFor(await upstream(true), true);
    // WHEN
    const result = await h1Post(port, true);
    // THEN
    expect(result).toEqual(expected);
  });
});
