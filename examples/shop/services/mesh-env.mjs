// What `crossmesh up` tells every service about its place in the mesh, read in one place.
//
//   PORT                  port this instance listens on (loopback)
//   CROSSMESH_SIDECAR     host:port of this instance's sidecar outbound listener: send every call to
//                         another mesh service there, with the service name as the Host (HTTP) or
//                         :authority (gRPC); the sidecar applies the mesh routes (weights, retries...)
//   CROSSMESH_SERVICE     this service's name      CROSSMESH_VERSION   its version
//   CROSSMESH_INSTANCE    instance index (0...)    CROSSMESH_DOMAIN    the mesh DNS domain
//   VERSION               overrides CROSSMESH_VERSION (the mesh file may set it per version)
import http from 'node:http';

/** This instance, as the environment describes it. */
export const self = {
  port: Number(process.env.PORT ?? 8080),
  sidecar: process.env.CROSSMESH_SIDECAR ?? '127.0.0.1:15001',
  service: process.env.CROSSMESH_SERVICE ?? 'unknown',
  version: process.env.VERSION ?? process.env.CROSSMESH_VERSION ?? 'v1',
  instance: Number(process.env.CROSSMESH_INSTANCE ?? 0),
  domain: process.env.CROSSMESH_DOMAIN ?? 'shop.mesh.local',
};

const [sidecarHost, sidecarPort] = self.sidecar.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * GETs `path` on mesh service `service` through the sidecar; resolves to the parsed JSON body
 * and the status. Forwards `x-canary` so a header-routed canary follows the whole call chain.
 *
 * A GET sent on a reused keep-alive connection that the sidecar closed at the same moment (it
 * does when it applies a new configuration) fails with ECONNRESET before any answer; Node's docs
 * say to retry exactly that case (`req.reusedSocket`), as undici and browsers do, so we do once.
 */
export function callService(service, path, headers = {}, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: sidecarHost, port: Number(sidecarPort), path, agent, headers: { host: service, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body });
          }
        });
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`call to ${service}${path} timed out`)));
    req.on('error', (error) => {
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET') {
        resolve(callService(service, path, headers, true));
      } else {
        reject(error);
      }
    });
    req.end();
  });
}

/** Serves JSON from `handler(req)` on PORT; logs one line when listening, exits cleanly on SIGTERM. */
export function serveJson(handler) {
  const server = http.createServer(async (req, res) => {
    try {
      const { status = 200, body } = await handler(req);
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    } catch (error) {
      const text = JSON.stringify({
        service: self.service,
        version: self.version,
        error: String(error?.message ?? error),
      });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  });
  server.keepAliveTimeout = 60_000;
  server.listen(self.port, '127.0.0.1', () => {
    process.stdout.write(`${self.service} ${self.version} listening on 127.0.0.1:${server.address().port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
  return server;
}
