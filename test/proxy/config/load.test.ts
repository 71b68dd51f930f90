// The loader against Envoy's real v3 descriptors (gen/envoy.binpb, built from the protos vendored
// in @grpc/grpc-js-xds by `npm run build`). Nothing is stood in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import {
  type Bootstrap,
  type Cluster,
  type CommonTlsContext,
  type ConfigWarning,
  type FieldUse,
  HCM_TYPE,
  type HttpConnectionManager,
  loadBootstrap,
  loadBootstrapFile,
  UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE,
  type UpstreamHttpProtocolOptions,
  validateEnvoyResource,
} from '../../../proxy/config/index.js';

const LISTENER = `
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM_TYPE}
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: / }
                route: { cluster: web }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`;

/** A deprecated field (HeaderMatcher.exact_match, now string_match) for the warning tests. */
const DEPRECATED_MATCH = 'match: { prefix: /, headers: [{ name: x-a, exact_match: b }] }';
function withDeprecated(text: string, routes = 1): string {
  const extra = `\n              - match: { prefix: /b, headers: [{ name: x-b, exact_match: c }] }\n                route: { cluster: web }`;
  return text
    .replace('match: { prefix: / }', DEPRECATED_MATCH)
    .replace('route: { cluster: web }', `route: { cluster: web }${routes > 1 ? extra : ''}`);
}
const ROUTES_PATH =
  'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes';
const DEPRECATED_FEATURE = 'envoy.config.route.v3.HeaderMatcher.exact_match';

/** A valid config with one listener and a cluster whose body is `cluster` (YAML, indented 4). */
function config(cluster = ''): string {
  return `${LISTENER}
  clusters:
  - name: web
    connect_timeout: 1s
    load_assignment:
      cluster_name: web
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } }
${cluster}`;
}

function rejection(run: () => unknown): MeshError {
  try {
    run();
  } catch (err) {
    if (err instanceof MeshError) return err;
    throw err;
  }
  throw new Error('expected a MeshError, but the config loaded');
}

function hcmOf(b: Bootstrap): HttpConnectionManager {
  return b.static_resources?.listeners?.[0]?.filter_chains?.[0]?.filters?.[0]
    ?.typed_config as HttpConnectionManager;
}

function clusterOf(b: Bootstrap): Cluster {
  return b.static_resources?.clusters?.[0] as Cluster;
}

describe('loadBootstrap', () => {
  test('a valid config loads into canonical, frozen proto3 JSON', () => {
    // GIVEN a valid config
    // WHEN loaded
    const b = loadBootstrap(config());
    // THEN names are proto names, the typed config keeps its @type, and the result is frozen
    expect(hcmOf(b)['@type']).toBe(HCM_TYPE);
    expect(hcmOf(b).route_config?.virtual_hosts?.[0]?.routes?.[0]?.route?.cluster).toBe('web');
    expect(clusterOf(b).connect_timeout).toBe('1s');
    expect(Object.isFrozen(clusterOf(b))).toBe(true);
  });

  test('an unknown field is named with its full path and a suggestion', () => {
    // GIVEN a misspelt cluster field
    // WHEN loaded
    const err = rejection(() => loadBootstrap(config('    lb_polcy: ROUND_ROBIN\n')));
    // THEN the error names the path, the message type and the likely intended field
    expect(err.code).toBe('PROXY_E_UNKNOWN_FIELD');
    expect(err.path).toBe('static_resources.clusters[0].lb_polcy');
    expect(err.message).toContain('envoy.config.cluster.v3.Cluster');
    expect(err.message).toContain('did you mean "lb_policy"');
    expect(err.exitCode).toBe(5);
  });

  test('an unknown field inside a typed config is named through the typed config', () => {
    // GIVEN a typo inside the HttpConnectionManager
    const text = config().replace('stat_prefix: ingress', 'stat_prefix: ingress\n          codec: AUTO');
    // WHEN loaded
    const err = rejection(() => loadBootstrap(text));
    // THEN the path runs through typed_config
    expect(err.path).toBe('static_resources.listeners[0].filter_chains[0].filters[0].typed_config.codec');
  });

  test('enum names are case-insensitive and come out canonical', () => {
    // GIVEN lowercase enum names
    // WHEN loaded
    const b = loadBootstrap(
      config('    type: strict_dns\n    lb_policy: least_request\n    dns_lookup_family: v4_only\n'),
    );
    // THEN they are the proto's spelling
    expect(clusterOf(b).type).toBe('STRICT_DNS');
    expect(clusterOf(b).lb_policy).toBe('LEAST_REQUEST');
    expect(clusterOf(b).dns_lookup_family).toBe('V4_ONLY');
  });

  test('an enum value that does not exist lists the allowed values', () => {
    // GIVEN a made-up lb policy
    const err = rejection(() => loadBootstrap(config('    lb_policy: FASTEST\n')));
    // THEN the error lists the allowed names
    expect(err.code).toBe('PROXY_E_INVALID');
    expect(err.path).toBe('static_resources.clusters[0].lb_policy');
    expect(err.allowed).toContain('ROUND_ROBIN');
    expect(err.allowed).toContain('MAGLEV');
  });

  test('a single object is accepted where a list is expected', () => {
    // GIVEN lb_endpoints and domains written as single values
    const text = config()
      .replace('domains: ["*"]', 'domains: "*"')
      .replace('      - lb_endpoints:\n        - endpoint:', '      - lb_endpoints:\n          endpoint:');
    // WHEN loaded
    const b = loadBootstrap(text);
    // THEN they are lists of one
    expect(hcmOf(b).route_config?.virtual_hosts?.[0]?.domains).toEqual(['*']);
    expect(clusterOf(b).load_assignment?.endpoints?.[0]?.lb_endpoints).toHaveLength(1);
  });

  test('durations must be strings and come out in canonical form', () => {
    // GIVEN a fractional duration
    // WHEN loaded
    const b = loadBootstrap(config('    dns_refresh_rate: 1.5s\n'));
    // THEN it is canonical proto3 JSON
    expect(clusterOf(b).dns_refresh_rate).toBe('1.500s');
    // AND a bare number is refused with a hint
    const err = rejection(() => loadBootstrap(config().replace('connect_timeout: 1s', 'connect_timeout: 5')));
    expect(err.code).toBe('PROXY_E_INVALID');
    expect(err.path).toBe('static_resources.clusters[0].connect_timeout');
    expect(err.message).toContain('write "5s"');
  });

  test('an unknown @type is unsupported, named with its element and extension name', () => {
    // GIVEN an HTTP filter whose type does not exist
    const text = config().replace(
      'typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }',
      'typed_config: { "@type": type.googleapis.com/example.NoSuchFilter }',
    );
    // WHEN loaded
    const err = rejection(() => loadBootstrap(text));
    // THEN the filter element is named
    expect(err.code).toBe('PROXY_E_UNSUPPORTED');
    expect(err.path).toBe(
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]',
    );
    expect(err.message).toContain('(envoy.filters.http.router)');
    expect(err.message).toContain('example.NoSuchFilter');
  });

  test('a typed config of the wrong kind is refused for its slot', () => {
    // GIVEN a transport socket config used as an HTTP filter
    const text = config().replace(
      'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
      'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    );
    // WHEN loaded
    const err = rejection(() => loadBootstrap(text));
    // THEN it is unsupported as an HTTP filter, and the supported filters are listed
    expect(err.code).toBe('PROXY_E_UNSUPPORTED');
    expect(err.message).toContain('as an HTTP filter');
    expect(err.message).toContain('envoy.filters.http.router');
  });

  test('a TypedStruct is read as the typed config it names, as Envoy converts it', () => {
    // GIVEN the router filter written as a udpa TypedStruct
    const text = config().replace(
      'typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }',
      'typed_config: { "@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, value: {} }',
    );
    // WHEN loaded
    const b = loadBootstrap(text);
    // THEN the runtime sees the Router itself
    expect(hcmOf(b).http_filters?.[0]?.typed_config).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
    });
    // AND a typo inside the struct is named through value
    const err = rejection(() => loadBootstrap(text.replace('value: {}', 'value: { dynamic_stat: true }')));
    expect(err.path).toMatch(/http_filters\[0\]\.typed_config\.value\.dynamic_stat$/);
  });

  test('two members of one oneof are a conflict', () => {
    // GIVEN a route with both prefix and path
    const text = config().replace('match: { prefix: / }', 'match: { prefix: /, path: /x }');
    // WHEN loaded
    const err = rejection(() => loadBootstrap(text));
    // THEN the conflict names both fields
    expect(err.code).toBe('PROXY_E_INVALID');
    expect(err.path).toMatch(/routes\[0\]\.match\.path$/);
    expect(err.message).toContain('"prefix" and "path"');
  });

  test("Envoy's proto validation rules apply (PGV)", () => {
    // GIVEN a zero connect timeout and an empty cluster name
    const text = config('    connect_timeout: 0s\n').replace('    connect_timeout: 1s\n', '');
    const err = rejection(() => loadBootstrap(text.replace('- name: web', '- name: ""')));
    // THEN both problems are reported in one error
    expect(err.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'static_resources.clusters[0].name',
        'static_resources.clusters[0].connect_timeout',
      ]),
    );
    expect(err.problems.find((p) => p.path.endsWith('connect_timeout'))?.message).toContain(
      'greater than 0s',
    );
  });

  test('a required oneof is enforced', () => {
    // GIVEN a route with no action
    const text = config().replace('                route: { cluster: web }\n', '');
    // WHEN loaded
    const err = rejection(() => loadBootstrap(text));
    // THEN the missing action is named
    expect(err.path).toMatch(/routes\[0\]$/);
    expect(err.message).toContain('one of route, redirect, direct_response');
  });

  test('a supported field outside the subset names the field and the alternatives', () => {
    // GIVEN an Envoy field the proxy does not implement
    const err = rejection(() => loadBootstrap(config('    respect_dns_ttl: true\n')));
    // THEN it is unsupported, at its path
    expect(err.code).toBe('PROXY_E_UNSUPPORTED');
    expect(err.path).toBe('static_resources.clusters[0].respect_dns_ttl');
    expect(err.message).toContain('docs/proxy-compatibility.md');
  });

  test('an enum value outside the subset is unsupported', () => {
    // GIVEN an EDS cluster (xDS client not yet there)
    const err = rejection(() => loadBootstrap(config('    type: EDS\n')));
    // THEN the supported values are listed
    expect(err.code).toBe('PROXY_E_UNSUPPORTED');
    expect(err.allowed).toBe('STATIC, STRICT_DNS, LOGICAL_DNS');
  });

  test('a deprecated field loads with one warning naming every place it is used', () => {
    // GIVEN HeaderMatcher.exact_match (deprecated) on two routes
    const text = withDeprecated(config(), 2);
    // WHEN loaded with a warning sink
    const warnings: ConfigWarning[] = [];
    loadBootstrap(text, { source: 'envoy.yaml', onWarning: (w) => warnings.push(w) });
    // THEN one warning names both places
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.code).toBe('PROXY_W_DEPRECATED');
    expect(warnings[0]?.paths).toEqual([
      `${ROUTES_PATH}[0].match.headers[0].exact_match`,
      `${ROUTES_PATH}[1].match.headers[0].exact_match`,
    ]);
    expect(warnings[0]?.message).toBe(
      `envoy.yaml: ${ROUTES_PATH}[0].match.headers[0].exact_match and 1 more place: using deprecated option '${DEPRECATED_FEATURE}', which Envoy will remove (see its version history)`,
    );
  });

  test('without a sink, deprecated fields are reported as process warnings', async () => {
    // GIVEN a config with HeaderMatcher.exact_match (deprecated) and no onWarning
    const text = withDeprecated(config());
    // WHEN loaded
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    loadBootstrap(text);
    // THEN Node's warning channel carries it, with its code
    const w = (await warned) as Error & { code?: string };
    expect(w.name).toBe('CrossmeshProxyConfigWarning');
    expect(w.code).toBe('PROXY_W_DEPRECATED');
    expect(w.message).toContain(
      `match.headers[0].exact_match: using deprecated option '${DEPRECATED_FEATURE}'`,
    );
  });

  test('grpc_timeout_header_max and _offset load with no warning (enforced since issue 6)', () => {
    // GIVEN gRPC timeout header limits on a route
    const text = config().replace(
      'route: { cluster: web }',
      'route: { cluster: web, max_stream_duration: { grpc_timeout_header_max: 1s, grpc_timeout_header_offset: 0.1s } }',
    );
    // WHEN loaded with a warning sink
    const warnings: ConfigWarning[] = [];
    const b = loadBootstrap(text, { onWarning: (w) => warnings.push(w) });
    // THEN they are kept for the router, and nothing is warned about
    expect(hcmOf(b).route_config?.virtual_hosts?.[0]?.routes?.[0]?.route?.max_stream_duration).toEqual({
      grpc_timeout_header_max: '1s',
      grpc_timeout_header_offset: '0.100s',
    });
    expect(warnings).toEqual([]);
  });

  test('inside a supported message, an unsupported field is still refused', () => {
    // GIVEN a retry policy (supported) using retry_priority (not supported)
    const text = config().replace(
      'route: { cluster: web }',
      'route: { cluster: web, retry_policy: { retry_on: 5xx, retry_priority: { name: p } } }',
    );
    // WHEN loaded
    const err = rejection(() => loadBootstrap(text, { onWarning: () => undefined }));
    // THEN the unsupported field is named
    expect(err.code).toBe('PROXY_E_UNSUPPORTED');
    expect(err.path).toMatch(/retry_policy\.retry_priority$/);
  });

  test('tolerated fields load and are documented as ignored', () => {
    // GIVEN a runtime layer and stats tags
    const text = `${config()}layered_runtime:\n  layers: { name: l, static_layer: { a: 1 } }\nstats_config:\n  use_all_default_tags: false\n`;
    // WHEN loaded
    const b = loadBootstrap(text);
    // THEN they are kept in the canonical output (for /config_dump) and nothing fails
    expect(b.layered_runtime).toBeDefined();
  });

  test('deprecated spellings are rewritten to their current form', () => {
    // GIVEN a legacy header matcher, append flag and cluster protocol options
    const text = config('    http2_protocol_options: {}\n    max_requests_per_connection: 10\n').replace(
      'match: { prefix: / }',
      'match: { prefix: /, headers: [{ name: x-a, exact_match: b }] }\n                request_headers_to_add: [{ header: { key: k, value: v }, append: false }]',
    );
    // WHEN loaded
    const warnings: ConfigWarning[] = [];
    const b = loadBootstrap(text, { onWarning: (w) => warnings.push(w) });
    // THEN each deprecated field is warned about, as Envoy does
    expect(warnings.filter((w) => w.code === 'PROXY_W_DEPRECATED').map((w) => w.feature)).toEqual([
      'envoy.config.route.v3.HeaderMatcher.exact_match',
      'envoy.config.core.v3.HeaderValueOption.append',
      'envoy.config.cluster.v3.Cluster.max_requests_per_connection',
      'envoy.config.cluster.v3.Cluster.http2_protocol_options',
    ]);
    // AND the runtime sees only the current forms
    const route = hcmOf(b).route_config?.virtual_hosts?.[0]?.routes?.[0];
    expect(route?.match.headers?.[0]).toEqual({ name: 'x-a', string_match: { exact: 'b' } });
    expect(route?.request_headers_to_add?.[0]).toEqual({
      header: { key: 'k', value: 'v' },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    });
    const c = clusterOf(b);
    expect(Object.keys(c)).not.toContain('http2_protocol_options');
    const options = c.typed_extension_protocol_options?.[
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
    ] as UpstreamHttpProtocolOptions;
    expect(options['@type']).toBe(UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE);
    expect(options.explicit_http_config).toEqual({ http2_protocol_options: {} });
    expect(options.common_http_protocol_options).toEqual({ max_requests_per_connection: 10 });
  });

  test('static secrets named by SDS configs are inlined, as Envoy resolves them', () => {
    // GIVEN an upstream TLS context naming static secrets for its certificate and its CA
    const cluster = `    transport_socket:
      name: tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          tls_certificate_sds_secret_configs: [{ name: client }]
          validation_context_sds_secret_config: { name: ca }
`;
    const secrets = `  secrets:
  - name: client
    tls_certificate: { certificate_chain: { filename: c.pem }, private_key: { filename: k.pem } }
  - name: ca
    validation_context: { trusted_ca: { filename: ca.pem } }
`;
    // WHEN loaded
    const b = loadBootstrap(config(cluster) + secrets);
    // THEN the runtime sees inline certificates and CA
    const tls = clusterOf(b).transport_socket?.typed_config as { common_tls_context?: CommonTlsContext };
    expect(tls.common_tls_context).toEqual({
      tls_certificates: [{ certificate_chain: { filename: 'c.pem' }, private_key: { filename: 'k.pem' } }],
      validation_context: { trusted_ca: { filename: 'ca.pem' } },
    });
    // AND a name with no static secret is refused, naming the known ones
    const err = rejection(() =>
      loadBootstrap(config(cluster.replace('name: client', 'name: nope')) + secrets),
    );
    expect(err.path).toMatch(/tls_certificate_sds_secret_configs\[0\]\.name$/);
    expect(err.message).toContain('unknown static secret: nope (static_resources.secrets: ca, client)');
    // AND dynamic SDS is unsupported
    const sds = cluster.replace('[{ name: client }]', '[{ name: client, sds_config: { ads: {} } }]');
    expect(rejection(() => loadBootstrap(config(sds) + secrets)).path).toMatch(/\[0\]\.sds_config$/);
  });

  test('JSON is read strictly and a key given twice with different values is refused', () => {
    // GIVEN JSON with a conflicting duplicate key
    const json =
      '{"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}}}, "admin": {}}';
    // WHEN loaded
    const err = rejection(() => loadBootstrap(json, { format: 'json', source: 'envoy.json' }));
    // THEN it is a parse error naming the key and line
    expect(err.code).toBe('PROXY_E_PARSE');
    expect(err.message).toContain('envoy.json: line 1: key "admin" is given twice');
    // AND malformed JSON is a parse error too
    expect(rejection(() => loadBootstrap('{"admin": ', { format: 'json' })).code).toBe('PROXY_E_PARSE');
  });

  test('YAML syntax errors and empty input are parse errors', () => {
    // GIVEN broken YAML and an empty file
    // THEN both are PROXY_E_PARSE
    expect(rejection(() => loadBootstrap('admin: [\n')).code).toBe('PROXY_E_PARSE');
    expect(rejection(() => loadBootstrap('  \n')).message).toContain('empty');
    expect(rejection(() => loadBootstrap('- a\n- b\n')).code).toBe('PROXY_E_INVALID');
  });

  test('values YAML can express but JSON cannot are refused with their path, never crash', () => {
    // GIVEN infinities in a Struct, YAML tags, a complex key and an unpaired surrogate
    const cases: [string, string, string][] = [
      ['node: {metadata: {a: .inf}}', 'node.metadata', 'Infinity is not a JSON number'],
      ['node: {metadata: !!binary aGVsbG8=}', 'node.metadata', 'from a YAML tag'],
      ['node: {id: !!binary aGVsbG8=}', 'node.id', 'expected a string'],
      ['!!set {a, b}', '', 'got a Set'],
      ['node: {metadata: {? [a, b] : c}}', '', 'a map key must be a plain value'],
      ['node: {id: "\\ud800"}', 'node.id', 'unpaired UTF-16 surrogate'],
    ];
    for (const [text, path, message] of cases) {
      // WHEN loaded
      const err = rejection(() => loadBootstrap(text));
      // THEN a MeshError names the place
      expect(err.path, text).toBe(path);
      expect(err.message, text).toContain(message);
    }
  });

  test("YAML reads as Envoy's yaml-cpp does: yes/on are booleans, !ignore keys are dropped", () => {
    // GIVEN yes for a bool field, an unquoted on for a string field, and anchors kept under !ignore
    const text =
      '!ignore defs: {admin: &addr {address: 127.0.0.1, port_value: 0}}\nadmin: {address: {socket_address: *addr}}\nnode: {metadata: {flag: On, word: "on"}}\n';
    // WHEN loaded
    const b = loadBootstrap(text);
    // THEN the alias resolved, the ignored key is gone, and On is a boolean but "on" a string
    expect(b.admin?.address?.socket_address?.address).toBe('127.0.0.1');
    expect(Object.keys(b)).not.toContain('defs');
    expect(b.node?.metadata).toEqual({ flag: true, word: 'on' });
    // AND an unquoted yes where a string is expected is refused, as in Envoy
    expect(rejection(() => loadBootstrap('node: {id: yes}')).message).toContain(
      'expected a string, got boolean true',
    );
  });

  test('--config-yaml merges over the file as protobuf MergeFrom does', () => {
    // GIVEN an override that adds an admin and replaces a cluster scalar
    const override = 'admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }\n';
    // WHEN loaded
    const b = loadBootstrap(config(), { configYaml: override });
    // THEN both parts are present
    expect(b.admin?.address?.socket_address?.address).toBe('127.0.0.1');
    expect(b.static_resources?.listeners).toHaveLength(1);
    // AND lists append, as MergeFrom appends repeated fields
    const more = loadBootstrap(config(), {
      configYaml: 'static_resources: { clusters: [{ name: extra, connect_timeout: 2s }] }',
    });
    expect(more.static_resources?.clusters?.map((c) => c.name)).toEqual(['web', 'extra']);
    // AND problems in the override are labelled as such
    const err = rejection(() => loadBootstrap(config(), { configYaml: 'admn: {}' }));
    expect(err.message).toContain('--config-yaml: admn');
  });
});

describe('loadBootstrapFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossmesh-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads .yaml as YAML and .json as JSON', () => {
    // GIVEN the same config in both syntaxes
    const yamlPath = join(dir, 'envoy.yaml');
    const jsonPath = join(dir, 'envoy.json');
    writeFileSync(yamlPath, config());
    writeFileSync(jsonPath, JSON.stringify(loadBootstrap(config())));
    // WHEN loaded from files
    // THEN both give the same canonical config
    expect(loadBootstrapFile(jsonPath)).toEqual(loadBootstrapFile(yamlPath));
  });

  test('a file not named .yaml or .yml is read as JSON, as Envoy does', () => {
    // GIVEN YAML text in a .conf file
    const path = join(dir, 'envoy.conf');
    writeFileSync(path, config());
    // WHEN loaded
    const err = rejection(() => loadBootstrapFile(path));
    // THEN it is a JSON parse error that says why
    expect(err.code).toBe('PROXY_E_PARSE');
    expect(err.message).toContain('files not named *.yaml or *.yml are read as JSON');
  });

  test('a missing file and a binary proto file are clear errors', () => {
    // GIVEN paths that cannot be loaded
    // THEN each has its own code and names the file
    const missing = rejection(() => loadBootstrapFile(join(dir, 'nope.yaml')));
    expect(missing.code).toBe('PROXY_E_FILE');
    expect(missing.message).toContain('nope.yaml');
    expect(rejection(() => loadBootstrapFile(join(dir, 'envoy.pb'))).code).toBe('PROXY_E_UNSUPPORTED');
  });
});

describe('validateEnvoyResource', () => {
  test('validates and canonicalizes an xDS Cluster', () => {
    // GIVEN a cluster in JSON-name form with a lowercase enum
    const cluster = {
      name: 'c',
      type: 'eds',
      edsClusterConfig: { edsConfig: { ads: {} } },
      connectTimeout: '0.25s',
    };
    // WHEN validated against Envoy's rules only
    const out = validateEnvoyResource('type.googleapis.com/envoy.config.cluster.v3.Cluster', cluster);
    // THEN it comes back canonical
    expect(out).toEqual({
      name: 'c',
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {} } },
      connect_timeout: '0.250s',
    });
  });

  test('names the path of a problem, prefixed by the caller', () => {
    // GIVEN a route configuration with an unknown field
    const rc = { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routez: [] }] };
    // WHEN validated
    const err = rejection(() =>
      validateEnvoyResource('type.googleapis.com/envoy.config.route.v3.RouteConfiguration', rc, {
        path: 'routes.r',
      }),
    );
    // THEN the path is complete
    expect(err.code).toBe('PROXY_E_UNKNOWN_FIELD');
    expect(err.path).toBe('routes.r.virtual_hosts[0].routez');
  });

  test('supportedOnly can collect the deprecated fields set', () => {
    // GIVEN a route matching a header with exact_match (deprecated)
    const rc = {
      name: 'r',
      virtual_hosts: [
        {
          name: 'v',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/', headers: [{ name: 'x-a', exact_match: 'b' }] },
              route: { cluster: 'c' },
            },
          ],
        },
      ],
    };
    const deprecated: FieldUse[] = [];
    // WHEN validated with a collector
    validateEnvoyResource('type.googleapis.com/envoy.config.route.v3.RouteConfiguration', rc, {
      supportedOnly: true,
      deprecated,
    });
    // THEN the use is collected
    const at = 'virtual_hosts[0].routes[0].match.headers[0].exact_match';
    expect(deprecated).toEqual([{ path: at, label: at, feature: DEPRECATED_FEATURE }]);
  });

  test('supportedOnly applies the bundled proxy subset', () => {
    // GIVEN an EDS cluster, valid for Envoy
    const cluster = { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } };
    // WHEN validated for the bundled proxy
    const err = rejection(() =>
      validateEnvoyResource('type.googleapis.com/envoy.config.cluster.v3.Cluster', cluster, {
        supportedOnly: true,
      }),
    );
    // THEN the unsupported parts are named
    expect(err.code).toBe('PROXY_E_UNSUPPORTED');
    expect(err.problems.map((p) => p.path)).toEqual(['type', 'eds_cluster_config']);
  });

  test('refuses a type URL it does not know', () => {
    // GIVEN a non-resource type
    const err = rejection(() =>
      validateEnvoyResource('type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap' as never, {}),
    );
    // THEN the allowed types are listed
    expect(err.allowed).toContain('envoy.config.listener.v3.Listener');
  });
});
