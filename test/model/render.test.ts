// Stand-in: a small test target declared here (`partialTarget`), because the capability check is
// about the matrix a target declares, not about any real target's output; the real `json` target
// is used where full support is needed.
import { describe, expect, test } from 'vitest';
import { jsonTarget } from '../../adapters/json/index.js';
import { MeshError } from '../../errors/index.js';
import { canonicalize, toCanonicalJson } from '../../model/canonical.js';
import { detectFeatures } from '../../model/detect.js';
import { FEATURE_IDS } from '../../model/features.js';
import { capabilitiesOverviewPage, capabilityMatrixPage, renderWithTarget } from '../../model/render.js';
import type { Capability, CapabilityMatrix, Target } from '../../model/target.js';

const mesh = canonicalize({
  name: 'shop',
  security: { mtls: 'strict' },
  services: {
    web: {
      ports: [{ port: 8080, protocol: 'http' }],
      versions: { v1: {}, v2: {} },
      routes: [
        {
          name: 'chaos',
          match: { headers: [{ kind: 'regex', name: 'x-a', value: 'a.*', invert: true }], method: 'GET' },
          destinations: [
            { version: 'v1', weight: 1 },
            { version: 'v2', weight: 1 },
          ],
          fault: { abort: { httpStatus: 503, percent: 1 } },
          mirror: { service: 'web', version: 'v2', percent: 5 },
        },
        { name: 'moved', match: { path: { kind: 'exact', value: '/old' } }, redirect: { path: '/new' } },
      ],
      policy: { retries: { attempts: 2, perTryTimeout: '1s' }, connectionPool: { maxConnections: 10 } },
    },
  },
});

function matrix(overrides: Partial<Record<(typeof FEATURE_IDS)[number], Capability>>): CapabilityMatrix {
  return Object.fromEntries(
    FEATURE_IDS.map((f) => [f, overrides[f] ?? { support: 'full' }]),
  ) as CapabilityMatrix;
}

const partialTarget: Target<string, object> = {
  name: 'partial',
  title: 'A test target without fault injection, mirroring or redirects.',
  capabilities: matrix({
    'route.fault.abort': { support: 'none', note: 'no fault injection' },
    'route.mirror': { support: 'none', note: 'no mirroring' },
    'route.redirect': { support: 'none' },
    'policy.connection-pool': { support: 'partial', note: 'only maxConnections' },
  }),
  render: (m) => `rendered ${m.name}`,
  files: (output) => new Map([['out.txt', output]]),
};

describe('detectFeatures', () => {
  test('names every feature use with its path', () => {
    // GIVEN the mesh above WHEN detected
    const uses = detectFeatures(mesh).map((u) => `${u.feature} @ ${u.path}`);
    // THEN each use is listed
    expect(uses).toEqual(
      expect.arrayContaining([
        'protocol.http @ services.web.ports[0]',
        'route.match.header.regex @ services.web.routes[0].match.headers[0]',
        'route.match.header.invert @ services.web.routes[0].match.headers[0].invert',
        'route.match.method @ services.web.routes[0].match.method',
        'route.destinations.weighted @ services.web.routes[0].destinations',
        'route.fault.abort @ services.web.routes[0].fault.abort',
        'route.mirror @ services.web.routes[0].mirror',
        'route.match.path.exact @ services.web.routes[1].match.path',
        'route.redirect @ services.web.routes[1].redirect',
        'policy.retries @ services.web.policy.retries',
        'policy.retries.per-try-timeout @ services.web.policy.retries.perTryTimeout',
        'policy.connection-pool @ services.web.policy.connectionPool',
        'policy.load-balancing.round-robin @ services.web.policy.loadBalancing',
        'security.mtls.strict @ security.mtls',
      ]),
    );
    // AND inherited route policies and documented defaults are not counted again
    expect(uses.filter((u) => u.startsWith('policy.retries @'))).toHaveLength(1);
    expect(uses.some((u) => u.startsWith('policy.timeouts'))).toBe(false);
  });
});

describe('detectFeatures covers the whole feature list', () => {
  test('every feature id is detected in a mesh that uses everything', () => {
    // GIVEN a kitchen-sink mesh (and a permissive twin, since a mesh has one mTLS mode)
    const sink = {
      name: 'sink',
      security: { mtls: 'strict' },
      egress: { mode: 'deny-unknown', hosts: ['api.example.com'] },
      accessLog: { enabled: true, format: 'json' },
      ipPreference: 'ipv6-preferred',
      services: {
        web: {
          ports: [
            { port: 80, protocol: 'http' },
            { port: 81, protocol: 'http2' },
            { port: 82, protocol: 'grpc' },
            { port: 83, protocol: 'tcp' },
          ],
          versions: { v1: {}, v2: {} },
          routes: [
            {
              name: 'a',
              match: {
                path: { kind: 'regex', value: '/a.*' },
                headers: [
                  { kind: 'exact', name: 'x-a', value: '1', invert: true },
                  { kind: 'prefix', name: 'x-b', value: '1' },
                  { kind: 'suffix', name: 'x-c', value: '1' },
                  { kind: 'regex', name: 'x-d', value: '1+' },
                  { kind: 'present', name: 'x-e' },
                  { kind: 'range', name: 'x-f', start: 1, end: 9 },
                ],
                query: [
                  { kind: 'exact', name: 'q', value: '1' },
                  { kind: 'regex', name: 'r', value: '1+' },
                  { kind: 'present', name: 's' },
                ],
                method: 'GET',
              },
              destinations: [{ version: 'v1' }, { service: 'api' }],
              rewrite: { path: '/x', host: 'h.example.com' },
              headers: { request: { remove: ['x-a'] }, response: { add: [{ name: 'x-r', value: '1' }] } },
              fault: { delay: { duration: '1s', percent: 1 }, abort: { httpStatus: 503, percent: 1 } },
              mirror: { service: 'api' },
              priority: 1,
              policy: { rateLimit: { requests: 1, per: '1s' } },
            },
            { name: 'b', match: { path: { kind: 'exact', value: '/b' } }, redirect: { path: '/c' } },
            {
              name: 'c',
              match: { path: { kind: 'prefix', value: '/p' } },
              rewrite: { prefix: '/q' },
              destinations: [{}],
            },
            { name: 'd', port: 82, match: { grpc: { service: 'a.B' } }, destinations: [{}] },
          ],
          policy: {
            timeouts: { request: '1s', idle: '1m' },
            retries: { attempts: 1, perTryTimeout: '100ms', backoff: { base: '1ms', max: '2ms' } },
            healthCheck: { kind: 'http', path: '/h' },
            outlierDetection: {},
            connectionPool: { maxConnections: 1 },
            loadBalancing: { kind: 'least-request' },
          },
          authorization: {
            action: 'allow-listed',
            rules: [{ from: ['api'], paths: [{ kind: 'prefix', value: '/' }], methods: ['GET'] }],
          },
        },
        api: {
          ports: [{ port: 80, protocol: 'grpc' }],
          versions: { v1: {} },
          policy: { healthCheck: { kind: 'grpc' }, loadBalancing: { kind: 'random' } },
        },
        db: {
          ports: [{ port: 5432, protocol: 'tcp' }],
          versions: { v1: {} },
          policy: {
            healthCheck: { kind: 'tcp' },
            loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'source-ip' } },
          },
        },
        plain: { ports: [{ port: 80, protocol: 'http' }], versions: { v1: {} } },
      },
      gateways: {
        edge: {
          listeners: [
            { port: 443, protocol: 'http', tls: { certificateFile: 'c.pem', privateKeyFile: 'k.pem' } },
          ],
          routes: [
            {
              name: 'r',
              match: { path: { kind: 'prefix', value: '/' }, headers: [{ kind: 'present', name: 'x' }] },
              service: 'web',
              rewrite: { prefix: '/' },
            },
          ],
        },
      },
    };
    const permissive = { ...sink, security: { mtls: 'permissive' } };
    // WHEN detected
    const found = new Set(
      [...detectFeatures(canonicalize(sink)), ...detectFeatures(canonicalize(permissive))].map(
        (u) => u.feature,
      ),
    );
    // THEN no feature id is missing
    expect(FEATURE_IDS.filter((f) => !found.has(f))).toEqual([]);
  });
});

describe('renderWithTarget', () => {
  test('fails with one TARGET_E_UNSUPPORTED listing every unsupported use', () => {
    // GIVEN a target without three features the mesh uses WHEN rendered
    let error: unknown;
    try {
      renderWithTarget(partialTarget, mesh, {});
    } catch (e) {
      error = e;
    }
    // THEN all three are listed, path and feature
    expect(error).toBeInstanceOf(MeshError);
    const e = error as MeshError;
    expect(e.code).toBe('TARGET_E_UNSUPPORTED');
    expect(e.exitCode).toBe(3);
    expect(e.problems.map((p) => `${p.path} ${p.value}`)).toEqual([
      'services.web.routes[0].fault.abort route.fault.abort',
      'services.web.routes[0].mirror route.mirror',
      'services.web.routes[1].redirect route.redirect',
    ]);
    expect(e.message).toContain('no mirroring');
    expect(e.message).toContain('--allow-drop');
  });

  test('with allowDrop renders and records exactly what was dropped and approximated', () => {
    // GIVEN the same target WHEN rendered with allowDrop
    const result = renderWithTarget(partialTarget, mesh, {}, { allowDrop: true });
    // THEN the output and the record
    expect(result.output).toBe('rendered shop');
    expect(result.dropped.map((d) => [d.feature, d.reason])).toEqual([
      ['route.fault.abort', 'no fault injection'],
      ['route.mirror', 'no mirroring'],
      ['route.redirect', 'partial cannot express it'],
    ]);
    expect(result.approximated).toEqual([
      {
        feature: 'policy.connection-pool',
        path: 'services.web.policy.connectionPool',
        note: 'only maxConnections',
      },
    ]);
  });

  test('the json target expresses everything and outputs the canonical JSON', () => {
    // GIVEN / WHEN
    const result = renderWithTarget(jsonTarget, mesh, {});
    // THEN
    expect(result.dropped).toEqual([]);
    expect(jsonTarget.files(result.output).get('mesh.json')).toBe(toCanonicalJson(mesh));
  });

  test('the json target refuses options it does not take', () => {
    expect(() => renderWithTarget(jsonTarget, mesh, { pretty: true })).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION' }),
    );
  });
});

describe('capabilityMatrixPage', () => {
  test('lists every feature with its support and note', () => {
    // GIVEN the test target WHEN its page is generated
    const page = capabilityMatrixPage(partialTarget);
    // THEN
    expect(page).toContain('# Target `partial`');
    expect(page).toContain('| `route.mirror` | Request mirroring | no | no mirroring |');
    expect(page).toContain(
      '| `policy.connection-pool` | Connection-pool / circuit-breaker limits | partial | only maxConnections |',
    );
    expect(page.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(FEATURE_IDS.length);
  });
});

describe('capabilitiesOverviewPage', () => {
  test('one row per feature, one column per target, linking only the pages that exist', () => {
    // GIVEN two targets, one with a page WHEN the overview is generated
    const page = capabilitiesOverviewPage([jsonTarget, partialTarget], (name) => name === 'json');
    // THEN
    expect(page).toContain('| feature | [json](targets/json.md) | partial |');
    expect(page).toContain('| `route.mirror`: Request mirroring | yes | no |');
    expect(page).toContain(
      '| `policy.connection-pool`: Connection-pool / circuit-breaker limits | yes | partial |',
    );
    expect(page.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(FEATURE_IDS.length);
  });
});
