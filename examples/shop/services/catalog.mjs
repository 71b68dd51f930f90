// catalog: lists items, with stock from inventory (called through the sidecar). Runs as v1 and
// v2 (VERSION); v2 adds prices, so the canary is visible in every answer.
import { callService, self, serveJson } from './mesh-env.mjs';

const ITEMS = ['book', 'lamp', 'mug'];
const PRICES = { book: 12.5, lamp: 30, mug: 8 };

serveJson(async (req) => {
  if (req.url === '/health') return { body: { ok: true } };
  const inventory = await callService('inventory', '/');
  const stock = inventory.body?.stock ?? {};
  const items = ITEMS.map((name) => ({
    name,
    stock: stock[name] ?? null,
    ...(self.version === 'v2' ? { price: PRICES[name] } : {}),
  }));
  return {
    status: inventory.status === 200 ? 200 : 502,
    body: {
      service: 'catalog',
      version: self.version,
      instance: self.instance,
      items,
      inventory: inventory.body,
    },
  };
});
