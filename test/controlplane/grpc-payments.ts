/**
 * Shared parts of the grpc-js-xds tests: a `shop.Payments/Charge` service with JSON messages (no
 * .proto needed on either side), a real gRPC server for it on loopback, and a proxyless client
 * bootstrapped against our control plane. grpc-js-xds reads its bootstrap once per process, so
 * each test file that calls {@link xdsPaymentsClient} runs in its own vitest fork.
 */
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { proxylessBootstrap } from '../../adapters/envoy/bootstrap.js';

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};

/** shop.Payments/Charge with JSON messages. */
export const PAYMENTS: ServiceDefinition = {
  Charge: {
    path: '/shop.Payments/Charge',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

/** A Payments client whose Charge answers with `R`. */
export type PaymentsClient<R> = Client & {
  Charge(req: unknown, cb: (err: Error | null, res?: R) => void): void;
};

/** Starts a gRPC server on 127.0.0.1:0 answering Charge with `reply(request)`. */
export async function startPayments(
  reply: (request: { amount?: number }) => unknown,
): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(PAYMENTS, {
    Charge: (call: { request: { amount?: number } }, cb: (e: null, r: unknown) => void) =>
      cb(null, reply(call.request)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

/**
 * Points grpc-js-xds at the control plane on `controlPlanePort` as node `nodeId`, and returns a
 * client for `xds:///payments`; {@link paymentsClient} makes more clients once this has run.
 */
export async function xdsPaymentsClient<R>(
  nodeId: string,
  controlPlanePort: number,
): Promise<PaymentsClient<R>> {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(
    proxylessBootstrap(nodeId, { host: '127.0.0.1', port: controlPlanePort }),
  );
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  return paymentsClient<R>('xds:///payments');
}

/** A Payments client for `target` (an `xds:///` target once grpc-js-xds is registered). */
export function paymentsClient<R>(target: string): PaymentsClient<R> {
  const Ctor = makeGenericClientConstructor(PAYMENTS, 'Payments');
  return new Ctor(target, credentials.createInsecure()) as unknown as PaymentsClient<R>;
}
