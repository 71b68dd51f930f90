// End-to-end routing through the real proxy (loader + router + cluster manager + engine) to real
// node:http upstreams, all on loopback with port 0. Nothing is stood in.
import { afterEach, describe, expect, test } from 'vitest';
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

async function twoServiceProxy() {
  const a = await httpUpstream(closer, 'a');
  const b = await httpUpstream(closer, 'b');
  const proxy = await startFromJson(
    closer,
    bootstrapJson({
      routeConfig: {
        name: 'local',
        virtual_hosts: [
          {
            name: 'api',
            domains: ['api.example.com', 'api.example.com:*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }],
          },
          {
            name: 'default',
            domains: ['*'],
            routes: [
              { match: { prefix: '/a/' }, route: { cluster: 'a', prefix_rewrite: '/' } },
              {
                match: { prefix: '/h', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] },
                route: { cluster: 'b' },
              },
              { match: { prefix: '/h' }, route: { cluster: 'a', host_rewrite_literal: 'rewritten.local' } },
              {
                match: { path: '/direct' },
                direct_response: { status: 418, body: { inline_string: 'teapot' } },
              },
              { match: { path: '/old' }, redirect: { path_redirect: '/new' } },
              { match: { prefix: '/missing' }, route: { cluster: 'nowhere' } },
            ],
          },
        ],
      },
      clusters: [
        { name: 'a', ports: [a.port] },
        { name: 'b', ports: [b.port] },
        { name: 'nowhere', ports: [1] },
      ],
    }),
  );
  return { a, b, port: ingressPort(proxy), proxy };
}

describe('proxy routing end to end', () => {
  test('routes by prefix with prefix_rewrite and sets Envoy forwarding headers', async () => {
    // GIVEN
    const { a, port } = await twoServiceProxy();
    // WHEN
    const res = await request(port, { path: '/a/items?x=1' });
    // THEN
    expect(res.status).toBe(200);
    expect(res.body).toBe('a GET /items?x=1');
    expect(res.headers.server).toBe('envoy');
    expect(res.headers['x-envoy-upstream-service-time']).toMatch(/^\d+$/);
    const seen = a.seen[0];
    expect(seen?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen?.headers['x-forwarded-proto']).toBe('http');
    expect(seen?.headers['x-envoy-original-path']).toBe('/a/items?x=1');
    expect(seen?.headers['x-envoy-expected-rq-timeout-ms']).toBe('15000');
  });

  test('x-envoy-upstream-service-time is replaced, not appended, behind another proxy hop', async () => {
    // GIVEN an upstream that already answers with the header (as a sidecar behind a gateway does)
    const up = await httpUpstream(closer, 'hop', (_req, res) => {
      res.setHeader('x-envoy-upstream-service-time', '999');
      res.end('ok');
    });
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          name: 'local',
          virtual_hosts: [
            { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'hop' } }] },
          ],
        },
        clusters: [{ name: 'hop', ports: [up.port] }],
      }),
    );
    // WHEN
    const res = await request(ingressPort(proxy), { path: '/' });
    // THEN one value, this hop's own
    expect(res.headers['x-envoy-upstream-service-time']).toMatch(/^\d+$/);
    expect(res.headers['x-envoy-upstream-service-time']).not.toBe('999');
  });

  test('selects the virtual host by domain, with and without a port', async () => {
    // GIVEN
    const { port } = await twoServiceProxy();
    // WHEN
    const plain = await request(port, { path: '/x', headers: { host: 'api.example.com' } });
    const withPort = await request(port, { path: '/x', headers: { host: 'api.example.com:8080' } });
    // THEN
    expect(plain.body).toBe('b GET /x');
    expect(withPort.body).toBe('b GET /x');
  });

  test('matches headers and rewrites the host', async () => {
    // GIVEN
    const { a, port } = await twoServiceProxy();
    // WHEN
    const canary = await request(port, { path: '/h', headers: { 'x-canary': 'yes' } });
    const stable = await request(port, { path: '/h' });
    // THEN
    expect(canary.body).toBe('b GET /h');
    expect(stable.body).toBe('a GET /h');
    expect(a.seen[0]?.headers.host).toBe('rewritten.local');
  });

  test('answers direct responses, redirects and 404 for no route', async () => {
    // GIVEN
    const { port } = await twoServiceProxy();
    // WHEN
    const direct = await request(port, { path: '/direct' });
    const redirect = await request(port, { path: '/old' });
    const none = await request(port, { path: '/nope', headers: { host: 'unknown.example.com' } });
    // THEN
    expect(direct.status).toBe(418);
    expect(direct.body).toBe('teapot');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`http://127.0.0.1:${port}/new`);
    expect(none.status).toBe(404);
  });

  test('an upstream that refuses connections gives 503 UF with Envoy’s body, and the proxy lives on', async () => {
    // GIVEN
    const { port, proxy } = await twoServiceProxy();
    // WHEN
    const res = await request(port, { path: '/missing' });
    const after = await request(port, { path: '/a/' });
    // THEN
    expect(res.status).toBe(503);
    expect(res.body).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    );
    expect(after.status).toBe(200);
    expect(proxy.stats.counter('cluster.nowhere.upstream_cx_connect_fail').value).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(proxy.stats.counter('http.ingress_http.downstream_cx_rx_bytes_total').value).toBeGreaterThan(0);
    expect(proxy.stats.counter('http.ingress_http.downstream_cx_tx_bytes_total').value).toBeGreaterThan(0);
    expect(proxy.stats.counter('http.ingress_http.no_route').value).toBe(0);
  });

  test('keeps a downstream connection alive across requests and answers pipelined requests in order', async () => {
    // GIVEN
    const { port } = await twoServiceProxy();
    // WHEN three pipelined requests on one connection, the last one closing it
    const { data } = await rawExchange(
      port,
      'GET /a/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /a/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /a/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    // THEN
    const bodies = [...data.matchAll(/a GET \/(\d)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['1', '2', '3']);
  });

  test('answers pipelined requests that get local replies in order, without re-entrancy', async () => {
    // GIVEN
    const { port } = await twoServiceProxy();
    // WHEN direct responses, a 404 and a proxied request arrive in one packet
    const { data } = await rawExchange(
      port,
      'GET /direct HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: unknown.example.com\r\n\r\nGET /a/z HTTP/1.1\r\nHost: x\r\n\r\nGET /direct HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    // THEN
    const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    expect(statuses).toEqual(['418', '404', '200', '418']);
  });

  test('streams chunked request bodies and 100-continue', async () => {
    // GIVEN
    const { a, port } = await twoServiceProxy();
    // WHEN
    const { data } = await rawExchange(
      port,
      'POST /a/up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    // THEN
    expect(data.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK')).toBe(true);
    expect(a.seen[0]?.body).toBe('hello world');
    expect(a.seen[0]?.headers.expect).toBeUndefined();
  });
});
