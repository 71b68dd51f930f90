/** docs/local-mesh.md stays in step with what `crossmesh up` leaves out for the bundled proxy. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BUNDLED_PROXY_NOT_ENFORCED, BUNDLED_PROXY_REFUSES } from '../../adapters/envoy/bundled.js';

describe('docs/local-mesh.md', () => {
  test('lists every feature the bundled proxy cannot run yet', () => {
    // GIVEN the page and the gap list
    const page = readFileSync(new URL('../../docs/local-mesh.md', import.meta.url), 'utf8');
    // WHEN each gap is looked up
    const listed = [...Object.keys(BUNDLED_PROXY_REFUSES), ...Object.keys(BUNDLED_PROXY_NOT_ENFORCED)];
    const missing = listed.filter((feature) => !page.includes(`\`${feature}\``));
    // THEN none is missing
    expect(missing).toEqual([]);
  });
});
