// The proxy's defences over real sockets: raw bytes from a net client into the real proxy, real
// upstreams (node:http, and a raw net server for broken upstream responses), port 0.
// Nothing is stood in.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startProxy } from '../../../proxy/main.js';
import {
  bootstrapJson,
  Closer,
  httpUpstream,
  ingressPort,
  rawExchange,
  request,
  startFromJson,
} from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function proxyTo(ports: number[], hcm: Record<string, unknown> = {}) {
  const proxy = await startFromJson(
    closer,
    bootstrapJson({
      routeConfig: {
        virtual_hosts: [
          {
            name: 'all',
            domains: ['*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0.5s' } }],
          },
        ],
      },
      clusters: [{ name: 'up', ports }],
      hcm,
    }),
  );
  return { port: ingressPort(proxy), proxy };
}

describe('proxy defences', () => {
  test.each([
    [
      'CL and TE together',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'duplicate Content-Length',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd',
    ],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['garbage', 'HELLO THERE\r\n\r\n'],
    ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n'],
  ])('%s gets 400 and the connection is closed; the upstream sees nothing', async (_name, bytes) => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const { port } = await proxyTo([up.port]);
    // WHEN
    const { data, closed } = await rawExchange(port, `${bytes}GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`);
    // THEN
    expect(data.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(closed).toBe(true);
    expect(up.seen).toHaveLength(0);
  });

  test('a request hidden in a body reaches the upstream only as body bytes', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const { port } = await proxyTo([up.port]);
    const hidden = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';
    // WHEN
    await rawExchange(
      port,
      `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    // THEN
    expect(up.seen.map((s) => s.url)).toEqual(['/upload', '/next']);
    expect(up.seen[0]?.body).toBe(hidden);
  });

  test('a header section over 60 KiB gets 431', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const { port } = await proxyTo([up.port]);
    // WHEN
    const { data } = await rawExchange(
      port,
      `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(61 * 1024)}\r\n\r\n`,
    );
    // THEN
    expect(data.startsWith('HTTP/1.1 431')).toBe(true);
  });

  test('a slowloris client is cut off by the request headers timeout', async () => {
    // GIVEN a 0.3 s headers timeout
    const up = await httpUpstream(closer, 'up');
    const { port, proxy } = await proxyTo([up.port], { request_headers_timeout: '0.3s' });
    // WHEN a client sends a partial head and then trickles
    const started = Date.now();
    const result = await new Promise<{ data: string; ms: number }>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: a\r\n'));
      let data = '';
      const trickle = setInterval(() => s.write('X-A: b\r\n'), 100);
      s.on('data', (d) => {
        data += d.toString('latin1');
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(trickle);
        resolve({ data, ms: Date.now() - started });
      });
    });
    // THEN
    expect(result.data.startsWith('HTTP/1.1 408')).toBe(true);
    expect(result.ms).toBeLessThan(2000);
    expect(proxy.stats.counter('http.ingress_http.downstream_rq_header_timeout').value).toBe(1);
  });

  test('a malformed upstream response gives 503 and the proxy keeps serving', async () => {
    // GIVEN an upstream that answers garbage
    const bad = net.createServer((s) => s.once('data', () => s.end('NOT HTTP AT ALL\r\n\r\n')));
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => bad.close(r)));
    const { port } = await proxyTo([(bad.address() as net.AddressInfo).port]);
    // WHEN
    const first = await request(port);
    const second = await request(port);
    // THEN
    expect(first.status).toBe(503);
    expect(first.body).toContain('reset reason: protocol error');
    expect(second.status).toBe(503);
  });

  test('a silent upstream gives 504 after the route timeout', async () => {
    // GIVEN an upstream that accepts and never answers
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closer.add(() => {
      silent.close();
    });
    const { port, proxy } = await proxyTo([(silent.address() as net.AddressInfo).port]);
    // WHEN
    const res = await request(port);
    // THEN
    expect(res.status).toBe(504);
    expect(res.body).toBe('upstream request timeout');
    expect(proxy.stats.counter('cluster.up.upstream_rq_timeout').value).toBe(1);
  });

  test('a long route timeout (kept by the sweeper, not a timer) also answers 504', async () => {
    // GIVEN a silent upstream and a 1 s route timeout
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closer.add(() => {
      silent.close();
    });
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          virtual_hosts: [
            {
              name: 'all',
              domains: ['*'],
              routes: [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '1s' } }],
            },
          ],
        },
        clusters: [{ name: 'up', ports: [(silent.address() as net.AddressInfo).port] }],
      }),
    );
    // WHEN
    const started = Date.now();
    const res = await request(ingressPort(proxy));
    // THEN within one sweep tick of the deadline
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('the max_requests circuit breaker fails the excess request fast with 503 UO', async () => {
    // GIVEN an upstream that answers after 300 ms and max_requests 1
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('done'), 300);
    });
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          virtual_hosts: [
            { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up' } }] },
          ],
        },
        clusters: [
          {
            name: 'up',
            ports: [up.port],
            extra: { circuit_breakers: { thresholds: [{ max_requests: 1 }] } },
          },
        ],
      }),
    );
    const port = ingressPort(proxy);
    // WHEN two requests overlap
    const [a, b] = await Promise.all([
      request(port),
      new Promise((r) => setTimeout(r, 50)).then(() => request(port)),
    ]);
    // THEN
    expect(a.status).toBe(200);
    expect(b.status).toBe(503);
    expect(b.body).toContain('reset reason: overflow');
    expect(proxy.stats.counter('cluster.up.upstream_rq_pending_overflow').value).toBe(1);
  });

  test('an idle keep-alive connection is closed after common_http_protocol_options.idle_timeout', async () => {
    // GIVEN a 0.3 s connection idle timeout
    const up = await httpUpstream(closer, 'up');
    const { port } = await proxyTo([up.port], { common_http_protocol_options: { idle_timeout: '0.3s' } });
    // WHEN one request is answered and the connection then sits idle
    const started = Date.now();
    const { data, closed } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 3000);
    // THEN the proxy closed it soon after the timeout
    expect(data.startsWith('HTTP/1.1 200')).toBe(true);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('stream_idle_timeout answers 408 when the upstream goes quiet before responding', async () => {
    // GIVEN a silent upstream, no route timeout, a 0.3 s stream idle timeout
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closer.add(() => {
      silent.close();
    });
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          virtual_hosts: [
            {
              name: 'all',
              domains: ['*'],
              routes: [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s' } }],
            },
          ],
        },
        clusters: [{ name: 'up', ports: [(silent.address() as net.AddressInfo).port] }],
        hcm: { stream_idle_timeout: '0.3s' },
      }),
    );
    // WHEN
    const res = await request(ingressPort(proxy));
    // THEN
    expect(res.status).toBe(408);
    expect(proxy.stats.counter('http.ingress_http.downstream_rq_idle_timeout').value).toBe(1);
  });

  test('a refused upstream connection is logged once (rate-limited) besides the 503', async () => {
    // GIVEN a proxy logging at warning level into a buffer, and a cluster nobody listens on
    const lines: string[] = [];
    const bootstrap = loadBootstrap(
      JSON.stringify(
        bootstrapJson({
          routeConfig: {
            virtual_hosts: [
              { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up' } }] },
            ],
          },
          clusters: [{ name: 'up', ports: [1] }],
        }),
      ),
      { format: 'json' },
    );
    const proxy = await startProxy(bootstrap, { logLevel: 'warning', logWrite: (l) => lines.push(l) });
    closer.add(() => proxy.close());
    // WHEN two requests fail in a row
    const a = await request(ingressPort(proxy));
    const b = await request(ingressPort(proxy));
    // THEN both get 503, and one warning names the cluster and host
    expect([a.status, b.status]).toEqual([503, 503]);
    const warnings = lines.filter((l) => l.includes('[warning][upstream]'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('cluster up: connect to 127.0.0.1:1 failed');
  });

  test('request_timeout answers 408 when the request body stalls', async () => {
    // GIVEN a 0.3 s request timeout
    const up = await httpUpstream(closer, 'up');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          virtual_hosts: [
            { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up' } }] },
          ],
        },
        clusters: [{ name: 'up', ports: [up.port] }],
        hcm: { request_timeout: '0.3s' },
      }),
    );
    const port = ingressPort(proxy);
    // WHEN a client promises 10 bytes and sends 3
    const { data } = await rawExchange(
      port,
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc',
      1500,
    );
    // THEN
    expect(data.startsWith('HTTP/1.1 408')).toBe(true);
  });

  test('HTTP/1.0 is refused with 426 unless accept_http_10 is set, as Envoy does', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const { port } = await proxyTo([up.port]);
    // WHEN
    const { data } = await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n');
    // THEN
    expect(data.startsWith('HTTP/1.1 426')).toBe(true);
  });
});
