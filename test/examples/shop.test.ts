// Loads the real example files; nothing is stood in.
import { describe, expect, test } from 'vitest';
import { loadMesh } from '../../model/load.js';

const mesh = await loadMesh(new URL('../../examples/shop/mesh.ts', import.meta.url).pathname);

describe('examples/shop', () => {
  test('frontend → catalog v1/v2 at 90/10, with a header that forces v2', () => {
    // GIVEN the catalog routes
    const routes = mesh.services.catalog?.routes ?? [];
    // THEN the first route sends x-canary: always to v2, the next splits 90/10
    expect(routes[0]?.match?.headers).toEqual([
      { kind: 'exact', name: 'x-canary', value: 'always', invert: false },
    ]);
    expect(routes[0]?.destinations).toEqual([{ service: 'catalog', version: 'v2', weight: 1 }]);
    expect(routes[1]?.destinations).toEqual([
      { service: 'catalog', version: 'v1', weight: 90 },
      { service: 'catalog', version: 'v2', weight: 10 },
    ]);
    expect(mesh.services.frontend?.backends).toContain('catalog');
    expect(mesh.services.catalog?.backends).toEqual(['inventory']);
  });

  test('payments speaks gRPC with a service/method route', () => {
    const payments = mesh.services.payments;
    expect(payments?.ports[0]?.protocol).toBe('grpc');
    expect(payments?.routes?.[0]?.match?.grpc).toEqual({ service: 'shop.Payments', method: 'Charge' });
  });

  test('an ingress gateway to frontend and strict mTLS', () => {
    expect(mesh.gateways?.ingress?.routes[0]?.service).toBe('frontend');
    expect(mesh.security?.mtls).toBe('strict');
  });

  test('retries, timeouts and outlier detection on catalog', () => {
    const policy = mesh.services.catalog?.policy;
    expect(policy?.timeouts).toEqual({ request: '2s', idle: '1m' });
    expect(policy?.retries?.attempts).toBe(3);
    expect(policy?.outlierDetection?.consecutive5xx).toBe(3);
  });

  test('only frontend may call payments; only catalog may call inventory', () => {
    expect(mesh.services.payments?.authorization).toEqual({
      action: 'allow-listed',
      rules: [{ from: ['frontend'] }],
    });
    expect(mesh.services.inventory?.authorization?.rules?.[0]?.from).toEqual(['catalog']);
  });

  test('every version runs its demo server from services/ with its VERSION', () => {
    for (const [name, service] of Object.entries(mesh.services)) {
      for (const [version, v] of Object.entries(service.versions)) {
        expect(v.local).toEqual(
          expect.objectContaining({
            kind: 'command',
            command: ['node', `services/${name}.mjs`],
            env: { SERVICE: name, VERSION: version },
          }),
        );
      }
    }
  });
});
