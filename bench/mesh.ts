/** What the cloud-target benches share: the generated mesh they render, and the median. */

/** Options for {@link bigMesh}. */
export interface BigMeshOptions {
  /** Give each service an allow-listed caller (its predecessor). @default false */
  readonly authorization?: boolean;
}

/**
 * A mesh of `count` HTTP services with two versions each, a 90/10 split with retries, two
 * backends and an HTTP health check, under strict mTLS.
 */
export function bigMesh(count: number, options: BigMeshOptions = {}): unknown {
  const name = (i: number) => `svc${String(i).padStart(4, '0')}`;
  const services: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    services[name(i)] = {
      ports: [{ port: 8080, protocol: 'http' }],
      versions: { v1: {}, v2: {} },
      backends: [name((i + 1) % count), name((i + 2) % count)],
      routes: [
        {
          name: 'split',
          match: { path: { kind: 'prefix', value: '/' } },
          destinations: [
            { service: name(i), version: 'v1', weight: 90 },
            { service: name(i), version: 'v2', weight: 10 },
          ],
          policy: { retries: { attempts: 2, perTryTimeout: '500ms' } },
        },
      ],
      policy: { healthCheck: { kind: 'http', path: '/health' } },
      ...(options.authorization === true
        ? { authorization: { action: 'allow-listed', rules: [{ from: [name((i + count - 1) % count)] }] } }
        : {}),
    };
  }
  return { name: 'big', security: { mtls: 'strict' }, services };
}

/** The median (upper middle for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
