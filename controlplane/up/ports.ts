/** Free loopback ports for `crossmesh up`. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/**
 * The kernel's ephemeral port range (Linux), from which it also picks the local port of every
 * outgoing connection. Ports handed to `up`'s proxies and services are taken below it, so no
 * client socket (a proxy's xDS stream, an upstream connection) can take one between the moment it
 * is picked and the moment it is bound. @default - 32768-60999, Linux's default, elsewhere
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > 2048) return [low, high];
  } catch {
    // Not Linux: assume its default.
  }
  return [32768, 60999];
}

function listen(server: Server, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : undefined);
    });
  });
}

/**
 * `count` distinct free ports on 127.0.0.1, below the ephemeral range (see {@link ephemeralRange}),
 * tried at random. Each is held until every one is found, then all are released together just
 * before the proxies and services bind them.
 */
export async function freePorts(count: number): Promise<number[]> {
  const [low] = ephemeralRange();
  const floor = Math.max(1024, low - 20_000);
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let tries = 0; ports.length < count; tries++) {
      const server = createServer();
      // Past many misses (a crowded range), let the kernel pick: still free, just ephemeral.
      const candidate = tries < count * 20 ? floor + Math.floor(Math.random() * (low - floor)) : 0;
      const port = await listen(server, candidate);
      if (port === undefined || ports.includes(port)) {
        server.close();
        continue;
      }
      servers.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/**
 * Whether nothing listens on `port` of 127.0.0.1 right now (bound and released at once). `up`
 * asks just before it starts a service on a port picked earlier: another process (a second
 * `crossmesh up`, say) may have bound it in between, and a connect check after the start would
 * then find that process listening and take the service, which failed to bind, for started.
 */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await listen(server, port);
  await new Promise((resolve) => server.close(resolve));
  return bound === port;
}
