// Mutual TLS in the bundled proxy, over real sockets on loopback: downstream client-certificate
// checks (trusted_ca, require_client_certificate, URI SAN matchers, static secrets and
// combined_validation_context as the Envoy renderer emits them) and upstream SAN checks.
// Nothing is stood in: certificates come from the openssl CLI (a CA and SPIFFE URI-SAN leaves),
// clients are node:tls / node:https, upstreams are node:http and node:https servers.
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { bootstrapJson, Closer, httpUpstream, ingressPort, startFromJson } from '../e2e/helpers.js';
import {
  echoPeerSan,
  inlineTlsContext,
  makePki,
  type Pki,
  secretTlsContext,
  spiffe,
  startMtlsServer,
  tlsSocket,
  uriSan,
} from './fixtures.js';

const ROUTES = {
  name: 'local',
  virtual_hosts: [
    { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
  ],
};

let pki: Pki;
let other: Pki;

beforeAll(async () => {
  pki = await makePki(['server', 'frontend', 'intruder']);
  other = await makePki(['frontend'], 'other');
}, 30_000);

/** One HTTPS request with an optional client certificate; `error` when the connection failed. */
function get(
  port: number,
  client: { cert?: string; key?: string },
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/hello',
        ca: pki.ca,
        servername: 'server',
        ...client,
        agent: false,
        // The server certificate names `server`, not 127.0.0.1.
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message }));
    req.end();
  });
}

function counter(handle: { stats: { counter(name: string): { value: number } } }, name: string): number {
  return handle.stats.counter(name).value;
}

describe('downstream mTLS', () => {
  const closer = new Closer();
  let port = 0;
  let handle: Awaited<ReturnType<typeof startFromJson>>;

  beforeAll(async () => {
    const app = await httpUpstream(closer, 'app');
    // GIVEN a listener that requires a client certificate from the CA whose URI SAN is frontend's,
    // with the certificate and trust bundle as static secrets and a combined validation context,
    // exactly the shape the Envoy renderer emits (minus sds_config)
    const json = bootstrapJson({
      routeConfig: ROUTES,
      clusters: [{ name: 'app', ports: [app.port] }],
      listenerExtra: { stat_prefix: 'mtls' },
      filterChainExtra: {
        transport_socket: tlsSocket('downstream', {
          require_client_certificate: true,
          common_tls_context: secretTlsContext('identity', 'trust', spiffe('frontend')),
        }),
      },
    });
    (json.static_resources as Record<string, unknown>).secrets = [
      {
        name: 'identity',
        tls_certificate: {
          certificate_chain: { filename: pki.certPath('server') },
          private_key: { filename: pki.keyPath('server') },
        },
      },
      { name: 'trust', validation_context: { trusted_ca: { inline_string: pki.ca } } },
    ];
    handle = await startFromJson(closer, json);
    port = ingressPort(handle);
  });
  afterAll(() => closer.closeAll());

  test('a client certificate with the expected SPIFFE id is accepted', async () => {
    // GIVEN frontend's certificate
    // WHEN it calls through the listener
    const res = await get(port, { cert: pki.cert('frontend'), key: pki.key('frontend') });
    // THEN the request reaches the app
    expect(res).toEqual({ status: 200, body: 'app GET /hello' });
  });

  test('a certificate of the same CA with another SPIFFE id is refused (ssl.fail_verify_san)', async () => {
    // GIVEN a certificate from the mesh CA for another workload
    const before = counter(handle, 'listener.mtls.ssl.fail_verify_san');
    const handshakes = counter(handle, 'listener.mtls.ssl.handshake');
    const errors = counter(handle, 'listener.mtls.ssl.connection_error');
    // WHEN it calls
    const res = await get(port, { cert: pki.cert('intruder'), key: pki.key('intruder') });
    // THEN the connection is closed before any response, and the SAN failure is counted as a
    // failed handshake, as Envoy counts it
    expect(res).toHaveProperty('error');
    expect(counter(handle, 'listener.mtls.ssl.fail_verify_san')).toBe(before + 1);
    expect(counter(handle, 'listener.mtls.ssl.connection_error')).toBe(errors + 1);
    expect(counter(handle, 'listener.mtls.ssl.handshake')).toBe(handshakes);
  });

  test('no client certificate is refused (ssl.fail_verify_no_cert)', async () => {
    // GIVEN a client without a certificate
    const before = counter(handle, 'listener.mtls.ssl.fail_verify_no_cert');
    // WHEN it calls
    const res = await get(port, {});
    // THEN it gets no response
    expect(res).toHaveProperty('error');
    expect(counter(handle, 'listener.mtls.ssl.fail_verify_no_cert')).toBe(before + 1);
  });

  test('the right SPIFFE id from another CA is refused (ssl.fail_verify_error)', async () => {
    // GIVEN a certificate naming frontend, signed by a CA the listener does not trust
    const before = counter(handle, 'listener.mtls.ssl.fail_verify_error');
    // WHEN it calls
    const res = await get(port, { cert: other.cert('frontend'), key: other.key('frontend') });
    // THEN it is refused as untrusted, not as a SAN mismatch
    expect(res).toHaveProperty('error');
    expect(counter(handle, 'listener.mtls.ssl.fail_verify_error')).toBe(before + 1);
  });

  test('a refused client does not disturb an established connection', async () => {
    // GIVEN an accepted keep-alive TLS connection
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      servername: 'server',
      cert: pki.cert('frontend'),
      key: pki.key('frontend'),
      checkServerIdentity: () => undefined,
    });
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    const exchange = (s: net.Socket) =>
      new Promise<string>((resolve) => {
        let data = '';
        const onData = (d: Buffer) => {
          data += d.toString('latin1');
          if (data.includes('app GET /')) {
            s.removeListener('data', onData);
            resolve(data);
          }
        };
        s.on('data', onData);
        s.write('GET /again HTTP/1.1\r\nhost: server\r\n\r\n');
      });
    expect(await exchange(socket)).toContain('HTTP/1.1 200');
    // WHEN an intruder is refused meanwhile
    await get(port, { cert: pki.cert('intruder'), key: pki.key('intruder') });
    // THEN the first connection keeps serving
    expect(await exchange(socket)).toContain('app GET /again');
    socket.destroy();
  });
});

describe('permissive mTLS (tls_inspector, a TLS chain and a plaintext chain)', () => {
  const closer = new Closer();
  let port = 0;

  beforeAll(async () => {
    const app = await httpUpstream(closer, 'app');
    // GIVEN the permissive listener the Envoy renderer emits: TLS clients to the mTLS chain,
    // everything else to the plaintext chain
    const json = bootstrapJson({ routeConfig: ROUTES, clusters: [{ name: 'app', ports: [app.port] }] });
    const listener = (json.static_resources as { listeners: Record<string, unknown>[] })
      .listeners[0] as Record<string, unknown>;
    const [plain] = listener.filter_chains as Record<string, unknown>[];
    listener.listener_filters = [
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
        },
      },
    ];
    listener.filter_chains = [
      {
        ...plain,
        filter_chain_match: { transport_protocol: 'tls' },
        transport_socket: tlsSocket('downstream', {
          require_client_certificate: true,
          common_tls_context: inlineTlsContext(pki, 'server', {
            trusted_ca: { inline_string: pki.ca },
            match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://test.local/' } }],
          }),
        }),
      },
      plain,
    ];
    port = ingressPort(await startFromJson(closer, json));
  });
  afterAll(() => closer.closeAll());

  test('mTLS clients and plaintext clients are both served; a TLS client without a certificate is not', async () => {
    // WHEN an mTLS client, a plaintext client and a TLS client without a certificate call
    const mtls = await get(port, { cert: pki.cert('frontend'), key: pki.key('frontend') });
    const plain = await fetch(`http://127.0.0.1:${port}/hello`);
    const bare = await get(port, {});
    // THEN the first two reach the app; the TLS chain still requires its client certificate
    expect(mtls).toEqual({ status: 200, body: 'app GET /hello' });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('app GET /hello');
    expect(bare).toHaveProperty('error');
  });
});

describe('optional client certificates (trusted_ca without require_client_certificate)', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('no certificate is accepted (ssl.no_certificate); an untrusted one is still refused', async () => {
    // GIVEN a listener that asks for, but does not require, a client certificate
    const app = await httpUpstream(closer, 'app');
    const handle = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: ROUTES,
        clusters: [{ name: 'app', ports: [app.port] }],
        listenerExtra: { stat_prefix: 'optional' },
        filterChainExtra: {
          transport_socket: tlsSocket('downstream', {
            common_tls_context: inlineTlsContext(pki, 'server', { trusted_ca: { inline_string: pki.ca } }),
          }),
        },
      }),
    );
    const port = ingressPort(handle);
    // WHEN a client without a certificate, one with a trusted one and one with a foreign one call
    const none = await get(port, {});
    const trusted = await get(port, { cert: pki.cert('frontend'), key: pki.key('frontend') });
    const foreign = await get(port, { cert: other.cert('frontend'), key: other.key('frontend') });
    // THEN the first two are served; the foreign certificate is refused
    expect(none).toEqual({ status: 200, body: 'app GET /hello' });
    expect(trusted).toEqual({ status: 200, body: 'app GET /hello' });
    expect(foreign).toHaveProperty('error');
    expect(counter(handle, 'listener.optional.ssl.no_certificate')).toBe(1);
    expect(counter(handle, 'listener.optional.ssl.fail_verify_error')).toBe(1);
  });
});

describe('upstream mTLS', () => {
  const closer = new Closer();

  /** An HTTPS upstream that requires a client certificate from the CA and echoes its URI SAN. */
  async function mtlsUpstream(): Promise<number> {
    const server = await startMtlsServer(pki, echoPeerSan('peer '));
    closer.add(() => server.close());
    return server.port;
  }

  function upstreamTls(expectedSan: string): Record<string, unknown> {
    return {
      transport_socket: tlsSocket('upstream', {
        sni: 'server',
        common_tls_context: inlineTlsContext(pki, 'frontend', {
          trusted_ca: { inline_string: pki.ca },
          match_typed_subject_alt_names: uriSan(expectedSan),
        }),
      }),
    };
  }

  /** A proxy whose cluster `app` reaches `upstream` over the TLS socket in `tlsConfig`. */
  function proxyTo(upstream: number, tlsConfig: Record<string, unknown>): ReturnType<typeof startFromJson> {
    return startFromJson(
      closer,
      bootstrapJson({
        routeConfig: ROUTES,
        clusters: [{ name: 'app', ports: [upstream], extra: tlsConfig }],
      }),
    );
  }

  afterAll(() => closer.closeAll());

  test('the proxy presents its certificate and accepts the upstream with the expected SAN', async () => {
    // GIVEN an upstream requiring mTLS whose certificate names spiffe(server)
    const upstream = await mtlsUpstream();
    const handle = await proxyTo(upstream, upstreamTls(spiffe('server')));
    // WHEN a plaintext client calls through the proxy
    const res = await fetch(`http://127.0.0.1:${ingressPort(handle)}/`);
    // THEN the upstream saw the proxy's client certificate (frontend)
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`peer URI:${spiffe('frontend')}`);
    expect(counter(handle, 'cluster.app.ssl.handshake')).toBe(1);
  });

  test('an upstream with another SAN is refused: 503 and cluster ssl.fail_verify_san', async () => {
    // GIVEN the cluster expects spiffe(payments) but the upstream is spiffe(server)
    const upstream = await mtlsUpstream();
    const handle = await proxyTo(upstream, upstreamTls(spiffe('payments')));
    // WHEN a client calls through the proxy
    const res = await fetch(`http://127.0.0.1:${ingressPort(handle)}/`);
    // THEN the connection attempt fails as an upstream connection failure
    expect(res.status).toBe(503);
    await res.text();
    expect(counter(handle, 'cluster.app.ssl.fail_verify_san')).toBeGreaterThan(0);
    expect(counter(handle, 'cluster.app.ssl.connection_error')).toBe(
      counter(handle, 'cluster.app.ssl.fail_verify_san'),
    );
    expect(counter(handle, 'cluster.app.ssl.handshake')).toBe(0);
  });

  test('an upstream whose certificate does not chain to trusted_ca is refused: ssl.fail_verify_error', async () => {
    // GIVEN the cluster trusts another CA than the upstream's
    const upstream = await mtlsUpstream();
    const tlsConfig = upstreamTls(spiffe('server'));
    const typed = (
      tlsConfig.transport_socket as { typed_config: { common_tls_context: Record<string, unknown> } }
    ).typed_config.common_tls_context;
    typed.validation_context = { trusted_ca: { inline_string: other.ca } };
    const handle = await proxyTo(upstream, tlsConfig);
    // WHEN a client calls through the proxy
    const res = await fetch(`http://127.0.0.1:${ingressPort(handle)}/`);
    await res.text();
    // THEN 503, counted as a chain failure and not as a SAN one
    expect(res.status).toBe(503);
    expect(counter(handle, 'cluster.app.ssl.fail_verify_error')).toBeGreaterThan(0);
    expect(counter(handle, 'cluster.app.ssl.fail_verify_san')).toBe(0);
  });
});

describe('config', () => {
  test('SAN matchers without trusted_ca are refused, as Envoy refuses them', async () => {
    // GIVEN a downstream context with a SAN matcher but no trusted_ca
    const closer = new Closer();
    const pkiLocal = pki;
    const json = bootstrapJson({
      routeConfig: ROUTES,
      clusters: [{ name: 'app', ports: [1] }],
      filterChainExtra: {
        transport_socket: tlsSocket('downstream', {
          common_tls_context: inlineTlsContext(pkiLocal, 'server', {
            match_typed_subject_alt_names: uriSan(spiffe('frontend')),
          }),
        }),
      },
    });
    // WHEN the proxy starts
    const start = startFromJson(closer, json);
    // THEN it stops with an error naming the validation context
    await expect(start).rejects.toBeInstanceOf(MeshError);
    await expect(start).rejects.toMatchObject({
      path: expect.stringContaining('common_tls_context.validation_context.trusted_ca'),
    });
    await closer.closeAll();
  });

  test('a static bootstrap cannot use sds_config (it has no ADS stream)', () => {
    // GIVEN a static bootstrap whose TLS context asks SDS over ADS
    const json = bootstrapJson({
      routeConfig: ROUTES,
      clusters: [
        {
          name: 'app',
          ports: [1],
          extra: {
            transport_socket: tlsSocket('upstream', {
              common_tls_context: {
                tls_certificate_sds_secret_configs: [{ name: 'identity', sds_config: { ads: {} } }],
              },
            }),
          },
        },
      ],
    });
    // WHEN it is loaded
    // THEN the loader names sds_config
    expect(() => loadBootstrap(JSON.stringify(json), { format: 'json' })).toThrow(/sds_config/);
  });
});
