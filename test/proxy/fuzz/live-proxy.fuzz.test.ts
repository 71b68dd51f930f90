// Fuzzing a live proxy: fast-check byte streams (random, and mutated valid pipelines with a request
// hidden in a body) sent over real TCP to the real proxy, which forwards to a real node:http
// upstream that records every request it receives. Loopback, port 0; nothing is stood in.
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ProxyHandle } from '../../../proxy/main.js';
import {
  bootstrapJson,
  Closer,
  httpUpstream,
  ingressPort,
  request,
  type SeenRequest,
  startFromJson,
} from '../e2e/helpers.js';

const closer = new Closer();
let proxy: ProxyHandle;
let port: number;
let seen: SeenRequest[];

beforeAll(async () => {
  const up = await httpUpstream(closer, 'up');
  seen = up.seen;
  proxy = await startFromJson(
    closer,
    bootstrapJson({
      routeConfig: {
        virtual_hosts: [
          { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'up' } }] },
        ],
      },
      clusters: [{ name: 'up', ports: [up.port] }],
      hcm: { request_headers_timeout: '0.5s' },
    }),
  );
  port = ingressPort(proxy);
});
afterAll(() => closer.closeAll());

/** Writes `chunks` on one connection, then half-closes; resolves when the proxy closes or 1.5 s pass. */
function blast(chunks: readonly Uint8Array[]): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => s.destroy(), 1500);
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
      s.end();
    });
    s.on('data', (d) => {
      data += d.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

describe('live proxy fuzzing', () => {
  test('random byte streams never crash the proxy and never reach the upstream as /smuggled', async () => {
    // GIVEN random bytes, sometimes after a valid request line
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (chunks, prefixed) => {
          const head = prefixed ? [Buffer.from('POST /fuzz HTTP/1.1\r\nHost: a\r\n', 'latin1')] : [];
          // WHEN
          await blast([...head, ...chunks]);
        },
      ),
      { numRuns: 40 },
    );
    // THEN the proxy still answers, and nothing got through with the marker path
    const res = await request(port, { path: '/alive' });
    expect(res.status).toBe(200);
    expect(seen.some((s) => s.url.includes('smuggled'))).toBe(false);
  });

  test('random frames after the HTTP/2 preface never crash the proxy', async () => {
    // GIVEN the h2c connection preface followed by random bytes (malformed frames)
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 120 }), { minLength: 1, maxLength: 3 }),
        async (chunks) => {
          // WHEN
          await blast([preface, ...chunks]);
        },
      ),
      { numRuns: 30 },
    );
    // THEN
    expect((await request(port, { path: '/after-h2-fuzz' })).status).toBe(200);
  });

  test('mutated smuggling pipelines never desynchronise proxy and upstream', async () => {
    // GIVEN a POST whose body holds a request to /smuggled, with one head byte mutated. A mutation
    // may legitimately turn the body into a second request (e.g. a broken Content-Length name);
    // what must never happen is the upstream receiving a request the proxy did not route.
    const routedBefore = proxy.stats.counter('cluster.up.upstream_rq_total').value;
    const seenBefore = seen.length;
    const hidden = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
    const framings = [
      `Content-Length: ${hidden.length}`,
      'Transfer-Encoding: chunked',
      `Content-Length: ${hidden.length}\r\nTransfer-Encoding: chunked`,
      `Transfer-Encoding: chunked\r\nContent-Length: 0`,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...framings),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        async (framing, at, byte) => {
          const body =
            framing === 'Transfer-Encoding: chunked'
              ? `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`
              : hidden;
          const head = Buffer.from(`POST /carrier HTTP/1.1\r\nHost: a\r\n${framing}\r\n\r\n`, 'latin1');
          head[16 + (at % (head.length - 20))] = byte;
          // WHEN
          await blast([head, Buffer.from(body, 'latin1')]);
        },
      ),
      { numRuns: 60 },
    );
    // THEN every request the upstream parsed is one the proxy routed (no desync), and the
    // unmutated framings (CL+TE, TE+CL) were refused outright
    const routed = proxy.stats.counter('cluster.up.upstream_rq_total').value - routedBefore;
    expect(seen.length - seenBefore).toBeLessThanOrEqual(routed);
    const intact = await blast([
      Buffer.from(
        `POST /carrier HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
        'latin1',
      ),
      Buffer.from(`${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`, 'latin1'),
    ]);
    expect(intact.startsWith('HTTP/1.1 400')).toBe(true);
    expect((await request(port, { path: '/still-alive' })).status).toBe(200);
  });
});
