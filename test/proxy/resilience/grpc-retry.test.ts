// gRPC retries through the real proxy: an @grpc/grpc-js client and server (h2c upstream) on
// loopback (port 0). The server answers UNAVAILABLE (a trailers-only response) before it
// succeeds; retry_on `unavailable` replays the request body. Also a node:http2 (h2c) upstream that
// answers REFUSED_STREAM, retried under `refused-stream`. Nothing is stood in.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer } from '../e2e/helpers.js';
import { counter, get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

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
};

const H2_UPSTREAM = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

/** A server failing the first `failures` calls with `code`. */
async function grpcUpstream(failures: number, code: grpc.status): Promise<{ port: number; calls: string[] }> {
  const calls: string[] = [];
  const server = new grpc.Server();
  server.addService(ECHO, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      calls.push(call.request.toString());
      if (calls.length <= failures) {
        cb({ code, details: 'not now' });
        return;
      }
      cb(null, Buffer.from(`echo:${call.request.toString()}`));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  closer.add(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { port, calls };
}

function client(port: number) {
  const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
  const c = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Unary: (req: Buffer, cb: (e: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientUnaryCall;
  };
  closer.add(() => c.close());
  return c;
}

describe('gRPC retries', () => {
  test('UNAVAILABLE is retried under retry_on unavailable and the body is replayed', async () => {
    // GIVEN a server failing twice with UNAVAILABLE
    const up = await grpcUpstream(2, grpc.status.UNAVAILABLE);
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: H2_UPSTREAM,
      routeAction: {
        retry_policy: {
          retry_on: 'unavailable',
          num_retries: 2,
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    // WHEN
    const reply = await new Promise<Buffer | grpc.ServiceError>((resolve) =>
      client(port).Unary(Buffer.from('hi'), (e, res) => resolve(e ?? (res as Buffer))),
    );
    // THEN
    expect(reply.toString()).toBe('echo:hi');
    expect(up.calls).toEqual(['hi', 'hi', 'hi']);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBe(2);
  });

  test('a status outside retry_on comes back unchanged', async () => {
    // GIVEN a server failing once with INTERNAL, retries only for unavailable
    const up = await grpcUpstream(1, grpc.status.INTERNAL);
    const { port } = await startScenario(closer, {
      ports: [up.port],
      cluster: H2_UPSTREAM,
      routeAction: { retry_policy: { retry_on: 'unavailable', num_retries: 2 } },
    });
    // WHEN
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client(port).Unary(Buffer.from('x'), (e) => resolve(e)),
    );
    // THEN
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(up.calls).toHaveLength(1);
  });
});

describe('HTTP/2 refused streams', () => {
  test('refused-stream: an h2c upstream refusing the stream (REFUSED_STREAM) is retried', async () => {
    // GIVEN an h2c server that refuses its first stream
    const http2 = await import('node:http2');
    let calls = 0;
    const server = http2.createServer((req, res) => {
      calls++;
      if (calls === 1) {
        req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      res.end('accepted');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise<void>((r) => server.close(() => r())));
    const address = server.address() as import('node:net').AddressInfo;
    const { port, proxy } = await startScenario(closer, {
      ports: [address.port],
      cluster: H2_UPSTREAM,
      routeAction: {
        retry_policy: {
          retry_on: 'refused-stream',
          num_retries: 1,
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    // WHEN
    const res = await get(port);
    // THEN
    expect(res.body).toBe('accepted');
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBe(1);
  });
});
