// inventory: the leaf of the shop. GET / answers with its name, version and a stock count.
import { self, serveJson } from './mesh-env.mjs';

const STOCK = { book: 12, lamp: 3, mug: 40 };

serveJson(async (req) => {
  if (req.url === '/health') return { body: { ok: true } };
  return { body: { service: 'inventory', version: self.version, instance: self.instance, stock: STOCK } };
});
