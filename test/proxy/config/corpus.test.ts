// Real third-party Envoy configs (../shared/envoy-corpus/, read in place, never copied) through the
// real loader and the real descriptors built from Envoy's protos. Nothing is stood in: hostnames and
// certificate paths are not resolved at load time (the runtime does that), so each file loads as it
// is; Unix socket (pipe) paths are also mapped into a temp dir (corpus-map.ts), as the tests that
// start these configs map them, and must load the same way.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { ENVOY_CORPUS } from '../../../proxy/config/corpus.js';
import { type ConfigWarning, loadBootstrap, loadBootstrapFile } from '../../../proxy/config/index.js';
import { mapPipePaths } from './corpus-map.js';

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
        // THEN (loads) it is frozen, and every deprecated field it uses is warned about, with its paths
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

  test("Istio's bootstrap with its pipe paths mapped into a temp dir loads with the mapped sockets", () => {
    // GIVEN the Istio sidecar bootstrap, its Unix sockets moved into a fresh temp dir
    const json = JSON.parse(
      readFileSync(new URL('istio__pkg__bootstrap__testdata__default_golden.json', DIR), 'utf8'),
    ) as unknown;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-corpus-'));
    const mapped = mapPipePaths(json, dir);
    // WHEN loaded
    const bootstrap = loadBootstrap(JSON.stringify(json), {
      format: 'json',
      source: 'istio',
      onWarning: () => {},
    });
    // THEN both pipe clusters (SDS and the ADS cluster) point into the temp dir
    expect([...mapped.keys()]).toEqual(['./var/run/secrets/workload-spiffe-uds/socket', '/tmp/XDS']);
    const pipes = (bootstrap.static_resources?.clusters ?? []).flatMap((c) =>
      (c.load_assignment?.endpoints ?? []).flatMap((g) =>
        (g.lb_endpoints ?? []).flatMap((e) =>
          e.endpoint?.address?.pipe === undefined ? [] : [e.endpoint.address.pipe.path],
        ),
      ),
    );
    expect(pipes).toEqual([path.join(dir, 'socket'), path.join(dir, 'XDS')]);
  });

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
