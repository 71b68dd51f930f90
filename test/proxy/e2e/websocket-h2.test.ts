// WebSocket over HTTP/2 (RFC 8441 extended CONNECT) through the real proxy: a node:http2 client
// opens a `:protocol: websocket` stream and speaks raw WebSocket frames; the upstream is a real
// `ws` server (HTTP/1.1 upgrade) on loopback, port 0. Nothing is stood in.
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import type net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { bootstrapJson, Closer, httpUpstream, ingressPort, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** A `ws` echo server; resolves with its port and the request headers of each upgrade it saw. */
async function wsEcho(): Promise<{
  port: number;
  upgrades: Record<string, string | string[] | undefined>[];
}> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const upgrades: Record<string, string | string[] | undefined>[] = [];
  wss.on('connection', (ws, req) => {
    upgrades.push({ ...req.headers, method: req.method, url: req.url });
    ws.on('message', (m) => ws.send(`echo:${m.toString()}`));
  });
  closer.add(() => new Promise((r) => wss.close(r)));
  return { port: (wss.address() as net.AddressInfo).port, upgrades };
}

/** A masked client text frame (RFC 6455 5.2), payload under 126 bytes. */
function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** The text of one unmasked server text frame at the start of `buf`, or undefined if incomplete. */
function serverText(buf: Buffer): string | undefined {
  if (buf.length < 2) return undefined;
  const len = (buf[1] as number) & 0x7f;
  if (buf.length < 2 + len) return undefined;
  expect(buf[0]).toBe(0x81);
  return buf.subarray(2, 2 + len).toString();
}

/** Connects an h2c session and waits for the proxy's SETTINGS. */
async function session(port: number): Promise<http2.ClientHttp2Session> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  closer.add(() => s.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('remoteSettings', () => resolve());
    s.once('error', reject);
  });
  return s;
}

const WS_HEADERS = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'http',
  ':path': '/chat?room=1',
  ':authority': 'chat.internal',
  'sec-websocket-version': '13',
  // RFC 8441 clients may omit it; the proxy, as Envoy, adds none, and `ws` insists on one.
  'sec-websocket-key': randomBytes(16).toString('base64'),
};

function wsBootstrap(cluster: number, hcm: Record<string, unknown>) {
  return bootstrapJson({
    routeConfig: {
      virtual_hosts: [
        { name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'ws' } }] },
      ],
    },
    clusters: [{ name: 'ws', ports: [cluster] }],
    hcm,
  });
}

describe('WebSocket over HTTP/2 (extended CONNECT)', () => {
  test('a :protocol websocket stream reaches a ws server as an HTTP/1.1 upgrade and frames flow both ways', async () => {
    // GIVEN a ws echo server and a proxy with allow_connect and websocket upgrades
    const up = await wsEcho();
    const proxy = await startFromJson(
      closer,
      wsBootstrap(up.port, {
        http2_protocol_options: { allow_connect: true },
        upgrade_configs: [{ upgrade_type: 'websocket' }],
      }),
    );
    const s = await session(ingressPort(proxy));
    // WHEN the client opens the WebSocket stream and sends two frames
    const stream = s.request(WS_HEADERS, { endStream: false });
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
      stream.once('error', reject);
    });
    let received = Buffer.alloc(0);
    const texts: string[] = [];
    const two = new Promise<void>((resolve) => {
      stream.on('data', (d: Buffer) => {
        received = Buffer.concat([received, d]);
        for (let t = serverText(received); t !== undefined; t = serverText(received)) {
          texts.push(t);
          received = received.subarray(2 + Buffer.byteLength(t));
        }
        if (texts.length === 2) resolve();
      });
    });
    stream.write(clientTextFrame('a'));
    stream.write(clientTextFrame('b'));
    await two;
    // THEN the proxy advertised extended CONNECT, answered 200, and the upstream saw a GET upgrade
    expect(s.remoteSettings.enableConnectProtocol).toBe(true);
    expect(status).toBe(200);
    expect(texts).toEqual(['echo:a', 'echo:b']);
    expect(up.upgrades).toHaveLength(1);
    expect(up.upgrades[0]).toMatchObject({
      method: 'GET',
      url: '/chat?room=1',
      upgrade: 'websocket',
      connection: 'upgrade',
      host: 'chat.internal',
    });
    expect(proxy.stats.counter('http.ingress_http.downstream_cx_upgrades_total').value).toBe(1);
  });

  test('without allow_connect the proxy does not advertise extended CONNECT', async () => {
    // GIVEN a proxy with websocket upgrades but no allow_connect
    const up = await wsEcho();
    const proxy = await startFromJson(
      closer,
      wsBootstrap(up.port, { upgrade_configs: [{ upgrade_type: 'websocket' }] }),
    );
    // WHEN
    const s = await session(ingressPort(proxy));
    // THEN a client may not open a :protocol stream
    expect(s.remoteSettings.enableConnectProtocol).toBe(false);
  });

  test('a websocket stream the connection manager does not enable gets 403 and reaches no upstream', async () => {
    // GIVEN allow_connect but no websocket upgrade config
    const up = await wsEcho();
    const proxy = await startFromJson(
      closer,
      wsBootstrap(up.port, { http2_protocol_options: { allow_connect: true } }),
    );
    const s = await session(ingressPort(proxy));
    // WHEN
    const stream = s.request(WS_HEADERS, { endStream: false });
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
      stream.once('error', reject);
    });
    // THEN
    expect(status).toBe(403);
    expect(up.upgrades).toHaveLength(0);
  });

  test('an upstream that answers without 101 has its response relayed on the stream', async () => {
    // GIVEN an HTTP/1.1 upstream that refuses every upgrade with 426
    const up = await httpUpstream(closer, 'plain', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('no websockets here');
    });
    const proxy = await startFromJson(
      closer,
      wsBootstrap(up.port, {
        http2_protocol_options: { allow_connect: true },
        upgrade_configs: [{ upgrade_type: 'websocket' }],
      }),
    );
    const s = await session(ingressPort(proxy));
    // WHEN
    const stream = s.request(WS_HEADERS, { endStream: false });
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
      stream.once('error', reject);
    });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      body += d;
    });
    await new Promise<void>((r) => stream.once('end', () => r()));
    // THEN the upstream saw the GET upgrade and its refusal came back as is
    expect(status).toBe(426);
    expect(body).toBe('no websockets here');
    expect(up.seen[0]).toMatchObject({ method: 'GET', url: '/chat?room=1' });
    expect(up.seen[0]?.headers.upgrade).toBe('websocket');
  });
});
