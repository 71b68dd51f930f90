/** Free loopback ports for `crossmesh up`. */
import { createServer, type Server } from 'node:net';

/**
 * `count` distinct free ports on 127.0.0.1. Each is found by binding port 0; all stay bound until
 * every one is found, so the kernel cannot hand the same port out twice, then all are released
 * together just before the proxies and services bind them.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address !== null ? address.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
