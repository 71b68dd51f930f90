// Real third-party Envoy configs (../shared/envoy-corpus/, read in place, never copied) through the
// real loader and the real descriptors built from Envoy's protos. Nothing is stood in: hostnames and
// certificate paths are not resolved at load time (the runtime does that), so no mapping is needed
// here; the engine's integration tests map them to loopback when they start these configs.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { ENVOY_CORPUS } from '../../../proxy/config/corpus.js';
import { type ConfigWarning, loadBootstrapFile } from '../../../proxy/config/index.js';

const DIR = new URL('../../../../shared/envoy-corpus/', import.meta.url);

describe('envoy corpus', () => {
  test('every corpus file has a recorded outcome', () => {
    // GIVEN the files in the corpus directory
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.json'));
    // WHEN compared with the recorded table
    const recorded = ENVOY_CORPUS.map((e) => e.file);
    // THEN each file is recorded exactly once
    expect([...recorded].sort()).toEqual([...files].sort());
  });

  for (const entry of ENVOY_CORPUS) {
    test(`${entry.file} ${entry.problems.length === 0 ? 'loads' : 'is rejected naming the unsupported fields'}`, () => {
      // GIVEN a real Envoy config
      const path = new URL(entry.file, DIR).pathname;
      // WHEN loaded
      let error: unknown;
      const warnings: ConfigWarning[] = [];
      try {
        const bootstrap = loadBootstrapFile(path, { onWarning: (w) => warnings.push(w) });
        // THEN (loads) it is frozen, and every planned feature it uses is warned about, with its paths
        expect(entry.problems).toEqual([]);
        expect(Object.isFrozen(bootstrap)).toBe(true);
        expect(bootstrap.static_resources?.clusters?.length).toBeGreaterThan(0);
        expect(warnings.map((w) => ({ feature: w.feature, paths: w.paths }))).toEqual(entry.warnings ?? []);
        return;
      } catch (err) {
        error = err;
      }
      // THEN (rejected) every problem has the recorded code and exact path, and names the feature
      expect(error).toBeInstanceOf(MeshError);
      const problems = (error as MeshError).problems;
      expect(problems.map((p) => ({ code: p.code, path: p.path }))).toEqual(
        entry.problems.map((p) => ({ code: p.code, path: p.path })),
      );
      entry.problems.forEach((p, i) => {
        expect(problems[i]?.message).toContain(p.names);
      });
    });
  }

  test('lowercase enums and a single object for a list are read as Envoy reads them', () => {
    // GIVEN the double-proxy config (type: strict_dns, tls_certificates as one object) ...
    const path = new URL('envoy__examples__double-proxy__envoy-frontend.yaml', DIR).pathname;
    // WHEN loaded
    const error = (() => {
      try {
        loadBootstrapFile(path);
      } catch (err) {
        return err as MeshError;
      }
      return undefined;
    })();
    // THEN neither is among the problems: only the unsupported features are
    expect(error?.problems.some((p) => p.path.endsWith('.type') || p.path.includes('tls_certificates'))).toBe(
      false,
    );
  });
});
