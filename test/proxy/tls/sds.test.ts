// SDS over ADS: the bundled proxy, started from a dynamic bootstrap, fetches the secrets its
// listener's TLS context names (`sds_config: {ads: {}}`) from the project's own control plane
// (controlplane/server.ts over real gRPC on loopback), serves strict mTLS with them, and applies a
// rotated certificate to new connections without closing the established ones or replacing the
// runtime. Nothing is stood in: certificates are openssl-made, clients are node:tls sockets.
import type net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SnapshotCache } from '../../../controlplane/cache.js';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { startXdsProxy, type XdsProxyHandle } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { ADS, adsBootstrap, httpListener, startControlPlane, staticCluster } from '../xds/fixtures.js';
import {
  echoPeerSan,
  makePki,
  type Pki,
  secretTlsContext,
  spiffe,
  startMtlsServer,
  tlsSocket,
} from './fixtures.js';

let pki: Pki;

beforeAll(async () => {
  pki = await makePki(['server', 'server-rotated', 'frontend', 'intruder']);
}, 30_000);

/** The listener `inbound` routing everything to `app`, with plaintext HTTP. */
function plainListener(): Record<string, unknown> {
  return httpListener('inbound', {
    name: 'local',
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
    ],
  });
}

/** One listener with strict mTLS whose certificate and trust bundle come over SDS. */
function listener(): Record<string, unknown> {
  const plain = plainListener();
  const [chain] = plain.filter_chains as Record<string, unknown>[];
  return {
    ...plain,
    filter_chains: [
      {
        ...chain,
        transport_socket: tlsSocket('downstream', {
          require_client_certificate: true,
          common_tls_context: secretTlsContext(
            'identity|server',
            'trust|test.local',
            spiffe('frontend'),
            ADS,
          ),
        }),
      },
    ],
  };
}

/** The secrets `identity` (`certName`'s certificate with `key`) and `trust|test.local` (the CA). */
function secrets(identity: string, certName: string, key = pki.key(certName)): Record<string, unknown>[] {
  return [
    {
      name: identity,
      tls_certificate: {
        certificate_chain: { inline_string: pki.cert(certName) },
        private_key: { inline_string: key },
      },
    },
    { name: 'trust|test.local', validation_context: { trusted_ca: { inline_string: pki.ca } } },
  ];
}

function snapshot(appPort: number, certName: string, key = pki.key(certName)): Snapshot {
  return Snapshot.fromResources({
    [TYPE.listener]: [listener()],
    [TYPE.cluster]: [staticCluster('app', appPort)],
    [TYPE.secret]: secrets('identity|server', certName, key),
  });
}

/** A TLS connection as `who`; resolves with the server certificate's CN, or an error message. */
function connect(port: number, who: string): Promise<{ socket: tls.TLSSocket; serverCn: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      cert: pki.cert(who),
      key: pki.key(who),
      servername: 'server',
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () =>
      resolve({ socket, serverCn: socket.getPeerX509Certificate()?.subject ?? '' }),
    );
    socket.once('error', reject);
  });
}

/** Sends one HTTP/1.1 request on `socket`; resolves with the status line, or '' when it closed. */
function exchange(socket: net.Socket, path: string): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const onData = (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes(`app GET ${path}`)) {
        cleanup();
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    };
    const onClose = () => {
      cleanup();
      resolve('');
    };
    const cleanup = () => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nhost: server\r\n\r\n`);
  });
}

/** The dynamic bootstrap of a proxy whose only static resource is the control plane cluster. */
function dynamicBootstrap(nodeId: string, cpPort: number): Record<string, unknown> {
  return adsBootstrap(nodeId, cpPort, {
    nodeCluster: 'test',
    // proxy-dynamic: the loader now checks dynamic bootstraps strictly, and gRPC needs HTTP/2.
    xds: { type: 'STATIC', http2_protocol_options: {} },
  });
}

describe('SDS over ADS', () => {
  const closer = new Closer();
  let cache: SnapshotCache;
  let proxy: XdsProxyHandle;
  let appPort = 0;
  let port = 0;

  beforeAll(async () => {
    const app = await httpUpstream(closer, 'app');
    appPort = app.port;
    const cp = await startControlPlane(closer, 'sidecar-1', snapshot(appPort, 'server'));
    cache = cp.cache;
    // GIVEN a proxy whose only static resource is the control plane
    proxy = await startXdsProxy(dynamicBootstrap('sidecar-1', cp.port), { logLevel: 'off' });
    closer.add(() => proxy.close());
    port = proxy.runtime()?.listeners.get('inbound')?.port ?? 0;
  });
  afterAll(() => closer.closeAll());

  test('the listener starts with the secrets it fetched and enforces strict mTLS with them', async () => {
    // GIVEN the running proxy (it waited for both secrets before binding)
    expect(proxy.client.applied?.secrets?.size).toBe(2);
    // WHEN frontend and intruder connect
    const ok = await connect(port, 'frontend');
    const status = await exchange(ok.socket, '/one');
    ok.socket.destroy();
    const bad = await connect(port, 'intruder').then(async (c) => exchange(c.socket, '/two'));
    // THEN frontend is served with the SDS certificate; intruder's connection is closed (SAN)
    expect(ok.serverCn).toBe('CN=server');
    expect(status).toBe('HTTP/1.1 200 OK');
    expect(bad).toBe('');
  });

  test('a rotated certificate applies to new connections; an established one keeps working', async () => {
    // GIVEN an established connection with the first certificate
    const old = await connect(port, 'frontend');
    expect(await exchange(old.socket, '/before')).toBe('HTTP/1.1 200 OK');
    const swaps = proxy.swaps();
    // WHEN the control plane serves a new certificate under the same secret name
    cache.setSnapshot('sidecar-1', snapshot(appPort, 'server-rotated'));
    // THEN new connections get it, without the runtime being replaced
    await expect
      .poll(
        async () => {
          const fresh = await connect(port, 'frontend');
          fresh.socket.destroy();
          return fresh.serverCn;
        },
        { timeout: 5000 },
      )
      .toBe('CN=server-rotated');
    expect(proxy.swaps()).toBe(swaps);
    // AND the old connection is still open and serving with the old certificate
    expect(await exchange(old.socket, '/after')).toBe('HTTP/1.1 200 OK');
    expect(old.serverCn).toBe('CN=server');
    old.socket.destroy();
  });

  test('a secret the proxy cannot use (a key that does not match) is NACKed and the last good one stays', async () => {
    // GIVEN the proxy serving the rotated certificate
    const nacks = proxy.client.nacks.length;
    // WHEN the control plane sends a certificate with another workload's key
    cache.setSnapshot('sidecar-1', snapshot(appPort, 'server', pki.key('frontend')));
    // THEN the update is NACKed, naming the certificate, and connections still get the last good one
    await expect.poll(() => proxy.client.nacks.length, { timeout: 5000 }).toBeGreaterThan(nacks);
    expect(proxy.client.nacks.at(-1)?.message).toMatch(/tls_certificates/);
    const c = await connect(port, 'frontend');
    expect(c.serverCn).toBe('CN=server-rotated');
    expect(await exchange(c.socket, '/still')).toBe('HTTP/1.1 200 OK');
    c.socket.destroy();
  });
});

describe('SDS over ADS for upstream mTLS', () => {
  const closer = new Closer();

  test('the cluster presents the SDS client certificate, checks the upstream SAN, and takes a rotated one', async () => {
    // GIVEN an HTTPS upstream that requires a client certificate of the CA and echoes its URI SAN
    const upstream = await startMtlsServer(pki, echoPeerSan());
    closer.add(() => upstream.close());
    // AND a control plane serving a plaintext listener and a cluster whose TLS secrets come over SDS
    const resources = (clientCert: string) =>
      Snapshot.fromResources({
        [TYPE.listener]: [plainListener()],
        [TYPE.cluster]: [
          staticCluster('app', upstream.port, {
            transport_socket: tlsSocket('upstream', {
              sni: 'server',
              common_tls_context: secretTlsContext(
                'identity|client',
                'trust|test.local',
                spiffe('server'),
                ADS,
              ),
            }),
          }),
        ],
        [TYPE.secret]: secrets('identity|client', clientCert),
      });
    const { cache, port: cpPort } = await startControlPlane(closer, 'sidecar-2', resources('frontend'));
    const proxy = await startXdsProxy(dynamicBootstrap('sidecar-2', cpPort), { logLevel: 'off' });
    closer.add(() => proxy.close());
    const port = proxy.runtime()?.listeners.get('inbound')?.port ?? 0;
    // WHEN a plaintext client calls through the proxy
    const first = await fetch(`http://127.0.0.1:${port}/`);
    // THEN the upstream saw the SDS client certificate
    expect(await first.text()).toBe(`URI:${spiffe('frontend')}`);
    // WHEN the client certificate rotates
    cache.setSnapshot('sidecar-2', resources('intruder'));
    // THEN new upstream connections present the new one
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${port}/`)).text(), { timeout: 5000 })
      .toBe(`URI:${spiffe('intruder')}`);
    await closer.closeAll();
  });
});

describe('SDS warming', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('a listener waits for its secrets: nothing is bound until they arrive', async () => {
    // GIVEN a control plane that serves the listener and cluster but no secrets yet
    const app = await httpUpstream(closer, 'app');
    const full = snapshot(app.port, 'server');
    const withoutSecrets = Snapshot.fromResources({
      [TYPE.listener]: [listener()],
      [TYPE.cluster]: [...full.resources(TYPE.cluster).items.values()].map((r) => r.json),
    });
    const { cache, port: cpPort } = await startControlPlane(closer, 'sidecar-3', withoutSecrets);
    // WHEN the proxy starts, and the secrets follow a little later
    let started = false;
    const starting = startXdsProxy(dynamicBootstrap('sidecar-3', cpPort), { logLevel: 'off' }).then((p) => {
      started = true;
      closer.add(() => p.close());
      return p;
    });
    await new Promise((r) => setTimeout(r, 300));
    const startedEarly = started;
    cache.setSnapshot('sidecar-3', full);
    const proxy = await starting;
    // THEN it was still warming without them, and serves mTLS once they came
    expect(startedEarly).toBe(false);
    const c = await connect(proxy.runtime()?.listeners.get('inbound')?.port ?? 0, 'frontend');
    expect(await exchange(c.socket, '/warm')).toBe('HTTP/1.1 200 OK');
    c.socket.destroy();
  });
});
