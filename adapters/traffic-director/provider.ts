/**
 * The Traffic Director provider: the thin I/O edge over networkservices v1, networksecurity v1 and
 * compute v1 through the official `googleapis` client.
 *
 * - Auth: Application Default Credentials (google-auth-library `GoogleAuth`) against Google; with
 *   an `endpoint` (a stand-in), `rootUrl` points there and `PassThroughClient` sends no auth.
 * - Every API call goes through `withRetry` (429, 5xx, resets; backoff with jitter), and the
 *   client's own retries are off so there is one retry policy.
 * - Long-running operations are polled until `done` (networkservices/networksecurity) or `DONE`
 *   (compute global operations), with a timeout (TARGET_E_TIMEOUT) and progress lines.
 * - Only resources labelled `crossmesh-managed=true` + `crossmesh-mesh=<mesh>` (compute: the
 *   description `crossmesh:mesh=<mesh>`) are ever updated or deleted; others are only reported
 *   when their name collides with a desired one, and the engine refuses them.
 * - Live resources are projected onto the desired spec shape: server-filled and output-only
 *   fields are dropped, proto3 defaults pruned, references made relative.
 */
import { GoogleAuth, PassThroughClient } from 'google-auth-library';
import { compute_v1 } from 'googleapis/build/src/apis/compute/v1.js';
import { networksecurity_v1 } from 'googleapis/build/src/apis/networksecurity/v1.js';
import { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import { MeshError } from '../../errors/index.js';
import { errorStatus, type RetryOptions, withRetry } from '../plan/retry.js';
import type { DesiredResource, Json, LiveResource, Provider } from '../plan/types.js';
import { resourceId } from './desired.js';
import { isObject, type JsonObject, pruneDefaults, sortKeys } from './json.js';
import { hasMeshDescription, hasMeshLabels, ref, relativeName } from './names.js';
import { TD_COLLECTIONS, TD_KINDS, type TdKind } from './types.js';

/** Options of {@link createTrafficDirectorProvider}. */
export interface TrafficDirectorProviderOptions {
  /** GCP project id. */
  readonly project: string;
  /** Mesh name (ownership labels). */
  readonly mesh: string;
  /** Stand-in root URL; when set, no credentials are used. @default - the Google APIs with ADC */
  readonly endpoint?: string;
  /** Progress lines (operations, retries). @default - silent */
  readonly progress?: (line: string) => void;
  /** Retry policy of every API call. @default - withRetry's defaults (5 retries, 200 ms base) */
  readonly retry?: RetryOptions;
  /** Time allowed for one long-running operation. @default 600000 (10 minutes) */
  readonly operationTimeoutMs?: number;
  /** First delay between operation polls; doubles up to 5 s. @default 1000, or 10 with an endpoint */
  readonly pollIntervalMs?: number;
}

/** The fields crossmesh manages on compute resources (compute echoes everything else with defaults). */
const COMPUTE_FIELDS: Readonly<
  Record<'BackendService' | 'HealthCheck', Readonly<Record<string, readonly string[] | true>>>
> = {
  BackendService: {
    backends: ['balancingMode', 'capacityScaler', 'group', 'maxRatePerEndpoint'],
    circuitBreakers: true,
    connectionDraining: ['drainingTimeoutSec'],
    consistentHash: ['httpCookie', 'httpHeaderName'],
    description: true,
    healthChecks: true,
    loadBalancingScheme: true,
    localityLbPolicy: true,
    outlierDetection: ['baseEjectionTime', 'consecutiveErrors', 'interval', 'maxEjectionPercent'],
    protocol: true,
    securitySettings: ['clientTlsPolicy', 'subjectAltNames'],
    sessionAffinity: true,
    timeoutSec: true,
  },
  HealthCheck: {
    checkIntervalSec: true,
    description: true,
    grpcHealthCheck: ['grpcServiceName', 'port'],
    healthyThreshold: true,
    http2HealthCheck: ['host', 'port', 'proxyHeader', 'requestPath'],
    httpHealthCheck: ['host', 'port', 'proxyHeader', 'requestPath'],
    tcpHealthCheck: ['port', 'proxyHeader'],
    timeoutSec: true,
    type: true,
    unhealthyThreshold: true,
  },
};

/** Output-only fields of networkservices/networksecurity resources. */
const SERVER_FIELDS = new Set(['name', 'createTime', 'updateTime', 'selfLink', 'etag', 'uid']);

/** Makes every Google resource URL in a value relative (`https://.../v1/projects/...` → `projects/...`). */
function relativize(value: Json): Json {
  if (typeof value === 'string') return value.startsWith('https://') ? relativeName(value) : value;
  if (Array.isArray(value)) return value.map(relativize);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativize(v)]));
  return value;
}

function pick(value: Json | undefined, keys: readonly string[] | true): Json | undefined {
  if (value === undefined || keys === true) return value;
  if (Array.isArray(value)) return value.map((item) => pick(item, keys) ?? {});
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const key of keys) if (value[key] !== undefined && value[key] !== null) out[key] = value[key] as Json;
  return out;
}

/** Projects a live resource onto the spec shape the renderer produces. */
export function projectLive(kind: TdKind, item: JsonObject): Json {
  if (kind === 'BackendService' || kind === 'HealthCheck') {
    const out: Record<string, Json> = {};
    for (const [field, keys] of Object.entries(COMPUTE_FIELDS[kind])) {
      const picked = pick(item[field], keys);
      if (picked !== undefined && picked !== null) out[field] = relativize(picked);
    }
    return sortKeys(out) ?? {};
  }
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(item))
    if (!SERVER_FIELDS.has(key) && !key.startsWith('@')) out[key] = relativize(value);
  return pruneDefaults(out) ?? {};
}

const KIND_BY_COLLECTION = new Map<string, TdKind>(
  TD_KINDS.map((kind) => [TD_COLLECTIONS[kind].collection, kind]),
);

/** `Kind/name` ids of the resources a live body references (orders deletes of orphans). */
function referencedIds(body: Json): string[] {
  const ids = new Set<string>();
  for (const match of JSON.stringify(body).matchAll(
    /projects\/[^/]+\/(?:locations\/[^/]+|global)\/([A-Za-z]+)\/([a-z0-9-]+)/g,
  )) {
    const kind = KIND_BY_COLLECTION.get(match[1] as string);
    if (kind !== undefined) ids.add(resourceId(kind, match[2] as string));
  }
  return [...ids].sort();
}

/** A long-running networkservices/networksecurity operation. */
interface LroOperation {
  readonly name?: string | null;
  readonly done?: boolean | null;
  readonly error?: { readonly code?: number | null; readonly message?: string | null } | null;
}

/** The methods crossmesh calls on one networkservices/networksecurity collection. */
interface CollectionApi {
  list(params: {
    parent: string;
    pageToken?: string;
  }): Promise<{ data: Record<string, unknown> & { nextPageToken?: string | null } }>;
  create(params: Record<string, unknown>): Promise<{ data: LroOperation }>;
  patch(params: {
    name: string;
    updateMask: string;
    requestBody: JsonObject;
  }): Promise<{ data: LroOperation }>;
  delete(params: { name: string }): Promise<{ data: LroOperation }>;
  get(params: { name: string }): Promise<{ data: Record<string, unknown> }>;
}

/** The methods crossmesh calls on compute backendServices / healthChecks. */
interface ComputeCollectionApi {
  list(params: {
    project: string;
    pageToken?: string;
    maxResults: number;
  }): Promise<{ data: { items?: unknown[]; nextPageToken?: string | null } }>;
  insert(params: {
    project: string;
    requestBody: JsonObject;
  }): Promise<{ data: compute_v1.Schema$Operation }>;
  update(params: Record<string, unknown>): Promise<{ data: compute_v1.Schema$Operation }>;
  delete(params: Record<string, unknown>): Promise<{ data: compute_v1.Schema$Operation }>;
  get(params: Record<string, unknown>): Promise<{ data: Record<string, unknown> }>;
}

/** Whether an error is a failed API call that ended with HTTP `status`. */
function failedWith(error: unknown, status: number): boolean {
  return error instanceof MeshError && error.code === 'TARGET_E_API' && error.value === status;
}

/** The `*Id` query parameter of a networkservices/networksecurity create, e.g. `serverTlsPolicyId`. */
function idParameter(kind: TdKind): string {
  return `${kind.charAt(0).toLowerCase()}${kind.slice(1)}Id`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Turns an API failure into a MeshError naming the resource and Google's message. */
function apiError(error: unknown, what: string): MeshError {
  if (error instanceof MeshError) return error;
  const status = errorStatus(error);
  const data = (error as { response?: { data?: { error?: { message?: string } } } }).response?.data;
  const message = data?.error?.message ?? (error instanceof Error ? error.message : String(error));
  // google-auth-library's message does not say what to do on a workstation or in CI.
  const hint = /default credentials/i.test(message)
    ? ' (Application Default Credentials: run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS, or pass --endpoint to use a stand-in)'
    : '';
  return new MeshError(
    'TARGET_E_API',
    `${what} failed${status === undefined ? '' : ` (HTTP ${status})`}: ${message}${hint}`,
    {
      path: what,
      value: status,
      cause: error,
    },
  );
}

/** Builds the provider. */
export function createTrafficDirectorProvider(options: TrafficDirectorProviderOptions): Provider {
  const { project, mesh } = options;
  const progress = options.progress ?? (() => {});
  const endpoint =
    options.endpoint === undefined
      ? undefined
      : options.endpoint.endsWith('/')
        ? options.endpoint
        : `${options.endpoint}/`;
  const auth =
    endpoint === undefined
      ? new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] })
      : new PassThroughClient();
  // One retry policy (withRetry) for every call: the client's own retries are switched off.
  // The cast: googleapis-common bundles its own google-auth-library copy, whose class types do
  // not unify with ours (private fields), though the objects are the same at runtime; and its
  // `auth` union omits PassThroughClient, which it accepts (PLATFORM.md: seen working here).
  const clientOptions = {
    auth,
    retry: false,
    ...(endpoint === undefined ? {} : { rootUrl: endpoint }),
  } as unknown as ConstructorParameters<typeof networkservices_v1.Networkservices>[0];
  const ns = new networkservices_v1.Networkservices(clientOptions);
  const sec = new networksecurity_v1.Networksecurity(clientOptions);
  const compute = new compute_v1.Compute(clientOptions);
  const timeoutMs = options.operationTimeoutMs ?? 600_000;
  const firstPollMs = options.pollIntervalMs ?? (endpoint === undefined ? 1000 : 10);
  const parent = `projects/${project}/locations/global`;

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await withRetry(fn, {
        ...options.retry,
        onRetry: (error, attempt, delayMs) => {
          progress(
            `retrying ${what} (attempt ${attempt + 1}, HTTP ${errorStatus(error) ?? '?'}) in ${delayMs} ms`,
          );
          options.retry?.onRetry?.(error, attempt, delayMs);
        },
      });
    } catch (error) {
      throw apiError(error, what);
    }
  };

  // The generated clients type each collection separately; crossmesh drives eleven of them with
  // the same five calls, so they are looked up by collection name through a narrow interface.
  const collectionApi = (kind: TdKind): CollectionApi => {
    const { api, collection } = TD_COLLECTIONS[kind];
    const locations = api === 'networksecurity' ? sec.projects.locations : ns.projects.locations;
    return (locations as unknown as Record<string, CollectionApi>)[collection] as CollectionApi;
  };
  const computeApi = (kind: TdKind): ComputeCollectionApi =>
    (compute as unknown as Record<string, ComputeCollectionApi>)[
      TD_COLLECTIONS[kind].collection
    ] as ComputeCollectionApi;

  const awaitLro = async (kind: TdKind, what: string, first: LroOperation): Promise<void> => {
    const { api } = TD_COLLECTIONS[kind];
    const operations = (api === 'networksecurity' ? sec : ns).projects.locations.operations;
    const started = Date.now();
    let op = first;
    let delay = firstPollMs;
    while (op.done !== true) {
      if (Date.now() - started > timeoutMs) {
        throw new MeshError(
          'TARGET_E_TIMEOUT',
          `${what}: operation ${op.name ?? '?'} not done after ${Math.round(timeoutMs / 1000)} s`,
          {
            path: what,
            value: op.name,
          },
        );
      }
      progress(`waiting for ${what} (operation ${op.name ?? '?'})`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
      const name = op.name ?? '';
      op = (await call(`${what}: poll ${name}`, () => operations.get({ name }))).data;
    }
    if (op.error !== undefined && op.error !== null) {
      throw new MeshError(
        'TARGET_E_API',
        `${what} failed: ${op.error.message ?? `code ${op.error.code ?? '?'}`}`,
        { path: what, value: op.error.code },
      );
    }
  };

  const awaitCompute = async (what: string, first: compute_v1.Schema$Operation): Promise<void> => {
    const started = Date.now();
    let op = first;
    let delay = firstPollMs;
    while (op.status !== 'DONE') {
      if (Date.now() - started > timeoutMs) {
        throw new MeshError(
          'TARGET_E_TIMEOUT',
          `${what}: operation ${op.name ?? '?'} not DONE after ${Math.round(timeoutMs / 1000)} s`,
          {
            path: what,
            value: op.name,
          },
        );
      }
      progress(`waiting for ${what} (operation ${op.name ?? '?'}, ${op.status ?? '?'})`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
      const operation = op.name ?? '';
      op = (
        await call(`${what}: poll ${operation}`, () => compute.globalOperations.get({ project, operation }))
      ).data;
    }
    const errors = op.error?.errors ?? [];
    if (errors.length > 0) {
      throw new MeshError(
        'TARGET_E_API',
        `${what} failed: ${errors.map((e) => e.message ?? e.code).join('; ')}`,
        { path: what },
      );
    }
  };

  const listKind = async (kind: TdKind): Promise<JsonObject[]> => {
    const items: JsonObject[] = [];
    let pageToken: string | undefined;
    do {
      const token = pageToken;
      if (TD_COLLECTIONS[kind].api === 'compute') {
        const { data } = await call(`list ${kind}`, () =>
          computeApi(kind).list({
            project,
            maxResults: 500,
            ...(token === undefined ? {} : { pageToken: token }),
          }),
        );
        items.push(...((data.items ?? []) as JsonObject[]));
        pageToken = data.nextPageToken ?? undefined;
      } else {
        const { data } = await call(`list ${kind}`, () =>
          collectionApi(kind).list({ parent, ...(token === undefined ? {} : { pageToken: token }) }),
        );
        items.push(...((data[TD_COLLECTIONS[kind].collection] ?? []) as JsonObject[]));
        pageToken = data.nextPageToken ?? undefined;
      }
    } while (pageToken !== undefined && pageToken !== '');
    return items;
  };

  const isManaged = (kind: TdKind, item: JsonObject): boolean =>
    TD_COLLECTIONS[kind].api === 'compute'
      ? hasMeshDescription(item.description as string | undefined, mesh)
      : hasMeshLabels(item.labels as Record<string, string> | undefined, mesh);

  /** One resource as the API returns it, or undefined when it does not exist. */
  const readLive = async (kind: TdKind, id: string): Promise<JsonObject | undefined> => {
    const what = `read ${resourceId(kind, id)}`;
    try {
      if (TD_COLLECTIONS[kind].api === 'compute') {
        const key = kind === 'BackendService' ? 'backendService' : 'healthCheck';
        return (await call(what, () => computeApi(kind).get({ project, [key]: id }))).data as JsonObject;
      }
      const name = ref.global(project, TD_COLLECTIONS[kind].collection, id);
      return (await call(what, () => collectionApi(kind).get({ name }))).data as JsonObject;
    } catch (error) {
      if (failedWith(error, 404)) return undefined;
      throw error;
    }
  };

  return {
    target: 'traffic-director',

    async list(desired) {
      const wanted = new Set(desired.map((d) => d.id));
      const live: LiveResource[] = [];
      // The eleven collections are independent: read them concurrently, use them in kind order.
      const pages = await Promise.all(TD_KINDS.map((kind) => listKind(kind)));
      for (const [index, kind] of TD_KINDS.entries()) {
        for (const item of pages[index] ?? []) {
          const name =
            relativeName(String(item.name ?? ''))
              .split('/')
              .pop() ?? '';
          const id = resourceId(kind, name);
          const compute = TD_COLLECTIONS[kind].api === 'compute';
          const managed = isManaged(kind, item);
          if (!managed && !wanted.has(id)) continue;
          const spec = projectLive(kind, item);
          live.push({
            kind,
            id,
            name,
            spec,
            managed,
            dependsOn: referencedIds(spec).filter((d) => d !== id),
            handle: compute
              ? { fingerprint: (item.fingerprint as string | undefined) ?? null }
              : { name: String(item.name) },
          });
        }
      }
      return live;
    },

    async create(resource: DesiredResource) {
      const kind = resource.kind as TdKind;
      const what = `create ${resource.id}`;
      const spec = resource.spec as JsonObject;
      try {
        if (TD_COLLECTIONS[kind].api === 'compute') {
          const { data } = await call(what, () =>
            computeApi(kind).insert({ project, requestBody: { ...spec, name: resource.name } }),
          );
          await awaitCompute(what, data);
          return;
        }
        const name = ref.global(project, TD_COLLECTIONS[kind].collection, resource.name);
        const { data } = await call(what, () =>
          collectionApi(kind).create({
            parent,
            [idParameter(kind)]: resource.name,
            requestBody: { ...spec, name },
          }),
        );
        await awaitLro(kind, what, data);
      } catch (error) {
        // 409 after a retry: an earlier attempt got through but its answer was lost. It is ours
        // only if it carries our markers; then there is nothing left to do for this step.
        if (!failedWith(error, 409)) throw error;
        const existing = await readLive(kind, resource.name);
        if (existing === undefined || !isManaged(kind, existing)) {
          throw new MeshError(
            'TARGET_E_NOT_MANAGED',
            `${resource.id} appeared during apply and is not managed by crossmesh for mesh ${JSON.stringify(mesh)}`,
            { path: resource.id, value: resource.name },
          );
        }
        progress(`${what}: already exists with crossmesh's markers (an earlier attempt got through)`);
      }
    },

    async update(resource: DesiredResource, live: LiveResource) {
      const kind = resource.kind as TdKind;
      const what = `update ${resource.id}`;
      const spec = resource.spec as JsonObject;
      if (TD_COLLECTIONS[kind].api === 'compute') {
        // PUT replaces the whole resource, so a field crossmesh stopped setting is cleared too.
        const handle = live.handle as { fingerprint?: string | null } | undefined;
        const key = kind === 'BackendService' ? 'backendService' : 'healthCheck';
        const requestBody: JsonObject = {
          ...spec,
          name: resource.name,
          ...(kind === 'BackendService' && handle?.fingerprint ? { fingerprint: handle.fingerprint } : {}),
        };
        let data: compute_v1.Schema$Operation;
        try {
          ({ data } = await call(what, () =>
            computeApi(kind).update({ project, [key]: resource.name, requestBody }),
          ));
        } catch (error) {
          // 412: the fingerprint moved (a retried PUT that got through, or a concurrent change):
          // read the current one and replace once more with the desired spec.
          if (!failedWith(error, 412)) throw error;
          const current = await readLive(kind, resource.name);
          progress(`${what}: fingerprint changed, retrying with the current one`);
          ({ data } = await call(what, () =>
            computeApi(kind).update({
              project,
              [key]: resource.name,
              requestBody: {
                ...requestBody,
                fingerprint: (current?.fingerprint as string | undefined) ?? null,
              },
            }),
          ));
        }
        await awaitCompute(what, data);
        return;
      }
      const name = ref.global(project, TD_COLLECTIONS[kind].collection, resource.name);
      const before = isObject(live.spec) ? Object.keys(live.spec) : [];
      // Every field either side sets: fields missing from the body are cleared.
      const updateMask = [...new Set([...Object.keys(spec), ...before])].sort().join(',');
      const { data } = await call(what, () =>
        collectionApi(kind).patch({ name, updateMask, requestBody: { ...spec, name } }),
      );
      await awaitLro(kind, what, data);
    },

    async delete(live: LiveResource) {
      const kind = live.kind as TdKind;
      const what = `delete ${live.id}`;
      if (!live.managed) {
        throw new MeshError(
          'TARGET_E_NOT_MANAGED',
          `${live.id} is not managed by crossmesh for mesh ${JSON.stringify(mesh)}; refusing to delete it`,
          {
            path: live.id,
          },
        );
      }
      try {
        if (TD_COLLECTIONS[kind].api === 'compute') {
          const key = kind === 'BackendService' ? 'backendService' : 'healthCheck';
          const { data } = await call(what, () => computeApi(kind).delete({ project, [key]: live.name }));
          await awaitCompute(what, data);
          return;
        }
        const name = ref.global(project, TD_COLLECTIONS[kind].collection, live.name);
        const { data } = await call(what, () => collectionApi(kind).delete({ name }));
        await awaitLro(kind, what, data);
      } catch (error) {
        // 404: already gone (a retried delete whose first attempt got through).
        if (!failedWith(error, 404)) throw error;
        progress(`${what}: already deleted`);
      }
    },
  };
}
