/** The control plane's status API over HTTP: `GET /status` answers {@link ControlPlaneStatus} as JSON. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { XdsServer } from './server.js';

/** Serves `GET /status` on `host:port` (0 picks a port); resolves to the server and its port. */
export function serveStatus(
  xds: XdsServer,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/status') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /status\n');
      return;
    }
    const body = JSON.stringify(xds.status(), null, 2);
    res
      .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      .end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}
