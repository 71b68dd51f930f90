/**
 * A small raw ADS client for tests: a real @grpc/grpc-js stream over loopback speaking the
 * envoy.service.discovery.v3 protocol, with each response's resources decoded by the Envoy
 * descriptors. It lets a test play Envoy's part exactly (what to ACK, NACK or ask for).
 */

import { fromBinary, toJson } from '@bufbuild/protobuf';
import { type ClientDuplexStream, credentials, makeClientConstructor } from '@grpc/grpc-js';
import { envoyMessage, envoyRegistry, typeNameOf } from '../../proxy/config/descriptors.js';
import { adsServiceDefinition as adsService } from '../../proxy/xds/protos.js';

/** A decoded DiscoveryResponse. */
export interface Response {
  readonly version_info: string;
  readonly type_url: string;
  readonly nonce: string;
  readonly resources: Record<string, unknown>[];
}

/** A decoded DeltaDiscoveryResponse. */
export interface DeltaResponse {
  readonly system_version_info: string;
  readonly type_url: string;
  readonly nonce: string;
  readonly resources: { name: string; version: string; resource: Record<string, unknown> }[];
  readonly removed_resources: string[];
}

interface WireAny {
  readonly type_url: string;
  readonly value: Buffer;
}

function decode(any: WireAny): Record<string, unknown> {
  const desc = envoyMessage(typeNameOf(any.type_url));
  return toJson(desc, fromBinary(desc, any.value), { registry: envoyRegistry() }) as Record<string, unknown>;
}

/** A queue of stream messages with a timeout-bounded `next()`. */
class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((v: T) => void)[] = [];
  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.#items.push(item);
  }
  next(timeoutMs = 3000): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }
  /** Resolves true if nothing arrives within `ms`. */
  async quiet(ms: number): Promise<boolean> {
    if (this.#items.length > 0) return false;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve(true);
      }, ms);
      const waiter = (v: T) => {
        clearTimeout(timer);
        this.#items.unshift(v);
        resolve(false);
      };
      this.#waiters.push(waiter);
    });
  }
}

type AdsClient = {
  StreamAggregatedResources(): ClientDuplexStream<unknown, unknown>;
  DeltaAggregatedResources(): ClientDuplexStream<unknown, unknown>;
  close(): void;
};

function client(port: number): AdsClient {
  const Ctor = makeClientConstructor(adsService(), 'AggregatedDiscoveryService');
  return new Ctor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as AdsClient;
}

/** A state-of-the-world ADS stream. */
export class SotwStream {
  readonly responses = new Queue<Response>();
  readonly #client: AdsClient;
  readonly #call: ClientDuplexStream<unknown, unknown>;
  readonly #nodeId: string;
  #first = true;

  constructor(port: number, nodeId: string) {
    this.#client = client(port);
    this.#nodeId = nodeId;
    this.#call = this.#client.StreamAggregatedResources();
    this.#call.on('data', (r: Omit<Response, 'resources'> & { resources: WireAny[] }) =>
      this.responses.push({ ...r, resources: r.resources.map(decode) }),
    );
    this.#call.on('error', () => undefined);
  }

  /** Sends a DiscoveryRequest (node only on the first, as Envoy does with set_node_on_first_message_only). */
  send(
    typeUrl: string,
    options: { names?: string[]; version?: string; nonce?: string; error?: string } = {},
  ): void {
    this.#call.write({
      ...(this.#first ? { node: { id: this.#nodeId, cluster: 'test' } } : {}),
      type_url: typeUrl,
      resource_names: options.names ?? [],
      version_info: options.version ?? '',
      response_nonce: options.nonce ?? '',
      ...(options.error === undefined ? {} : { error_detail: { code: 3, message: options.error } }),
    });
    this.#first = false;
  }

  /** ACKs a response. */
  ack(r: Response, names: string[] = []): void {
    this.send(r.type_url, { names, version: r.version_info, nonce: r.nonce });
  }

  close(): void {
    this.#call.end();
    this.#client.close();
  }
}

/** An incremental (delta) ADS stream. */
export class DeltaStream {
  readonly responses = new Queue<DeltaResponse>();
  readonly #client: AdsClient;
  readonly #call: ClientDuplexStream<unknown, unknown>;

  constructor(port: number, nodeId: string) {
    this.#client = client(port);
    this.#call = this.#client.DeltaAggregatedResources();
    this.#call.on(
      'data',
      (
        r: Omit<DeltaResponse, 'resources'> & {
          resources: { name: string; version: string; resource: WireAny }[];
        },
      ) =>
        this.responses.push({
          ...r,
          resources: r.resources.map((x) => ({
            name: x.name,
            version: x.version,
            resource: decode(x.resource),
          })),
        }),
    );
    this.#call.on('error', () => undefined);
    this.#nodeId = nodeId;
  }

  readonly #nodeId: string;

  /** Sends a DeltaDiscoveryRequest. */
  send(
    typeUrl: string,
    options: { subscribe?: string[]; unsubscribe?: string[]; nonce?: string; error?: string } = {},
  ): void {
    this.#call.write({
      node: { id: this.#nodeId },
      type_url: typeUrl,
      resource_names_subscribe: options.subscribe ?? [],
      resource_names_unsubscribe: options.unsubscribe ?? [],
      response_nonce: options.nonce ?? '',
      ...(options.error === undefined ? {} : { error_detail: { code: 3, message: options.error } }),
    });
  }

  close(): void {
    this.#call.end();
    this.#client.close();
  }
}
