// Port picking for `crossmesh up` on real loopback sockets; nothing stood in.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { freePorts, portIsFree } from '../../../controlplane/up/ports.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function occupy(port: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

describe('freePorts', () => {
  test('gives distinct ports that can be bound once it returns', async () => {
    // GIVEN / WHEN
    const ports = await freePorts(5);
    // THEN
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(await portIsFree(port)).toBe(true);
  });
});

describe('portIsFree', () => {
  test('a port another process listens on is not free (the race a second crossmesh up causes)', async () => {
    // GIVEN a picked port that someone else binds before the service starts
    const [port = 0] = await freePorts(1);
    await occupy(port);
    // WHEN / THEN
    expect(await portIsFree(port)).toBe(false);
  });

  test('asking does not keep the port: it can be bound right after', async () => {
    // GIVEN
    const [port = 0] = await freePorts(1);
    // WHEN
    expect(await portIsFree(port)).toBe(true);
    // THEN
    await expect(occupy(port)).resolves.toBeUndefined();
  });
});
