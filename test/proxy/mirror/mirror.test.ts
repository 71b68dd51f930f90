/**
 * Request mirroring (`request_mirror_policies`) in the bundled proxy, over real sockets: the real
 * loader and runtime, node:http upstreams on port 0 (a primary, a slow failing shadow, a shadow
 * that never answers, a port nothing listens on), and an HTTP/2 (h2c) shadow. Nothing is stood in.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { shadowAuthority } from '../../../proxy/filters/mirror.js';
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

const H2_OPTIONS = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

function route(prefix: string, mirrors: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return { match: { prefix }, route: { cluster: 'primary', request_mirror_policies: mirrors, ...extra } };
}

const ROUTES = {
  name: 'local',
  virtual_hosts: [
    {
      name: 'all',
      domains: ['*'],
      routes: [
        route('/all', [{ cluster: 'shadow' }]),
        route('/none', [{ cluster: 'shadow', runtime_fraction: { default_value: { numerator: 0 } } }]),
        route('/half', [{ cluster: 'shadow', runtime_fraction: { default_value: { numerator: 50 } } }]),
        route('/slow', [{ cluster: 'hanging' }], { timeout: '0.2s' }),
        route('/broken', [{ cluster: 'closed' }]),
        route('/two', [{ cluster: 'shadow' }, { cluster: 'h2' }]),
      ],
    },
  ],
};

/** A port with nothing listening on it (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('request_mirror_policies', () => {
  const closer = new Closer();
  let proxy: ProxyHandle;
  let port = 0;
  let primary: SeenRequest[];
  let primaryPort = 0;
  let shadowAnswered = 0;
  let shadow: SeenRequest[];
  let hanging: SeenRequest[];
  const h2Seen: { authority: string; path: string; body: string }[] = [];

  beforeAll(async () => {
    const primaryUp = await httpUpstream(closer, 'primary');
    primary = primaryUp.seen;
    primaryPort = primaryUp.port;
    // A slow shadow that fails: the caller must see none of it.
    const shadowUp = await httpUpstream(closer, 'shadow', (_req, res) => {
      setTimeout(() => {
        shadowAnswered += 1;
        res.statusCode = 500;
        res.end('shadow failed');
      }, 300);
    });
    shadow = shadowUp.seen;
    // A shadow that never answers: the route's timeout ends the copy.
    const hangingUp = await httpUpstream(closer, 'hanging', () => undefined);
    hanging = hangingUp.seen;
    const h2 = http2.createServer();
    h2.on('stream', (stream, headers) => {
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => {
        body += c;
      });
      stream.on('end', () => {
        h2Seen.push({ authority: String(headers[':authority']), path: String(headers[':path']), body });
        stream.respond({ ':status': 200 });
        stream.end('h2 shadow');
      });
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => h2.close(r)));
    proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: ROUTES,
        admin: true,
        clusters: [
          { name: 'primary', ports: [primaryPort] },
          { name: 'shadow', ports: [shadowUp.port] },
          { name: 'hanging', ports: [hangingUp.port] },
          { name: 'closed', ports: [await closedPort()] },
          { name: 'h2', ports: [(h2.address() as net.AddressInfo).port], extra: H2_OPTIONS },
        ],
      }),
    );
    port = ingressPort(proxy);
  });
  afterAll(() => closer.closeAll());

  test('a mirrored request reaches the shadow with -shadow on its host and the same body; the caller gets only the primary response', async () => {
    // GIVEN a route mirroring every request to a slow shadow that answers 500
    const before = shadow.length;
    const answered = shadowAnswered;
    // WHEN a POST with a body goes through
    const res = await request(port, {
      method: 'POST',
      path: '/all/x?q=1',
      headers: { host: 'shop.local:8080', 'content-type': 'text/plain' },
      body: 'hello mirror',
    });
    // THEN the caller gets the primary's answer before the shadow (300 ms late) has answered
    expect(shadowAnswered).toBe(answered);
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream']).toBe('primary');
    expect(res.body).toBe('primary POST /all/x?q=1');
    // AND the shadow got a copy: same method, path and body, host with -shadow before the port
    await expect.poll(() => shadow.length).toBe(before + 1);
    const copy = shadow.at(-1) as SeenRequest;
    expect(copy).toMatchObject({ method: 'POST', url: '/all/x?q=1', body: 'hello mirror' });
    expect(copy.headers.host).toBe('shop.local-shadow:8080');
    expect(copy.headers['content-length']).toBe(String('hello mirror'.length));
    expect(copy.headers['x-request-id']).toBeDefined();
    // AND the shadow's 500 is counted on its cluster, not on the caller's
    await expect.poll(() => proxy.stats.counter('cluster.shadow.upstream_rq_500').value).toBeGreaterThan(0);
  });

  test('runtime_fraction 0 never mirrors; 50% mirrors about half', async () => {
    // GIVEN routes mirroring 0 % and 50 %
    const before = shadow.length;
    // WHEN 10 requests go to the 0 % route and 200 to the 50 % route
    for (let i = 0; i < 10; i++) await request(port, { path: '/none' });
    const half = 200;
    await Promise.all(Array.from({ length: half }, () => request(port, { path: '/half' })));
    // THEN none of the first and roughly half of the second reach the shadow (binomial, 5 sigma: 65..135)
    await new Promise((r) => setTimeout(r, 300));
    const mirrored = shadow.slice(before);
    expect(mirrored.filter((s) => s.url === '/none')).toHaveLength(0);
    const halfCount = mirrored.filter((s) => s.url === '/half').length;
    expect(halfCount).toBeGreaterThan(65);
    expect(halfCount).toBeLessThan(135);
  });

  test('a shadow that never answers or cannot be reached changes nothing for the caller', async () => {
    // GIVEN mirrors to a hanging upstream (route timeout 0.2 s) and to a closed port
    // WHEN requests go through both routes
    const slow = await request(port, { path: '/slow' });
    const broken = await request(port, { path: '/broken' });
    // THEN both callers get the primary's 200
    expect(slow.status).toBe(200);
    expect(broken.status).toBe(200);
    // AND the hanging copy arrived and was cancelled by the route's timeout
    await expect.poll(() => hanging.length).toBe(1);
    await expect.poll(() => proxy.stats.counter('cluster.hanging.upstream_rq_timeout').value).toBe(1);
    // AND the primary served both
    expect(primary.map((r) => r.url).filter((u) => u === '/slow' || u === '/broken')).toEqual([
      '/slow',
      '/broken',
    ]);
  });

  test('several policies each get a copy, over HTTP/1.1 and HTTP/2', async () => {
    // GIVEN a route with two mirrors, one to an h2c cluster
    const before = shadow.length;
    // WHEN one request goes through
    const res = await request(port, { method: 'PUT', path: '/two', headers: { host: 'api' }, body: 'both' });
    // THEN the caller gets the primary's answer, and each shadow got the request once
    expect(res.status).toBe(200);
    await expect.poll(() => h2Seen.length).toBe(1);
    expect(h2Seen[0]).toEqual({ authority: 'api-shadow', path: '/two', body: 'both' });
    await expect.poll(() => shadow.length).toBe(before + 1);
  });

  test('a request over HTTP/2 (h2c) is mirrored with its body and the shadow host', async () => {
    // GIVEN an h2c client of the proxy
    const before = shadow.length;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    closer.add(() => session.close());
    // WHEN it POSTs to the mirrored route
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/all/h2', ':authority': 'shop:81' });
      stream.on('response', (headers) => resolve(Number(headers[':status'])));
      stream.on('error', reject);
      stream.resume();
      stream.end('over h2');
    });
    // THEN the caller gets the primary's answer and the shadow a copy over HTTP/1.1
    expect(status).toBe(200);
    await expect.poll(() => shadow.length).toBe(before + 1);
    expect(shadow.at(-1)).toMatchObject({ method: 'POST', url: '/all/h2', body: 'over h2' });
    expect(shadow.at(-1)?.headers.host).toBe('shop-shadow:81');
  });

  test('a body over the buffer limit (1 MiB) goes to the primary whole and is not mirrored', async () => {
    // GIVEN the mirrored route and a 1.5 MiB body
    const before = shadow.length;
    const body = 'x'.repeat(1536 * 1024);
    // WHEN it is POSTed
    const res = await request(port, { method: 'POST', path: '/all/big', body });
    // THEN the primary got all of it, and the shadow (after a later small request) only the small one
    expect(res.status).toBe(200);
    expect(primary.at(-1)?.body.length).toBe(body.length);
    await request(port, { path: '/all/after' });
    await expect.poll(() => shadow.length).toBe(before + 1);
    expect(shadow.at(-1)?.url).toBe('/all/after');
  });

  test('a mirror to a cluster that does not exist is refused at load, naming it', () => {
    // GIVEN a static route config whose mirror names an unknown cluster
    const json = bootstrapJson({
      routeConfig: {
        virtual_hosts: [{ name: 'all', domains: ['*'], routes: [route('/', [{ cluster: 'ghost' }])] }],
      },
      clusters: [{ name: 'primary', ports: [1] }],
    });
    // WHEN loaded
    let error: unknown;
    try {
      loadBootstrap(JSON.stringify(json), { format: 'json' });
    } catch (e) {
      error = e;
    }
    // THEN the problem names the mirror's cluster field, as Envoy does
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).problems[0]?.path).toMatch(
      /routes\[0\]\.route\.request_mirror_policies\[0\]\.cluster$/,
    );
    expect((error as MeshError).message).toContain("unknown shadow cluster 'ghost'");
  });
});

describe('shadowAuthority', () => {
  test.each([
    ['api', 'api-shadow'],
    ['api:8080', 'api-shadow:8080'],
    ['shop.local:8080', 'shop.local-shadow:8080'],
    ['[::1]:80', '[::1]-shadow:80'],
    ['[::1]', '[::1]-shadow'],
  ])('%s → %s', (given, expected) => {
    // GIVEN an authority WHEN shadowed THEN -shadow goes after the host, before the port
    expect(shadowAuthority(given)).toBe(expected);
  });
});
