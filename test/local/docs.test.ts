/** docs/local-mesh.md stays in step with what `crossmesh up` asks the bundled proxy about. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { PROBED_FEATURES } from '../../controlplane/up/proxy-support.js';

describe('docs/local-mesh.md', () => {
  test('names every feature crossmesh up probes the bundled proxy for', () => {
    // GIVEN the page and the probed features
    const page = readFileSync(new URL('../../docs/local-mesh.md', import.meta.url), 'utf8');
    // WHEN each is looked up
    const missing = PROBED_FEATURES.filter((feature) => !page.includes(`\`${feature}\``));
    // THEN none is missing
    expect(missing).toEqual([]);
  });
});
