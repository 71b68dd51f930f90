// HTTP/2, gRPC and WebSocket through the real proxy, with real peers on loopback (port 0):
// node:http2 clients and servers, @grpc/grpc-js client and server, ws client and server.
// Nothing is stood in.
import http2 from 'node:http2';
import type net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { bootstrapJson, Closer, httpUpstream, ingressPort, request, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const H2_UPSTREAM = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

function routeAll(cluster: string, extra: Record<string, unknown> = {}) {
  return {
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, ...extra } }] },
    ],
  };
}

async function h2cUpstream(): Promise<number> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'x-proto': 'h2', 'content-type': 'text/plain' });
      stream.end(`h2 ${headers[':method']} ${headers[':path']} ${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(() => new Promise((r) => server.close(r)));
  return (server.address() as net.AddressInfo).port;
}

function h2Request(
  port: number,
  path: string,
  body?: string,
): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path });
    let data = '';
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      headers = h;
    });
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      data += c;
    });
    req.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), body: data, headers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A gRPC service defined without .proto files: raw bytes in and out.
const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const ECHO: grpc.ServiceDefinition = {
  Unary: {
    path: '/test.Echo/Unary',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
  Bidi: {
    path: '/test.Echo/Bidi',
    requestStream: true,
    responseStream: true,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
};

async function grpcUpstream(): Promise<number> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      if (call.request.toString() === 'fail') {
        cb({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail' });
        return;
      }
      const md = new grpc.Metadata();
      md.set('x-trailer', 'kept');
      cb(null, Buffer.from(`echo:${call.request.toString()}`), md);
    },
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(Buffer.from(`re:${b.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  closer.add(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return port;
}

describe('HTTP/2 through the proxy', () => {
  test('HTTP/1.1 downstream to an h2c upstream and back', async () => {
    // GIVEN
    const up = await h2cUpstream();
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: routeAll('h2'),
        clusters: [{ name: 'h2', ports: [up], extra: H2_UPSTREAM }],
      }),
    );
    // WHEN
    const res = await request(ingressPort(proxy), { path: '/x', method: 'POST', body: 'payload' });
    // THEN
    expect(res.status).toBe(200);
    expect(res.body).toBe('h2 POST /x payload');
    expect(res.headers['x-proto']).toBe('h2');
  });

  test('h2c prior-knowledge downstream to an HTTP/1.1 upstream', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'h1');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({ routeConfig: routeAll('h1'), clusters: [{ name: 'h1', ports: [up.port] }] }),
    );
    // WHEN
    const res = await h2Request(ingressPort(proxy), '/y', 'body');
    // THEN
    expect(res.status).toBe(200);
    expect(res.body).toBe('h1 POST /y');
    expect(up.seen[0]?.body).toBe('body');
    expect(proxy.stats.counter('http.ingress_http.downstream_rq_http2_total').value).toBe(1);
  });
});

describe('HTTP/2 request validation', () => {
  test('a :path that would split the HTTP/1.1 request line upstream gets 400 and never reaches it', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'h1');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({ routeConfig: routeAll('h1'), clusters: [{ name: 'h1', ports: [up.port] }] }),
    );
    // WHEN
    // (nghttp2 itself may already reset such a stream; either way it must not go upstream)
    const outcome = (p: string) =>
      h2Request(ingressPort(proxy), p).then(
        (r) => r.status,
        () => 'reset',
      );
    const results = [await outcome('/a HTTP/1.1 /b'), await outcome('/a b')];
    const ok = await h2Request(ingressPort(proxy), '/fine');
    // THEN
    for (const r of results) expect([400, 'reset']).toContain(r);
    expect(ok.status).toBe(200);
    expect(up.seen.map((s) => s.url)).toEqual(['/fine']);
  });
});

describe('gRPC through the proxy', () => {
  async function grpcProxy() {
    const up = await grpcUpstream();
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: routeAll('grpc'),
        clusters: [{ name: 'grpc', ports: [up], extra: H2_UPSTREAM }],
      }),
    );
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    const client = new Client(`127.0.0.1:${ingressPort(proxy)}`, grpc.credentials.createInsecure());
    closer.add(() => client.close());
    return client as unknown as {
      Unary: (req: Buffer, cb: (e: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientUnaryCall;
      Bidi: () => grpc.ClientDuplexStream<Buffer, Buffer>;
    };
  }

  test('unary calls carry responses, trailers and error statuses', async () => {
    // GIVEN
    const client = await grpcProxy();
    // WHEN
    const ok = await new Promise<{ res: string; trailer: unknown }>((resolve, reject) => {
      let trailer: unknown;
      const call = client.Unary(Buffer.from('hi'), (e, res) =>
        e ? reject(e) : resolve({ res: String(res), trailer }),
      );
      call.on('status', (s: grpc.StatusObject) => {
        trailer = s.metadata.get('x-trailer')[0];
      });
    });
    const failed = await new Promise<grpc.ServiceError>((resolve) =>
      client.Unary(Buffer.from('fail'), (e) => resolve(e as grpc.ServiceError)),
    );
    // THEN
    expect(ok.res).toBe('echo:hi');
    expect(failed.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(failed.details).toBe('asked to fail');
  });

  test('bidirectional streaming relays messages both ways as they come', async () => {
    // GIVEN
    const client = await grpcProxy();
    const call = client.Bidi();
    const got: string[] = [];
    // WHEN: send one, wait for its echo before sending the next (proves streaming, not buffering)
    const next = () =>
      new Promise<void>((r) => call.once('data', (b: Buffer) => r(void got.push(b.toString()))));
    for (const m of ['one', 'two', 'three']) {
      const p = next();
      call.write(Buffer.from(m));
      await p;
    }
    call.end();
    await new Promise<void>((r) => call.on('status', () => r()));
    // THEN
    expect(got).toEqual(['re:one', 're:two', 're:three']);
  });

  test('an unreachable gRPC upstream gives UNAVAILABLE (14), as Envoy maps 503', async () => {
    // GIVEN a cluster on a port nothing listens on
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: routeAll('dead'),
        clusters: [{ name: 'dead', ports: [1], extra: H2_UPSTREAM }],
      }),
    );
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    const client = new Client(
      `127.0.0.1:${ingressPort(proxy)}`,
      grpc.credentials.createInsecure(),
    ) as unknown as {
      Unary: (req: Buffer, cb: (e: grpc.ServiceError | null) => void) => void;
      close: () => void;
    };
    closer.add(() => client.close());
    // WHEN
    const error = await new Promise<grpc.ServiceError>((r) =>
      client.Unary(Buffer.from('x'), (e) => r(e as grpc.ServiceError)),
    );
    // THEN
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('WebSocket through the proxy', () => {
  test('upgrades and relays frames both ways', async () => {
    // GIVEN a ws echo server and a proxy with websocket upgrades enabled
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
    closer.add(() => new Promise((r) => wss.close(r)));
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: routeAll('ws'),
        clusters: [{ name: 'ws', ports: [(wss.address() as net.AddressInfo).port] }],
        hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }] },
      }),
    );
    // WHEN
    const ws = new WebSocket(`ws://127.0.0.1:${ingressPort(proxy)}/chat`);
    closer.add(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const replies: string[] = [];
    for (const m of ['a', 'b']) {
      const p = new Promise<void>((r) => ws.once('message', (d) => r(void replies.push(d.toString()))));
      ws.send(m);
      await p;
    }
    // THEN
    expect(replies).toEqual(['echo:a', 'echo:b']);
  });

  test('an upgrade the config does not enable is refused with 403', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'h1');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({ routeConfig: routeAll('h1'), clusters: [{ name: 'h1', ports: [up.port] }] }),
    );
    // WHEN
    const res = await request(ingressPort(proxy), {
      headers: { connection: 'upgrade', upgrade: 'websocket' },
    });
    // THEN
    expect(res.status).toBe(403);
    expect(up.seen).toHaveLength(0);
  });
});
