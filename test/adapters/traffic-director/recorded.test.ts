/**
 * Fidelity of the GCP stand-in against real exchanges: each recorded session in
 * ../shared/api-models/google/recorded/ (real Google APIs, normalized by Config Connector) is
 * replayed request by request against the stand-in, which must answer with the recorded status,
 * the recorded operation progression and, for resource reads, at least the recorded fields.
 * Stood in: the Google Cloud REST APIs (no GCP here). The v1beta1 networksecurity recordings are
 * replayed against v1, whose resources have the same fields. The go-vcr cassette of a GrpcRoute
 * session is replayed too, with its operation names mapped to the stand-in's.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { GcpStandin } from '../../helpers/gcp/standin.js';

interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly body?: Record<string, unknown>;
  readonly status: number;
  readonly response?: Record<string, unknown>;
}

/** Parses a KCC `_http.log`: exchanges separated by `---`, request line, headers, body, status line, headers, body. */
function parseLog(file: string): Exchange[] {
  const text = readFileSync(
    new URL(`../../../../shared/api-models/google/recorded/${file}`, import.meta.url),
    'utf8',
  );
  return text
    .split(/\n---\n/)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk !== '')
    .map((chunk) => {
      const lines = chunk.split('\n');
      const [method, url] = (lines[0] as string).split(' ') as [string, string];
      const statusIndex = lines.findIndex((line) => /^\d{3} /.test(line));
      const requestPart = lines.slice(1, statusIndex).join('\n');
      const responsePart = lines.slice(statusIndex + 1).join('\n');
      const json = (part: string): Record<string, unknown> | undefined => {
        const start = part.indexOf('\n{');
        return start === -1 ? undefined : (JSON.parse(part.slice(start + 1)) as Record<string, unknown>);
      };
      const body = json(requestPart);
      const response = json(responsePart);
      return {
        method,
        url,
        status: Number((lines[statusIndex] as string).slice(0, 3)),
        ...(body === undefined ? {} : { body }),
        ...(response === undefined ? {} : { response }),
      };
    });
}

let standin: GcpStandin | undefined;
afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

const PLACEHOLDERS: Readonly<Record<string, string>> = {
  '${projectId}': 'p',
  '${uniqueId}': 'u1',
  '${backendServiceID}': 'bs-u1',
  '${healthCheckID}': 'hc-u1',
};

function fill(text: string, operation: string): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the recordings' placeholder syntax
  let out = text.replaceAll('${operationID}', operation);
  for (const [placeholder, value] of Object.entries(PLACEHOLDERS)) out = out.replaceAll(placeholder, value);
  return out;
}

/** Output-only fields the recordings carry that the stand-in leaves out (documented, not checked). */
const NOT_MODELLED = new Set(['iap', 'selfLink']);

async function replay(file: string, pendingPolls: number): Promise<void> {
  standin = await GcpStandin.start({ pendingPolls });
  const url = standin.url;
  let operation = '';
  let fingerprint: unknown;
  for (const [i, exchange] of parseLog(file).entries()) {
    const path = fill(exchange.url, operation)
      .replace(/^https:\/\/[^/]+\//, '')
      .replace(/^v1beta1\//, 'v1/');
    let body =
      exchange.body === undefined
        ? undefined
        : (JSON.parse(fill(JSON.stringify(exchange.body), operation)) as Record<string, unknown>);
    // Fingerprints are server-made: send the one the stand-in gave, as a real client would.
    if (body !== undefined && 'fingerprint' in body) body = { ...body, fingerprint };
    const response = await fetch(`${url}${path}`, {
      method: exchange.method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    const where = `${file} #${i} ${exchange.method} ${path}`;
    expect(response.status, `${where}: ${JSON.stringify(json)}`).toBe(exchange.status);
    const recorded = exchange.response ?? {};
    if (exchange.status >= 400) {
      const error = json.error as Record<string, unknown>;
      const expected = recorded.error as Record<string, unknown>;
      expect(error.code, where).toBe(expected.code);
      if (expected.status !== undefined) expect(error.status, where).toBe(expected.status);
      if (expected.errors !== undefined)
        expect((error.errors as { reason: string }[])[0]?.reason, where).toBe(
          (expected.errors as { reason: string }[])[0]?.reason,
        );
      continue;
    }
    if (
      typeof json.name === 'string' &&
      (json.kind === 'compute#operation' || 'metadata' in json || 'done' in json)
    ) {
      operation = json.name.split('/').pop() as string;
    }
    if (recorded.kind === 'compute#operation') {
      expect(json.kind, where).toBe('compute#operation');
      // A recorded RUNNING may already be DONE here only when the recording says so.
      if (recorded.status === 'DONE') expect(json.status, where).toBe('DONE');
      expect(json.operationType, where).toBe(recorded.operationType);
    } else if (recorded.done === true) {
      expect(json.done, where).toBe(true);
      if (recorded.response !== undefined) {
        const keys = Object.keys(recorded.response as object).filter((k) => !NOT_MODELLED.has(k));
        expect(Object.keys(json.response as object), where).toEqual(expect.arrayContaining(keys));
      }
    } else if (exchange.method === 'GET' && !path.includes('/operations/')) {
      fingerprint = json.fingerprint;
      const expectedKeys = Object.keys(recorded).filter((k) => !NOT_MODELLED.has(k));
      expect(Object.keys(json), where).toEqual(expect.arrayContaining(expectedKeys));
      for (const key of [
        'labels',
        'type',
        'ports',
        'scope',
        'action',
        'description',
        'interceptionPort',
        'protocol',
        'timeoutSec',
        'tcpHealthCheck',
        'checkIntervalSec',
      ]) {
        if (recorded[key] !== undefined)
          expect(json[key], `${where} .${key}`).toEqual(
            JSON.parse(fill(JSON.stringify(recorded[key]), operation)),
          );
      }
    }
  }
}

describe('GcpStandin replays the recorded exchanges', () => {
  // The second value: operation polls before done, as in that recording (0: done on the first answer).
  // Not replayed: networkservices-httproute-fixture (its two backend services share one placeholder,
  // so a replay cannot tell them apart) and the gRPC route VCR cassette (a different format).
  test.each([
    ['networkservices-mesh-fixture.http.log', 0],
    ['networkservices-gateway-crud.http.log', 1],
    ['networksecurity-authorizationpolicy-crud.http.log', 1],
    ['compute-healthcheck-global.http.log', 1],
    ['compute-backendservice-crud.http.log', 1],
    ['networksecurity-servertlspolicy-fixture.http.log', 1],
    ['networksecurity-authorizationpolicy-full.http.log', 1],
    ['networksecurity-authorizationpolicy-minimal.http.log', 1],
    ['networkservices-gateway-fixture.http.log', 1],
    ['networkservices-gateway-fixture-direct.http.log', 1],
    ['compute-healthcheck-globalsourceregions.http.log', 1],
  ])('%s', async (file, pendingPolls) => {
    // GIVEN an empty stand-in WHEN the recorded session is replayed THEN every answer matches the recording
    await replay(file, pendingPolls);
  });
});

interface CassetteInteraction {
  readonly request: { readonly method: string; readonly url: string; readonly body: string };
  readonly response: { readonly code: number; readonly body: string };
}

describe('GcpStandin replays the recorded gRPC route cassette', () => {
  test('networkservices-grpcroute-vcr.cassette.yaml: creates, patch, refused deletes of resources in use, deferred deletes', async () => {
    // GIVEN the go-vcr cassette (meshes, gateways and a GrpcRoute; the backend services it names were
    // created outside the recording, so they are seeded)
    const text = readFileSync(
      new URL(
        '../../../../shared/api-models/google/recorded/networkservices-grpcroute-vcr.cassette.yaml',
        import.meta.url,
      ),
      'utf8',
    );
    const cassette = parse(text.slice(text.indexOf('\n---\n') + 5)) as {
      interactions: CassetteInteraction[];
    };
    standin = await GcpStandin.start({ pendingPolls: 1 });
    for (const n of [1, 2]) {
      const name = `computebackendservice-${n}-3elfauhbt8s3t`;
      standin.seed(`projects/example-project/global/backendServices/${name}`, { name });
    }
    const operations = new Map<string, string>();
    // WHEN each interaction is replayed THEN the stand-in answers with the recorded status
    for (const [i, { request, response }] of cassette.interactions.entries()) {
      let path = request.url.replace(/^https:\/\/[^/]+\//, '');
      for (const [recorded, ours] of operations) path = path.replace(recorded, ours);
      const answer = await fetch(`${standin.url}${path}`, {
        method: request.method,
        headers: { 'content-type': 'application/json' },
        ...(request.body === '' ? {} : { body: request.body }),
      });
      const json = (await answer.json()) as Record<string, unknown>;
      const where = `interaction ${i}: ${request.method} ${path}`;
      expect(answer.status, `${where}: ${JSON.stringify(json)}`).toBe(response.code);
      if (response.code !== 200) continue;
      const recorded = JSON.parse(response.body) as Record<string, unknown>;
      if (request.method !== 'GET') operations.set(recorded.name as string, json.name as string);
      else if (path.includes('/operations/')) expect(json.done, where).toBe(recorded.done);
      else {
        const keys = Object.keys(recorded).filter((k) => !NOT_MODELLED.has(k));
        expect(Object.keys(json), where).toEqual(expect.arrayContaining(keys));
        for (const key of [
          'labels',
          'type',
          'ports',
          'scope',
          'hostnames',
          'rules',
          'meshes',
          'gateways',
          'description',
        ]) {
          if (recorded[key] !== undefined) expect(json[key], `${where} .${key}`).toEqual(recorded[key]);
        }
      }
    }
  });
});
