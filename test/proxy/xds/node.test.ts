/**
 * What the proxy's xDS client says about itself: the bootstrap's node (id, cluster, metadata as a
 * protobuf Struct, locality) on the first request of the stream, or on every request when
 * `set_node_on_first_message_only` is false. The server is a real gRPC server on loopback (port 0)
 * with the real ADS service definition from Envoy's protos; it records the requests it decodes and
 * answers nothing, which is all this needs (the project's control plane does not expose nodes'
 * metadata).
 */
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { XdsClient } from '../../../proxy/xds/client.js';
import { adsServiceDefinition } from '../../../proxy/xds/protos.js';

interface SeenRequest {
  readonly type_url: string;
  readonly node: {
    readonly id: string;
    readonly cluster: string;
    readonly locality: { readonly zone: string } | null;
    readonly metadata: { readonly fields: Record<string, unknown> } | null;
  } | null;
}

let server: Server | undefined;
let client: XdsClient | undefined;

afterEach(() => {
  client?.close();
  server?.forceShutdown();
});

async function recordingServer(): Promise<{ port: number; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const s = new Server();
  s.addService(adsServiceDefinition(), {
    StreamAggregatedResources: (call: ServerDuplexStream<SeenRequest, unknown>) => {
      call.on('data', (request: SeenRequest) => seen.push(request));
      call.on('error', () => undefined);
    },
    DeltaAggregatedResources: (call: ServerDuplexStream<unknown, unknown>) => call.end(),
  });
  server = s;
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) =>
      error === null ? resolve(p) : reject(error),
    ),
  );
  return { port, seen };
}

const NODE = {
  id: 'edge-1',
  cluster: 'edge',
  metadata: { team: 'shop', ports: [8080, 8443], canary: true, owner: { name: 'x' }, none: null },
  locality: { region: 'eu', zone: 'eu-1a' },
};

describe('XdsClient node', () => {
  test('the first request carries id, cluster, metadata and locality; later ones none by default', async () => {
    // GIVEN a recording ADS server
    const { port, seen } = await recordingServer();
    // WHEN a client with the bootstrap node connects (it subscribes to CDS and LDS)
    client = new XdsClient({ server: `127.0.0.1:${port}`, node: NODE, apply: () => undefined });
    client.start();
    await expect.poll(() => seen.length).toBe(2);
    // THEN the first request names the node in full, metadata as a Struct (protobufjs names the well-known types' fields in camelCase)
    const node = seen[0]?.node;
    expect(node).toMatchObject({ id: 'edge-1', cluster: 'edge', locality: { region: 'eu', zone: 'eu-1a' } });
    expect(node?.metadata?.fields).toMatchObject({
      team: { stringValue: 'shop' },
      ports: { listValue: { values: [{ numberValue: 8080 }, { numberValue: 8443 }] } },
      canary: { boolValue: true },
      owner: { structValue: { fields: { name: { stringValue: 'x' } } } },
      none: { nullValue: 'NULL_VALUE' },
    });
    // AND the second request does not repeat it (set_node_on_first_message_only, as rendered sidecars set it)
    expect(seen[1]?.node ?? null).toBeNull();
  });

  test('with set_node_on_first_message_only false, every request carries the node', async () => {
    // GIVEN a recording ADS server
    const { port, seen } = await recordingServer();
    // WHEN a client that repeats its node connects
    client = new XdsClient({
      server: `127.0.0.1:${port}`,
      node: NODE,
      nodeOnFirstMessageOnly: false,
      apply: () => undefined,
    });
    client.start();
    await expect.poll(() => seen.length).toBe(2);
    // THEN both requests name it
    expect(seen.map((r) => r.node?.id)).toEqual(['edge-1', 'edge-1']);
  });
});
