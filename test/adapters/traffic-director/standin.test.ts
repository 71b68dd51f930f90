/**
 * The GCP stand-in itself (test/helpers/gcp/): it must reject what the real APIs reject and answer
 * the way the recorded exchanges in ../shared/api-models/google/recorded/ do, or the provider tests
 * prove nothing. Stood in: the Google Cloud networkservices, networksecurity and compute REST APIs
 * (no GCP here). Requests are sent with plain fetch (to craft bad ones) and with the real googleapis
 * client through rootUrl.
 */
import { readFileSync } from 'node:fs';
import { PassThroughClient } from 'google-auth-library';
import { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildComputeSchemas, COMPUTE_ENUMS, readComputeTypes } from '../../helpers/gcp/compute-schema.js';
import { canonicalDuration, loadDiscovery, validateValue } from '../../helpers/gcp/discovery.js';
import { GcpStandin } from '../../helpers/gcp/standin.js';

const P = 'projects/p/locations/global';

let standin: GcpStandin;
beforeAll(async () => {
  standin = await GcpStandin.start();
});
afterAll(async () => {
  await standin.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${standin.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function recorded(file: string): string {
  return readFileSync(
    new URL(`../../../../shared/api-models/google/recorded/${file}`, import.meta.url),
    'utf8',
  );
}

describe('discovery validator', () => {
  const doc = loadDiscovery('networkservices-v1.json');
  const check = (schema: string, value: unknown) => validateValue(doc.schemas, { $ref: schema }, value, '');

  test('rejects unknown fields, wrong types, bad enums, bad durations and missing required fields', () => {
    // GIVEN one HttpRoute body with one of each mistake
    const body = {
      hostnames: 'web', // not a list
      rules: [
        {
          action: { timeout: '3 seconds', redirect: { responseCode: 'TEAPOT' } },
          matches: [{ methodMatch: 'GET' }],
        },
      ],
      colour: 'blue',
    };
    // WHEN
    const violations = check('HttpRoute', body).map((v) => v.field);
    // THEN every mistake is reported with its field path
    expect(violations).toEqual(
      expect.arrayContaining([
        'hostnames',
        'rules[0].action.timeout',
        'rules[0].action.redirect.responseCode',
        'rules[0].matches[0].methodMatch',
        'colour',
      ]),
    );
    // AND a body missing required fields names them
    expect(check('Gateway', { type: 'OPEN_MESH' }).map((v) => v.field)).toEqual(['ports']);
    expect(
      check('EndpointPolicy', {})
        .map((v) => v.field)
        .sort(),
    ).toEqual(['endpointMatcher', 'type']);
  });

  test('accepts a valid body and ignores output-only fields', () => {
    // GIVEN / WHEN / THEN
    expect(check('Mesh', { labels: { a: 'b' }, createTime: '2026-01-01T00:00:00Z' })).toEqual([]);
  });

  test('durations come back in proto3 canonical form', () => {
    // GIVEN / WHEN / THEN
    expect(canonicalDuration('0.25s')).toBe('0.250s');
    expect(canonicalDuration('10.000s')).toBe('10s');
    expect(canonicalDuration('1.0000001s')).toBe('1.000000100s');
  });
});

describe('compute schema from googleapis types', () => {
  test('every enum value the stand-in enforces is named in the compute v1 types', () => {
    // GIVEN the d.ts and the JSDoc of each field
    const source = readComputeTypes();
    const { docs } = buildComputeSchemas(['BackendService', 'HealthCheck']);
    // WHEN / THEN every listed field exists, and every listed value appears in its JSDoc or elsewhere in the types
    for (const [field, values] of Object.entries(COMPUTE_ENUMS)) {
      expect(docs[field], field).toBeDefined();
      for (const value of values) {
        const named = new RegExp(`\\b${value}\\b`);
        expect(named.test(docs[field] ?? '') || named.test(source), `${field} = ${value}`).toBe(true);
      }
    }
  });

  test('every field crossmesh sends exists in the compute v1 types with a JSON type', () => {
    // GIVEN the generated schemas
    const { schemas } = buildComputeSchemas(['BackendService', 'HealthCheck']);
    // WHEN / THEN
    for (const field of [
      'loadBalancingScheme',
      'protocol',
      'healthChecks',
      'outlierDetection',
      'circuitBreakers',
      'localityLbPolicy',
      'consistentHash',
      'timeoutSec',
      'connectionDraining',
      'securitySettings',
      'backends',
      'sessionAffinity',
      'description',
    ]) {
      expect(
        schemas.BackendService?.properties?.[field]?.type ??
          schemas.BackendService?.properties?.[field]?.$ref,
        field,
      ).toBeDefined();
    }
    expect(schemas.BackendService?.properties?.id?.readOnly).toBe(true);
    expect(schemas.ConsistentHashLoadBalancerSettings?.properties?.httpHeaderName?.type).toBe('string');
  });
});

describe('GcpStandin networkservices / networksecurity', () => {
  test('create answers with a long-running operation, polled until done, like the recorded exchange', async () => {
    // GIVEN the recorded mesh create: operation name under projects/P/locations/global/operations
    expect(recorded('networkservices-httproute-fixture.http.log')).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the recording's own placeholder syntax
      '"name": "projects/${projectId}/locations/global/operations/${operationID}"',
    );
    // WHEN a mesh is created with the REAL googleapis client
    const ns = new networkservices_v1.Networkservices({
      rootUrl: standin.url,
      auth: new PassThroughClient() as never,
      retry: false,
    });
    const created = await ns.projects.locations.meshes.create({
      parent: P,
      meshId: 'm1',
      requestBody: { labels: { a: 'b' } },
    });
    // THEN the first answer is pending, the poll completes it with the resource and its @type
    expect(created.data.done).toBe(false);
    expect(created.data.name).toMatch(/^projects\/p\/locations\/global\/operations\/operation-\d+$/);
    const polled = await ns.projects.locations.operations.get({ name: created.data.name as string });
    expect(polled.data.done).toBe(true);
    expect(polled.data.response).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.networkservices.v1.Mesh',
      name: `${P}/meshes/m1`,
      labels: { a: 'b' },
    });
    const got = await ns.projects.locations.meshes.get({ name: `${P}/meshes/m1` });
    expect(got.data).toMatchObject({ name: `${P}/meshes/m1`, labels: { a: 'b' } });
    expect(got.data.createTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  test('404 NOT_FOUND and 409 ALREADY_EXISTS use Google error bodies', async () => {
    // GIVEN mesh m1 exists (previous test) WHEN it is created again or a missing mesh is read
    const again = await call('POST', `v1/${P}/meshes?meshId=m1`, {});
    const missing = await call('GET', `v1/${P}/meshes/nope`);
    // THEN
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      error: { code: 409, message: `Resource '${P}/meshes/m1' already exists`, status: 'ALREADY_EXISTS' },
    });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: { code: 404, message: `Resource '${P}/meshes/nope' was not found`, status: 'NOT_FOUND' },
    });
  });

  test('a bad request is rejected with INVALID_ARGUMENT and field violations', async () => {
    // GIVEN / WHEN an unknown field, a bad enum, a missing meshId, an unknown query parameter and a bad update mask
    const unknown = await call('POST', `v1/${P}/meshes?meshId=m2`, { colour: 'blue' });
    const badEnum = await call('POST', `v1/${P}/gateways?gatewayId=g1`, { type: 'CLOSED_MESH', ports: [80] });
    const noId = await call('POST', `v1/${P}/meshes`, {});
    const badQuery = await call('GET', `v1/${P}/meshes?colour=blue`);
    const badMask = await call('PATCH', `v1/${P}/meshes/m1?updateMask=colour`, {});
    // THEN
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'colour' }] },
        ],
      },
    });
    expect(badEnum.status).toBe(400);
    expect(JSON.stringify(badEnum.json)).toContain('CLOSED_MESH');
    expect(noId.status).toBe(400);
    expect(JSON.stringify(noId.json)).toContain('meshId');
    expect(badQuery.status).toBe(400);
    expect(badMask.status).toBe(400);
  });

  test('references must exist, and a referenced resource cannot be deleted', async () => {
    // GIVEN / WHEN a route naming a missing mesh
    const dangling = await call('POST', `v1/${P}/tcpRoutes?tcpRouteId=t1`, {
      meshes: [`${P}/meshes/ghost`],
      rules: [{ action: {} }],
    });
    // THEN
    expect(dangling.status).toBe(404);
    // GIVEN a route on m1 WHEN m1 is deleted
    expect(
      (
        await call('POST', `v1/${P}/tcpRoutes?tcpRouteId=t1`, {
          meshes: [`${P}/meshes/m1`],
          rules: [{ action: {} }],
        })
      ).status,
    ).toBe(200);
    const inUse = await call('DELETE', `v1/${P}/meshes/m1`);
    // THEN it is refused until the route is gone
    expect(inUse.status).toBe(400);
    const routeDelete = await call('DELETE', `v1/${P}/tcpRoutes/t1`);
    expect(routeDelete.status).toBe(200);
    // AND, as in the recorded grpcRoute session, the mesh stays in use until that operation is done
    expect((await call('DELETE', `v1/${P}/meshes/m1`)).status).toBe(400);
    expect((await call('GET', `v1/${routeDelete.json.name as string}`)).json.done).toBe(true);
    expect((await call('DELETE', `v1/${P}/meshes/m1`)).status).toBe(200);
  });

  test('route hostnames follow their descriptions: no port on HttpRoute, optional port on GrpcRoute, no IPs', async () => {
    // GIVEN a mesh
    await call('POST', `v1/${P}/meshes?meshId=hosts`, {});
    const route = (kind: string, id: string, hostnames: string[]) =>
      call('POST', `v1/${P}/${kind}?${kind.slice(0, -1)}Id=${id}`, {
        meshes: [`${P}/meshes/hosts`],
        hostnames,
        rules: [{ action: {} }],
      });
    // WHEN / THEN
    expect((await route('httpRoutes', 'h1', ['web.shop.local', '*.example.com'])).status).toBe(200);
    expect((await route('httpRoutes', 'h2', ['web.shop.local:8080'])).status).toBe(400);
    expect((await route('httpRoutes', 'h3', ['10.0.0.1'])).status).toBe(400);
    expect((await route('httpRoutes', 'h4', ['Web.Shop'])).status).toBe(400);
    expect((await route('grpcRoutes', 'g1', ['pay.shop.local:50051', 'pay.shop.local'])).status).toBe(200);
  });

  test('proto3 defaults are not echoed and durations come back canonical', async () => {
    // GIVEN / WHEN
    await call('POST', `v1/${P}/meshes?meshId=m3`, {});
    await call('POST', `v1/${P}/grpcRoutes?grpcRouteId=r1`, {
      meshes: [`${P}/meshes/m3`],
      hostnames: ['a.b'],
      rules: [{ action: { timeout: '0.25s', retryPolicy: { numRetries: 0, retryConditions: [] } } }],
    });
    const got = await call('GET', `v1/${P}/grpcRoutes/r1`);
    // THEN
    expect(got.json.rules).toEqual([{ action: { timeout: '0.250s' } }]);
    expect(got.json.selfLink).toBe(`https://networkservices.googleapis.com/v1/${P}/grpcRoutes/r1`);
  });
});

describe('GcpStandin compute', () => {
  const C = 'compute/v1/projects/p/global';

  test('insert answers RUNNING, the global operation reaches DONE, the resource gets server defaults', async () => {
    // GIVEN the recorded compute insert answer
    expect(recorded('compute-backendservice-crud.http.log')).toContain('"status": "RUNNING"');
    // WHEN
    const insert = await call('POST', `${C}/backendServices`, {
      name: 'bs1',
      protocol: 'HTTP',
      loadBalancingScheme: 'INTERNAL_SELF_MANAGED',
    });
    const op = await call('GET', `${C}/operations/${insert.json.name as string}`);
    const got = await call('GET', `${C}/backendServices/bs1`);
    // THEN
    expect(insert.json).toMatchObject({
      kind: 'compute#operation',
      operationType: 'insert',
      status: 'RUNNING',
    });
    expect(op.json).toMatchObject({ status: 'DONE', progress: 100 });
    expect(got.json).toMatchObject({
      kind: 'compute#backendService',
      name: 'bs1',
      sessionAffinity: 'NONE',
      connectionDraining: { drainingTimeoutSec: 0 },
      selfLink: 'https://www.googleapis.com/compute/v1/projects/p/global/backendServices/bs1',
    });
    expect(typeof got.json.fingerprint).toBe('string');
  });

  test('rejects unknown fields, bad enums, bad names; 404/409 in compute error shape; update needs the fingerprint', async () => {
    // GIVEN / WHEN
    const unknown = await call('POST', `${C}/backendServices`, { name: 'bs2', colour: 'blue' });
    const badEnum = await call('POST', `${C}/backendServices`, { name: 'bs2', localityLbPolicy: 'FASTEST' });
    const badName = await call('POST', `${C}/healthChecks`, {
      name: 'Bad_Name',
      type: 'TCP',
      tcpHealthCheck: { port: 1 },
    });
    const mismatch = await call('POST', `${C}/healthChecks`, {
      name: 'hc1',
      type: 'HTTP',
      tcpHealthCheck: { port: 1 },
    });
    const dup = await call('POST', `${C}/backendServices`, { name: 'bs1' });
    const missing = await call('GET', `${C}/healthChecks/nope`);
    const stale = await call('PUT', `${C}/backendServices/bs1`, { name: 'bs1', fingerprint: 'stale' });
    // THEN
    for (const r of [unknown, badEnum, badName, mismatch]) expect(r.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('colour');
    expect(JSON.stringify(badEnum.json)).toContain('FASTEST');
    expect(dup.status).toBe(409);
    expect(dup.json).toMatchObject({
      error: { code: 409, errors: [{ domain: 'global', reason: 'alreadyExists' }] },
    });
    expect(missing.json).toEqual({
      error: {
        code: 404,
        message: "The resource 'projects/p/global/healthChecks/nope' was not found",
        errors: [
          {
            domain: 'global',
            reason: 'notFound',
            message: "The resource 'projects/p/global/healthChecks/nope' was not found",
          },
        ],
      },
    });
    expect(stale.status).toBe(412);
    // AND zonal NEG backends need a health check (compute v1 BackendService.healthChecks)
    const unchecked = await call('POST', `${C}/backendServices`, {
      name: 'bs3',
      backends: [
        { group: 'projects/p/zones/z/networkEndpointGroups/n', balancingMode: 'RATE', maxRatePerEndpoint: 1 },
      ],
    });
    expect(unchecked.status).toBe(400);
    expect(JSON.stringify(unchecked.json)).toContain('must have a health check');
  });

  test('injected faults fail the chosen mutating calls and are counted', async () => {
    // GIVEN the second mutating call fails with 429
    standin.resetCalls();
    standin.failMutation(2, 429);
    // WHEN three mutating calls are made
    const statuses = [
      (await call('POST', `${C}/healthChecks`, { name: 'hc2', type: 'TCP', tcpHealthCheck: { port: 1 } }))
        .status,
      (await call('POST', `${C}/healthChecks`, { name: 'hc3', type: 'TCP', tcpHealthCheck: { port: 1 } }))
        .status,
      (await call('POST', `${C}/healthChecks`, { name: 'hc3', type: 'TCP', tcpHealthCheck: { port: 1 } }))
        .status,
    ];
    // THEN
    expect(statuses).toEqual([200, 429, 200]);
    expect(standin.mutatingCalls).toBe(3);
  });
});
