// payments: a gRPC service (shop.Payments/Charge, JSON messages) on PORT.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { self } from './mesh-env.mjs';
import { PAYMENTS } from './payments-api.mjs';

const server = new Server();
server.addService(PAYMENTS, {
  Charge(call, callback) {
    const amount = Number(call.request?.amount ?? 0);
    callback(null, { service: 'payments', version: self.version, instance: self.instance, charged: amount });
  },
});
server.bindAsync(`127.0.0.1:${self.port}`, ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`payments: cannot listen on ${self.port}: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`payments ${self.version} listening on 127.0.0.1:${port}\n`);
});
const stop = () => server.tryShutdown(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
