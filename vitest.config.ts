import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers (moto, proxies, upstreams); two cores on CI.
    pool: 'forks',
    maxWorkers: 2,
    env: { CROSSMESH_DEV: '1' },
  },
});
