/**
 * Probing the bundled proxy: the real renderer, loader and engine compile (nothing stood in). The
 * assertions hold whatever the proxy supports on the day: the classification is consistent, and a
 * mesh using every probed feature, once the refused ones are left out, applies with no refusal.
 */
import { describe, expect, test } from 'vitest';
import {
  bundledProxySupport,
  PROBED_FEATURES,
  proxyRefusals,
  refusedUses,
  withoutRefused,
} from '../../../controlplane/up/proxy-support.js';
import { canonicalize } from '../../../model/canonical.js';
import { detectFeatures } from '../../../model/detect.js';
import type { Mesh } from '../../../model/types.js';

/** A mesh that uses every probed feature at once. */
function everything(): Mesh {
  const run = { local: { kind: 'command', command: ['node', 'app.mjs'] } };
  return canonicalize({
    name: 'all',
    services: {
      web: { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: run }, backends: ['api'] },
      api: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: run },
        authorization: {
          action: 'allow-listed',
          rules: [{ from: ['web'], paths: [{ kind: 'prefix', value: '/' }], methods: ['GET'] }],
        },
        policy: {
          rateLimit: { requests: 10, per: '1s' },
          timeouts: { idle: '1m' },
          outlierDetection: { consecutive5xx: 3 },
          connectionPool: { maxConnections: 10, maxRequests: 10, maxRetries: 3 },
          healthCheck: { kind: 'http', path: '/health' },
        },
        routes: [
          {
            name: 'all',
            match: { path: { kind: 'prefix', value: '/' } },
            destinations: [{ version: 'v1' }],
            mirror: { service: 'api' },
            fault: { delay: { duration: '1s', percent: 10 }, abort: { httpStatus: 503, percent: 10 } },
            rewrite: { path: '/x' },
            policy: { retries: { attempts: 2 } },
          },
        ],
      },
    },
  });
}

async function refusals(mesh: Mesh): Promise<string[]> {
  const out: string[] = [];
  for await (const { id, error } of proxyRefusals(mesh)) out.push(`${id}: ${(error as Error).message}`);
  return out;
}

describe('bundledProxySupport', () => {
  test('refuses only probed features, with the proxy message as the reason', async () => {
    // GIVEN / WHEN the proxy is probed
    const support = await bundledProxySupport();
    // THEN
    for (const [feature, reason] of support.refused) {
      expect(PROBED_FEATURES).toContain(feature);
      expect(reason.length).toBeGreaterThan(0);
    }
  });

  test('a mesh using every probed feature applies with no refusal once the refused ones are left out', async () => {
    // GIVEN the mesh, and what the proxy supports
    const mesh = everything();
    const support = await bundledProxySupport();
    expect(detectFeatures(mesh).map((u) => u.feature)).toEqual(expect.arrayContaining([...PROBED_FEATURES]));
    // WHEN the refused features are left out
    const served = withoutRefused(mesh, support);
    // THEN every proxy applies its configuration, and the left-out uses are exactly the refused ones
    expect(await refusals(served)).toEqual([]);
    expect(refusedUses(served, support)).toEqual([]);
    expect(new Set(refusedUses(mesh, support).map((u) => u.feature))).toEqual(
      new Set(support.refused.keys()),
    );
  });
});
