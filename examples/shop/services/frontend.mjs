// frontend: the shop's entry. GET / calls catalog (HTTP) and payments (gRPC), both through the
// sidecar, and answers with who served what: run it repeatedly to watch the canary split.
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { callService, self, serveJson } from './mesh-env.mjs';
import { PAYMENTS } from './payments-api.mjs';

// gRPC goes to the sidecar in plain-text HTTP/2; the :authority names the service to call.
const Payments = makeGenericClientConstructor(PAYMENTS, 'Payments');
const payments = new Payments(self.sidecar, credentials.createInsecure(), {
  'grpc.default_authority': 'payments',
});

function charge(amount) {
  return new Promise((resolve) => {
    payments.Charge({ amount }, { deadline: Date.now() + 5000 }, (error, reply) =>
      resolve(error ? { error: error.details || error.message } : reply),
    );
  });
}

serveJson(async (req) => {
  if (req.url === '/health') return { body: { ok: true } };
  const canary = req.headers['x-canary'];
  const [catalog, payment] = await Promise.all([
    callService('catalog', '/', canary === undefined ? {} : { 'x-canary': String(canary) }),
    charge(10),
  ]);
  return {
    status: catalog.status === 200 && payment.error === undefined ? 200 : 502,
    body: {
      service: 'frontend',
      version: self.version,
      catalog: { status: catalog.status, version: catalog.body?.version, items: catalog.body?.items },
      payments: payment,
    },
  };
});
