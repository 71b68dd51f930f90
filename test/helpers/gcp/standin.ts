/**
 * GCP stand-in: a node:http server on a free loopback port (port 0) serving the REST endpoints
 * crossmesh's Traffic Director adapter uses: networkservices v1 and networksecurity v1 (every
 * `projects.locations.*` collection with create/get/list/patch/delete, and their long-running
 * operations) and compute v1 global backendServices, healthChecks and globalOperations.
 *
 * What is stood in and why: there is no GCP project, network or credentials on these machines,
 * and no official emulator exists for these APIs. The REAL `googleapis` client talks to this
 * server through `rootUrl` (with google-auth-library's PassThroughClient, so no auth happens).
 *
 * Fidelity, checked against ../shared/api-models/google/:
 * - every request is validated against the discovery documents (networkservices-v1.json,
 *   networksecurity-v1.json) or, for compute, against a schema generated from googleapis' own
 *   compute v1 types (compute-schema.ts): unknown fields, JSON types, enums, durations, required
 *   fields, path parameter patterns, unknown or missing query parameters (`meshId`, `updateMask`);
 * - answers take the shapes of the recorded exchanges in recorded/: networkservices and
 *   networksecurity creates/patches/deletes return `projects/P/locations/global/operations/...`
 *   operations polled with operations.get until `done`, whose `response` carries the resource
 *   with `@type`; compute mutations return `compute#operation` RUNNING, polled (or waited) until
 *   DONE; errors use `{error: {code, message, status, details}}` (compute: `{error: {code,
 *   message, errors: [{domain, reason, message}]}}`), 404 NOT_FOUND and 409 ALREADY_EXISTS;
 * - proto3 semantics: default values are not echoed and durations come back canonical
 *   (`0.25s` → `0.250s`); compute fills its server defaults (sessionAffinity NONE,
 *   connectionDraining, port 80, fingerprint...) and returns references as full
 *   `https://www.googleapis.com/compute/v1/...` URLs; BackendService updates need the current
 *   fingerprint (412 conditionNotMet otherwise);
 * - references must exist (404) and a referenced resource cannot be deleted (400 in use), so
 *   dependency order is enforced as the real APIs do; a zonal NEG backend needs a health check;
 * - as the recordings show: `name` in a body is ignored (the URL names the resource), system
 *   parameters may be `$`-prefixed, `enum-encoding=int` sends and answers enums by number, a
 *   delete takes effect when its operation completes (until then the resource still holds its
 *   references), and a boolean whose default is true keeps an explicit false;
 * - operations complete when polled (`pendingPolls`) or when the next write to the same resource
 *   arrives (time has passed: a client retrying after a lost answer).
 * test/adapters/traffic-director/recorded.test.ts replays 11 recorded logs and the recorded gRPC
 * route cassette against it.
 * Fault injection: fail chosen mutating calls with 429/503, or every mutating call after N (an
 * apply cut off mid-way). Every call is counted.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildComputeSchemas } from './compute-schema.js';
import {
  type DiscoveryDocument,
  type DiscoveryMethod,
  type DiscoverySchema,
  enumsAsNumbers,
  isRequired,
  loadDiscovery,
  methodsOf,
  normalizeProto3,
  type Violation,
  validateValue,
} from './discovery.js';

type JsonRecord = Record<string, unknown>;

/** One request the stand-in answered. */
export interface CallRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** True for creates, patches, updates and deletes (not reads or operation polls). */
  readonly mutating: boolean;
}

/** Options of {@link GcpStandin.start}. */
export interface StandinOptions {
  /** How many operation polls return `done: false` / RUNNING before the operation completes. @default 1 */
  readonly pendingPolls?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: JsonRecord,
  ) {
    super(JSON.stringify(body));
  }
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};

/** A Google (one-platform) error: `{error: {code, message, status, details}}`. */
function googleError(status: number, message: string, violations: readonly Violation[] = []): HttpError {
  return new HttpError(status, {
    error: {
      code: status,
      message,
      status: STATUS_NAMES[status] ?? 'UNKNOWN',
      ...(violations.length === 0
        ? {}
        : {
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.BadRequest',
                fieldViolations: violations.map((v) => ({ field: v.field, description: v.description })),
              },
            ],
          }),
    },
  });
}

/** A compute error: `{error: {code, message, errors: [{domain, reason, message}]}}`. */
function computeError(status: number, reason: string, message: string): HttpError {
  return new HttpError(status, {
    error: { code: status, message, errors: [{ domain: 'global', reason, message }] },
  });
}

const STANDARD_QUERY = new Set([
  '$.xgafv',
  'access_token',
  'alt',
  'callback',
  'fields',
  'key',
  'oauth_token',
  'prettyPrint',
  'quotaUser',
  'uploadType',
  'upload_protocol',
  'userIp',
]);

const ID_RE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const REFERENCE_RE = /projects\/[^/]+\/(?:locations\/[^/]+|global)\/[A-Za-z]+\/[^/"]+/g;

interface Route {
  readonly doc: DiscoveryDocument;
  readonly method: DiscoveryMethod;
  readonly regex: RegExp;
}

interface StoredResource {
  readonly api: string;
  readonly collection: string;
  readonly schema: string;
  body: JsonRecord;
  readonly createTime: string;
  updateTime: string;
}

interface StoredOperation {
  readonly body: JsonRecord;
  polls: number;
  readonly compute: boolean;
  /** The resource it works on. */
  readonly target: string;
  /** What happens when it completes (a delete removes its resource then); run once. */
  effect?: () => void;
}

interface Fault {
  /** Mutating calls still to pass before this fault fires. */
  skip: number;
  /** How many calls it fails. `Infinity` for a stop. */
  remaining: number;
  readonly status: number;
  /** `before`: fail the call; `lost`: perform it, then answer with the error; `operation`: accept it, then fail its operation. */
  readonly mode: 'before' | 'lost' | 'operation';
}

const COMPUTE_COLLECTIONS: Readonly<
  Record<string, { readonly schema: string; readonly kind: string; readonly label: string }>
> = {
  backendServices: { schema: 'BackendService', kind: 'compute#backendService', label: 'backend_service' },
  healthChecks: { schema: 'HealthCheck', kind: 'compute#healthCheck', label: 'health_check' },
};

const COMPUTE_BASE = 'https://www.googleapis.com/compute/v1/';

let cachedSchemas:
  | { readonly routes: readonly Route[]; readonly compute: Readonly<Record<string, DiscoverySchema>> }
  | undefined;

/** The discovery routes and the compute schema, loaded once per process (read-only data). */
function loadSchemas(): NonNullable<typeof cachedSchemas> {
  if (cachedSchemas !== undefined) return cachedSchemas;
  const routes: Route[] = [];
  for (const file of ['networkservices-v1.json', 'networksecurity-v1.json']) {
    const doc = loadDiscovery(file);
    for (const method of methodsOf(doc)) {
      const pattern = method.flatPath
        .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\\?\{[^}]+\\?\}/g, '([^/:]+)');
      routes.push({ doc, method, regex: new RegExp(`^/${pattern}$`) });
    }
  }
  cachedSchemas = { routes, compute: buildComputeSchemas(['BackendService', 'HealthCheck']).schemas };
  return cachedSchemas;
}

/** The GCP stand-in server. */
export class GcpStandin {
  /** Every call answered, in order. */
  readonly calls: CallRecord[] = [];
  private readonly server: Server;
  private readonly routes: Route[] = [];
  private readonly resources = new Map<string, StoredResource>();
  private readonly operations = new Map<string, StoredOperation>();
  private readonly faults: Fault[] = [];
  private readonly computeSchemas: Readonly<Record<string, DiscoverySchema>>;
  private readonly pendingPolls: number;
  private sequence = 0;
  private clock = Date.parse('2026-11-25T12:00:00.000Z');
  private port = 0;

  private constructor(options: StandinOptions) {
    this.pendingPolls = options.pendingPolls ?? 1;
    const schemas = loadSchemas();
    this.routes.push(...schemas.routes);
    this.computeSchemas = schemas.compute;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.send(req, res, 500, { error: { code: 500, message: String(error), status: 'INTERNAL' } }, false);
      });
    });
  }

  /** Starts a stand-in on a free loopback port. */
  static async start(options: StandinOptions = {}): Promise<GcpStandin> {
    const standin = new GcpStandin(options);
    await new Promise<void>((resolve) => standin.server.listen(0, '127.0.0.1', resolve));
    standin.port = (standin.server.address() as AddressInfo).port;
    return standin;
  }

  /** The root URL to hand to googleapis (`rootUrl`), with a trailing slash. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Number of mutating calls answered (including failed ones). */
  get mutatingCalls(): number {
    return this.calls.filter((c) => c.mutating).length;
  }

  /** Fails the `nth` (1-based) next mutating call with `status`, `times` times in a row. */
  failMutation(nth: number, status: 429 | 500 | 503, times = 1): void {
    this.faults.push({ skip: nth - 1, remaining: times, status, mode: 'before' });
  }

  /** Performs the `nth` (1-based) next mutating call but answers 503, as if the response were lost. */
  loseResponse(nth: number): void {
    this.faults.push({ skip: nth - 1, remaining: 1, status: 503, mode: 'lost' });
  }

  /**
   * Accepts the `nth` (1-based) next mutating call, then ends its long-running operation with an
   * error (`FAILED_PRECONDITION`); the resource is left as it was before the call.
   */
  failOperation(nth: number): void {
    this.faults.push({ skip: nth - 1, remaining: 1, status: 200, mode: 'operation' });
  }

  /** Lets `after` more mutating calls through, then fails every one with 503 until {@link heal}. */
  stopAfter(after: number): void {
    this.faults.push({ skip: after, remaining: Number.POSITIVE_INFINITY, status: 503, mode: 'before' });
  }

  /** Removes every injected fault. */
  heal(): void {
    this.faults.length = 0;
  }

  /** Forgets the call log. */
  resetCalls(): void {
    this.calls.length = 0;
  }

  /** Every stored resource as the API would return it, by relative name, sorted. */
  snapshot(): Map<string, JsonRecord> {
    return new Map([...this.resources.keys()].sort().map((name) => [name, this.present(name)]));
  }

  /**
   * Seeds a resource directly (e.g. one crossmesh does not manage). `name` is the relative name
   * (`projects/p/locations/global/meshes/x` or `projects/p/global/backendServices/x`).
   */
  seed(name: string, body: JsonRecord): void {
    const segments = name.split('/');
    const collection = segments[segments.length - 2] as string;
    const compute = COMPUTE_COLLECTIONS[collection];
    const creator = this.routes.find(
      (r) => r.method.id.endsWith('.create') && r.method.flatPath.endsWith(`/${collection}`),
    );
    if (compute === undefined && creator === undefined)
      throw new Error(`the stand-in does not serve ${collection}`);
    const now = this.now();
    this.resources.set(name, {
      api: compute === undefined ? (creator as Route).doc.name : 'compute',
      collection,
      schema: compute?.schema ?? (creator as Route).method.request?.$ref ?? '',
      body: compute === undefined ? body : this.computeDefaults(name, collection, body),
      createTime: now,
      updateTime: now,
    });
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((e) => (e === undefined ? resolve() : reject(e))),
    );
  }

  // -------------------------------------------------------------------------------------------

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace('Z', '000Z');
  }

  private nextId(): string {
    this.sequence += 1;
    return String(this.sequence).padStart(6, '0');
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    mutating: boolean,
  ): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    this.calls.push({ method: req.method ?? 'GET', path: url.pathname, status, mutating });
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw googleError(400, `Invalid JSON payload received. Unexpected token.\n${text.slice(0, 40)}`);
    }
  }

  /** Consumes the fault schedule for one mutating call; returns the fault that fires, if any. */
  private injectedFault(): Fault | undefined {
    let fired: Fault | undefined;
    for (const fault of this.faults) {
      if (fault.skip > 0) {
        fault.skip -= 1;
      } else if (fault.remaining > 0 && fired === undefined) {
        fault.remaining -= 1;
        fired = fault;
      }
    }
    return fired;
  }

  private faultError(status: number): HttpError {
    return status === 429
      ? new HttpError(429, {
          error: {
            code: 429,
            message: "Quota exceeded for quota metric 'Mutate requests' (injected by the stand-in).",
            status: 'RESOURCE_EXHAUSTED',
          },
        })
      : googleError(status, 'The service is currently unavailable (injected by the stand-in).');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const isOperationCall = url.pathname.includes('/operations/');
    const mutating = method !== 'GET' && !isOperationCall;
    try {
      const body = await this.readBody(req);
      const fault = mutating ? this.injectedFault() : undefined;
      if (fault?.mode === 'before') throw this.faultError(fault.status);
      const before = fault?.mode === 'operation' ? new Map(this.resources) : undefined;
      const result = url.pathname.startsWith('/compute/v1/')
        ? this.handleCompute(method, url, body)
        : this.handleDiscovery(method, url, body);
      if (fault?.mode === 'lost') throw this.faultError(fault.status);
      const answer = before === undefined ? result : this.failOperationOf(result as JsonRecord, before);
      this.send(req, res, 200, answer, mutating);
    } catch (error) {
      if (error instanceof HttpError) this.send(req, res, error.status, error.body, mutating);
      else throw error;
    }
  }

  // ---------------------------------------------------------------- networkservices / security

  private handleDiscovery(httpMethod: string, url: URL, body: unknown): unknown {
    const route = this.routes.find((r) => r.method.httpMethod === httpMethod && r.regex.test(url.pathname));
    if (route === undefined) throw googleError(404, `Method not found: ${httpMethod} ${url.pathname}`);
    const { doc, method } = route;
    const params = method.parameters ?? {};
    const violations: Violation[] = [];
    for (const key of url.searchParams.keys()) {
      // System parameters also come `$`-prefixed (`$alt=json;enum-encoding=int`, seen in recordings).
      const system = STANDARD_QUERY.has(key) || STANDARD_QUERY.has(key.replace(/^\$/, ''));
      if (!system && params[key]?.location !== 'query') {
        violations.push({
          field: key,
          description: `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter.`,
        });
      }
    }
    for (const [key, p] of Object.entries(params)) {
      if (
        p.location === 'query' &&
        isRequired({ description: (p as { description?: string }).description ?? '' })
      ) {
        if (!url.searchParams.has(key) || url.searchParams.get(key) === '') {
          violations.push({ field: key, description: `Field '${key}' is required.` });
        }
      }
    }
    const relative = decodeURIComponent(url.pathname.replace(/^\/v1\//, ''));
    const verb = method.id.split('.').pop() as string;
    // create and list address the parent (`projects/p/locations/l`); the others the resource.
    const pathValue = verb === 'create' || verb === 'list' ? relative.replace(/\/[A-Za-z]+$/, '') : relative;
    for (const [key, p] of Object.entries(params)) {
      if (p.location === 'path' && p.pattern !== undefined && !new RegExp(p.pattern).test(pathValue)) {
        violations.push({
          field: key,
          description: `${key} ${JSON.stringify(pathValue)} does not match ${p.pattern}`,
        });
      }
    }
    if (violations.length > 0)
      throw googleError(400, violations[0]?.description ?? 'Invalid argument', violations);

    const schemaName = method.request?.$ref;
    // `alt=json;enum-encoding=int` (also as `$alt`): enums travel as numbers in the answer too.
    const alt = url.searchParams.get('$alt') ?? url.searchParams.get('alt') ?? '';
    const ints = (value: JsonRecord, schema: string): JsonRecord =>
      alt.includes('enum-encoding=int')
        ? (enumsAsNumbers(doc.schemas, { $ref: schema }, value) as JsonRecord)
        : value;
    if (method.id.endsWith('operations.get')) {
      const op = this.pollOperation(relative, false);
      const response = op.response as JsonRecord | undefined;
      const type =
        typeof response?.['@type'] === 'string' ? (response['@type'] as string).split('.').pop() : undefined;
      return response === undefined || type === undefined || doc.schemas[type] === undefined
        ? op
        : { ...op, response: { ...ints(response, type), '@type': response['@type'] } };
    }
    switch (verb) {
      case 'create':
        return this.discoveryCreate(doc, method, relative, url, body, schemaName as string);
      case 'get': {
        const name = this.mustExist(relative);
        return ints(this.present(name), (this.resources.get(name) as StoredResource).schema);
      }
      case 'list':
        return this.discoveryList(doc, method, relative, url);
      case 'patch':
        return this.discoveryPatch(doc, relative, url, body, schemaName as string);
      case 'delete':
        return this.discoveryDelete(doc, relative);
      default:
        throw googleError(501, `${method.id} is not implemented by the stand-in`);
    }
  }

  private mustExist(name: string): string {
    if (!this.resources.has(name)) {
      if (name.includes('/global/') && !name.includes('/locations/')) {
        throw computeError(404, 'notFound', `The resource '${name}' was not found`);
      }
      throw googleError(404, `Resource '${name}' was not found`);
    }
    return name;
  }

  private validateBody(
    doc: DiscoveryDocument,
    schemaName: string,
    body: unknown,
    required: boolean,
  ): JsonRecord {
    if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw googleError(400, 'Invalid JSON payload received: expected an object body.');
    }
    // The resource name comes from the URL: the servers ignore `name` in the body (recordings show
    // a PATCH without it and a create with `projects/*/...` both succeeding), so it is never required.
    const violations = validateValue(doc.schemas, { $ref: schemaName }, body, '', { required }).filter(
      (v) => v.field !== 'name',
    );
    if (violations.length > 0)
      throw googleError(400, violations[0]?.description ?? 'Invalid argument', violations);
    return body as JsonRecord;
  }

  /**
   * Route hostnames, as their descriptions define them: RFC 1123 names in lowercase, optionally
   * behind one leading `*.` label, no IPs; GrpcRoute ones may end in `:port`, HttpRoute ones may not.
   * The bare `*` (any host) is accepted: crossmesh gateways use it, and no source here says the
   * servers refuse it (an assumption, called out in docs/targets/traffic-director-notes.md).
   */
  private checkHostnames(schemaName: string, body: JsonRecord): void {
    if (schemaName !== 'HttpRoute' && schemaName !== 'GrpcRoute') return;
    const label = '[a-z0-9]([a-z0-9-]*[a-z0-9])?';
    const port = schemaName === 'GrpcRoute' ? '(:[0-9]{1,5})?' : '';
    const valid = new RegExp(`^(\\*\\.)?${label}(\\.${label})*${port}$`);
    const violations: Violation[] = [];
    for (const [i, hostname] of (Array.isArray(body.hostnames) ? body.hostnames : []).entries()) {
      const text = String(hostname);
      const ip = /^[0-9.]+(:[0-9]+)?$/.test(text) || text.includes('[');
      if (text !== '*' && (ip || !valid.test(text))) {
        violations.push({
          field: `hostnames[${i}]`,
          description: `Invalid hostname ${JSON.stringify(text)} for a ${schemaName}`,
        });
      }
    }
    if (violations.length > 0)
      throw googleError(400, violations[0]?.description ?? 'Invalid hostname', violations);
  }

  private checkReferences(owner: string, body: JsonRecord): void {
    // `name` names the resource itself (and is ignored by the servers), not a reference.
    const { name: _self, ...references } = body;
    for (const match of JSON.stringify(references).matchAll(REFERENCE_RE)) {
      const target = match[0];
      const collection = target.split('/').slice(-2)[0] as string;
      const served =
        this.routes.some((r) => r.method.flatPath.endsWith(`/${collection}`)) ||
        COMPUTE_COLLECTIONS[collection] !== undefined;
      if (served && target !== owner && !this.resources.has(target)) {
        if (COMPUTE_COLLECTIONS[owner.split('/').slice(-2)[0] as string] !== undefined) {
          throw computeError(404, 'notFound', `The resource '${target}' was not found`);
        }
        throw googleError(404, `Resource '${target}' referenced by '${owner}' was not found`);
      }
    }
  }

  private userOf(name: string): string | undefined {
    for (const [other, stored] of this.resources) {
      if (other === name) continue;
      const text = JSON.stringify(stored.body);
      for (const match of text.matchAll(REFERENCE_RE)) if (match[0] === name) return other;
    }
    return undefined;
  }

  private operation(
    doc: DiscoveryDocument,
    target: string,
    verb: string,
    response: JsonRecord | undefined,
    effect?: () => void,
  ): JsonRecord {
    const api = doc.name;
    const name = `${target.split('/').slice(0, 4).join('/')}/operations/operation-${this.nextId()}`;
    const metadata = {
      '@type': `type.googleapis.com/google.cloud.${api}.v1.OperationMetadata`,
      apiVersion: 'v1',
      createTime: this.now(),
      requestedCancellation: null,
      target,
      verb,
    };
    const done = this.pendingPolls === 0;
    const finished = {
      name,
      done: true,
      metadata: { ...metadata, endTime: this.now() },
      response: response ?? { '@type': 'type.googleapis.com/google.protobuf.Empty' },
    };
    const op: StoredOperation = {
      body: finished,
      polls: 0,
      compute: false,
      target,
      ...(effect === undefined ? {} : { effect }),
    };
    this.operations.set(name, op);
    if (done) this.complete(op);
    return done ? finished : { name, done: false, metadata };
  }

  /** Turns the operation just answered into a failed one that restores the resource on completion. */
  private failOperationOf(answer: JsonRecord, before: ReadonlyMap<string, StoredResource>): JsonRecord {
    const entry = [...this.operations.entries()].find(([, op]) => op.body.name === answer.name);
    if (entry === undefined) return answer;
    const [key, op] = entry;
    const message = `Operation on '${op.target}' failed (injected by the stand-in).`;
    const body: JsonRecord = op.compute
      ? { ...op.body, error: { errors: [{ code: 'CONDITION_NOT_MET', message }] } }
      : { name: op.body.name, done: true, metadata: op.body.metadata, error: { code: 9, message } };
    const restore = () => {
      const previous = before.get(op.target);
      if (previous === undefined) this.resources.delete(op.target);
      else this.resources.set(op.target, previous);
    };
    const failed: StoredOperation = {
      body,
      polls: op.polls,
      compute: op.compute,
      target: op.target,
      effect: restore,
    };
    this.operations.set(key, failed);
    if (this.pendingPolls > 0) return answer;
    // Already finished in the first answer: it carries the failure.
    this.complete(failed);
    return body;
  }

  /** Runs an operation's effect, once. */
  private complete(op: StoredOperation): void {
    const effect = op.effect;
    op.effect = undefined;
    effect?.();
  }

  /**
   * Completes the pending operations on `name` before another write to it. A real operation
   * finishes on its own; here it finishes when polled, or when the next write to the same
   * resource shows that time has passed (a client that lost the answer and retries).
   */
  private settle(name: string): void {
    for (const op of this.operations.values()) if (op.target === name) this.complete(op);
  }

  private pollOperation(name: string, wait: boolean): JsonRecord {
    const op = this.operations.get(name);
    if (op === undefined) {
      if (name.includes('/global/') && !name.includes('/locations/')) {
        throw computeError(404, 'notFound', `The resource '${name}' was not found`);
      }
      throw googleError(404, `Operation '${name}' was not found`);
    }
    op.polls += 1;
    if (wait || op.polls >= this.pendingPolls) {
      this.complete(op);
      return op.body;
    }
    return op.compute
      ? { ...op.body, status: 'RUNNING', progress: 0, endTime: undefined }
      : { name: op.body.name, done: false, metadata: op.body.metadata };
  }

  private schemaOf(doc: DiscoveryDocument, schemaName: string): DiscoverySchema {
    return doc.schemas[schemaName] ?? {};
  }

  private discoveryCreate(
    doc: DiscoveryDocument,
    method: DiscoveryMethod,
    parent: string,
    url: URL,
    body: unknown,
    schemaName: string,
  ): JsonRecord {
    const collection = parent.split('/').pop() as string;
    const idParam = Object.entries(method.parameters ?? {}).find(
      ([k, p]) => p.location === 'query' && k.endsWith('Id'),
    )?.[0];
    const id = idParam === undefined ? undefined : url.searchParams.get(idParam);
    if (id === undefined || id === null || !ID_RE.test(id)) {
      throw googleError(
        400,
        `${idParam ?? 'id'} must be 1-63 characters of lowercase letters, digits or hyphens, starting with a letter, got ${JSON.stringify(id)}`,
        [{ field: idParam ?? 'id', description: 'invalid resource id' }],
      );
    }
    const validated = this.validateBody(doc, schemaName, body, true);
    const name = `${parent}/${id}`;
    this.settle(name);
    if (this.resources.has(name)) throw googleError(409, `Resource '${name}' already exists`);
    this.checkHostnames(schemaName, validated);
    this.checkReferences(name, validated);
    const now = this.now();
    const stored: StoredResource = {
      api: doc.name,
      collection,
      schema: schemaName,
      body: (normalizeProto3(doc.schemas, this.schemaOf(doc, schemaName), validated) ?? {}) as JsonRecord,
      createTime: now,
      updateTime: now,
    };
    this.resources.set(name, stored);
    return this.operation(doc, name, 'create', {
      '@type': `type.googleapis.com/google.cloud.${doc.name}.v1.${schemaName}`,
      ...this.present(name),
    });
  }

  private discoveryList(
    doc: DiscoveryDocument,
    method: DiscoveryMethod,
    parent: string,
    url: URL,
  ): JsonRecord {
    const responseSchema = doc.schemas[method.response?.$ref ?? ''];
    const key = Object.entries(responseSchema?.properties ?? {}).find(
      ([, p]) => p.type === 'array' && p.items?.$ref !== undefined,
    )?.[0];
    const pageSize = Number(url.searchParams.get('pageSize') ?? '0') || 50;
    const start = Number(url.searchParams.get('pageToken') ?? '0') || 0;
    const names = [...this.resources.keys()]
      .filter((n) => n.startsWith(`${parent}/`) && n.split('/').length === parent.split('/').length + 1)
      .sort();
    const page = names.slice(start, start + pageSize).map((n) => this.present(n));
    return {
      ...(page.length === 0 || key === undefined ? {} : { [key]: page }),
      ...(start + pageSize < names.length ? { nextPageToken: String(start + pageSize) } : {}),
    };
  }

  private discoveryPatch(
    doc: DiscoveryDocument,
    name: string,
    url: URL,
    body: unknown,
    schemaName: string,
  ): JsonRecord {
    this.settle(name);
    const stored = this.resources.get(this.mustExist(name)) as StoredResource;
    const schema = this.schemaOf(doc, schemaName);
    const mask = url.searchParams.get('updateMask');
    const validated = this.validateBody(doc, schemaName, body, mask === null);
    const fields =
      mask === null
        ? Object.keys(schema.properties ?? {}).filter(
            (k) => schema.properties?.[k]?.readOnly !== true && k !== 'name',
          )
        : mask.split(',');
    const unknown = fields.filter((f) => schema.properties?.[f.split('.')[0] as string] === undefined);
    if (unknown.length > 0) {
      throw googleError(
        400,
        `Invalid update mask: unknown field(s) ${unknown.join(', ')}`,
        unknown.map((f) => ({ field: 'update_mask', description: `unknown field ${f}` })),
      );
    }
    const next: JsonRecord = { ...stored.body };
    for (const field of fields) {
      const top = field.split('.')[0] as string;
      if (schema.properties?.[top]?.readOnly === true || top === 'name') continue;
      if (validated[top] === undefined) delete next[top];
      else next[top] = validated[top];
      if (
        top === 'type' &&
        /^Immutable\./.test(schema.properties?.[top]?.description ?? '') &&
        stored.body.type !== validated.type
      ) {
        throw googleError(400, `Field 'type' is immutable`);
      }
    }
    const violations = validateValue(doc.schemas, { $ref: schemaName }, next, '', { required: true }).filter(
      (v) => v.field !== 'name',
    );
    if (violations.length > 0)
      throw googleError(400, violations[0]?.description ?? 'Invalid argument', violations);
    this.checkHostnames(schemaName, next);
    this.checkReferences(name, next);
    stored.body = (normalizeProto3(doc.schemas, schema, next) ?? {}) as JsonRecord;
    stored.updateTime = this.now();
    return this.operation(doc, name, 'update', {
      '@type': `type.googleapis.com/google.cloud.${doc.name}.v1.${schemaName}`,
      ...this.present(name),
    });
  }

  private discoveryDelete(doc: DiscoveryDocument, name: string): JsonRecord {
    this.settle(name);
    this.mustExist(name);
    const user = this.userOf(name);
    if (user !== undefined) throw googleError(400, `Resource '${name}' is in use by '${user}'`);
    // The resource goes when the operation completes (the recorded grpcRoute session shows a
    // mesh still in use, and still readable, until its route's delete operation is done).
    return this.operation(doc, name, 'delete', undefined, () => this.resources.delete(name));
  }

  /** A stored resource as GET returns it. */
  private present(name: string): JsonRecord {
    const stored = this.resources.get(name) as StoredResource;
    if (stored.api === 'compute') return { ...stored.body };
    const doc = this.routes.find((r) => r.doc.name === stored.api)?.doc;
    const hasSelfLink = doc?.schemas[stored.schema]?.properties?.selfLink !== undefined;
    return {
      ...stored.body,
      name,
      createTime: stored.createTime,
      updateTime: stored.updateTime,
      ...(hasSelfLink ? { selfLink: `https://${stored.api}.googleapis.com/v1/${name}` } : {}),
    };
  }

  // ---------------------------------------------------------------------------------- compute

  private handleCompute(httpMethod: string, url: URL, body: unknown): unknown {
    const parts = url.pathname.replace(/^\/compute\/v1\//, '').split('/');
    // projects/{project}/global/{collection}[/{name}[/wait]]
    if (parts[0] !== 'projects' || parts[2] !== 'global' || parts.length < 4) {
      throw computeError(404, 'notFound', `The requested URL ${url.pathname} was not found on this stand-in`);
    }
    const project = parts[1] as string;
    const collection = parts[3] as string;
    const id = parts[4];
    const allowed = new Set([...STANDARD_QUERY, 'requestId']);
    if (id === undefined && httpMethod === 'GET')
      for (const k of ['filter', 'maxResults', 'orderBy', 'pageToken', 'returnPartialSuccess'])
        allowed.add(k);
    for (const key of url.searchParams.keys()) {
      if (!allowed.has(key))
        throw computeError(
          400,
          'invalidParameter',
          `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter.`,
        );
    }
    if (collection === 'operations' && id !== undefined) {
      const name = `projects/${project}/global/operations/${id}`;
      if (httpMethod === 'GET' && parts.length === 5) return this.pollOperation(name, false);
      if (httpMethod === 'POST' && parts[5] === 'wait') return this.pollOperation(name, true);
    }
    const info = COMPUTE_COLLECTIONS[collection];
    if (info === undefined || parts.length > 5)
      throw computeError(404, 'notFound', `The requested URL ${url.pathname} was not found on this stand-in`);
    const base = `projects/${project}/global/${collection}`;
    if (id === undefined) {
      if (httpMethod === 'GET') return this.computeList(base, collection, url);
      if (httpMethod === 'POST') return this.computeInsert(base, collection, body);
    } else {
      const name = `${base}/${id}`;
      switch (httpMethod) {
        case 'GET':
          return this.present(this.mustExist(name));
        case 'PUT':
          return this.computeWrite(name, collection, body, 'update');
        case 'PATCH':
          return this.computeWrite(name, collection, body, 'patch');
        case 'DELETE': {
          this.settle(name);
          this.mustExist(name);
          const user = this.userOf(name);
          if (user !== undefined) {
            throw computeError(
              400,
              'resourceInUseByAnotherResource',
              `The ${info.label} resource '${name}' is already being used by '${user}'`,
            );
          }
          return this.computeOperation(name, 'delete', () => this.resources.delete(name));
        }
      }
    }
    throw computeError(405, 'httpMethodNotAllowed', `${httpMethod} is not allowed on ${url.pathname}`);
  }

  private validateCompute(collection: string, body: unknown): JsonRecord {
    const schema = (COMPUTE_COLLECTIONS[collection] as { schema: string }).schema;
    if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw computeError(400, 'required', "Required field 'resource' not specified");
    }
    const violations = validateValue(this.computeSchemas, { $ref: schema }, body, 'resource', {
      required: false,
    });
    if (violations.length > 0)
      throw computeError(400, 'invalid', violations[0]?.description ?? 'Invalid value');
    const record = body as JsonRecord;
    if (typeof record.name !== 'string' || !ID_RE.test(record.name)) {
      throw computeError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': ${JSON.stringify(record.name)}. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
      );
    }
    if (collection === 'backendServices') {
      const zonal = (Array.isArray(record.backends) ? record.backends : []).some((b) =>
        /\/zones\/[^/]+\/(networkEndpointGroups|instanceGroups)\//.test(
          String((b as JsonRecord).group ?? ''),
        ),
      );
      if (zonal && (!Array.isArray(record.healthChecks) || record.healthChecks.length === 0)) {
        // The rule as compute v1 documents it on BackendService.healthChecks.
        throw computeError(
          400,
          'invalid',
          "Invalid value for field 'resource.healthChecks': ''. Backend services with instance group or zonal NEG backends must have a health check.",
        );
      }
    }
    if (collection === 'healthChecks') {
      const type = String(record.type ?? '');
      const specific = [
        'httpHealthCheck',
        'httpsHealthCheck',
        'http2HealthCheck',
        'grpcHealthCheck',
        'tcpHealthCheck',
        'sslHealthCheck',
      ].filter((k) => record[k] !== undefined);
      const expected = `${type.toLowerCase().replace('http2', 'http2')}HealthCheck`;
      if (specific.length !== 1 || specific[0]?.toLowerCase() !== expected.toLowerCase()) {
        throw computeError(
          400,
          'invalid',
          `Invalid value for field 'resource.type': '${type}'. Exactly one protocol-specific health check matching the type must be set.`,
        );
      }
      if (
        typeof record.timeoutSec === 'number' &&
        typeof record.checkIntervalSec === 'number' &&
        record.timeoutSec > record.checkIntervalSec
      ) {
        throw computeError(
          400,
          'invalid',
          `Invalid value for field 'resource.timeoutSec': ${record.timeoutSec}. TimeoutSec should be less than checkIntervalSec.`,
        );
      }
    }
    return record;
  }

  /** Server-side defaults and output-only fields of a stored compute resource. */
  private computeDefaults(name: string, collection: string, input: JsonRecord): JsonRecord {
    const info = COMPUTE_COLLECTIONS[collection] as { kind: string };
    const absolute = (ref: unknown) =>
      typeof ref === 'string' && ref.startsWith('projects/') && !ref.includes('/locations/')
        ? `${COMPUTE_BASE}${ref}`
        : ref;
    const body: JsonRecord = { ...input };
    for (const key of ['id', 'kind', 'selfLink', 'creationTimestamp', 'fingerprint']) delete body[key];
    const out: JsonRecord = {
      ...body,
      kind: info.kind,
      id: String(1_000_000_000 + this.sequence++),
      selfLink: `${COMPUTE_BASE}${name}`,
      creationTimestamp: this.now(),
      description: body.description ?? '',
    };
    if (collection === 'backendServices') {
      out.fingerprint = randomBytes(8).toString('base64');
      out.affinityCookieTtlSec = body.affinityCookieTtlSec ?? 0;
      out.sessionAffinity = body.sessionAffinity ?? 'NONE';
      out.connectionDraining = body.connectionDraining ?? { drainingTimeoutSec: 0 };
      out.port = body.port ?? 80;
      out.portName = body.portName ?? 'http';
      out.timeoutSec = body.timeoutSec ?? 30;
      out.loadBalancingScheme = body.loadBalancingScheme ?? 'EXTERNAL';
      out.protocol = body.protocol ?? 'HTTP';
      if (Array.isArray(body.healthChecks)) out.healthChecks = body.healthChecks.map(absolute);
      if (Array.isArray(body.backends)) {
        out.backends = body.backends.map((b) => {
          const backend = b as JsonRecord;
          return { capacityScaler: 1, ...backend, group: absolute(backend.group) };
        });
      }
    } else {
      for (const key of ['httpHealthCheck', 'http2HealthCheck', 'tcpHealthCheck']) {
        const check = body[key] as JsonRecord | undefined;
        if (check !== undefined) out[key] = { proxyHeader: 'NONE', ...check };
      }
      out.checkIntervalSec = body.checkIntervalSec ?? 5;
      out.timeoutSec = body.timeoutSec ?? 5;
      out.healthyThreshold = body.healthyThreshold ?? 2;
      out.unhealthyThreshold = body.unhealthyThreshold ?? 2;
    }
    return out;
  }

  private computeOperation(target: string, operationType: string, effect?: () => void): JsonRecord {
    const project = target.split('/')[1] as string;
    const opName = `operation-${this.nextId()}`;
    const name = `projects/${project}/global/operations/${opName}`;
    const start = this.now();
    const running = {
      kind: 'compute#operation',
      id: String(2_000_000_000 + this.sequence),
      name: opName,
      operationType,
      progress: 0,
      selfLink: `${COMPUTE_BASE}${name}`,
      insertTime: start,
      startTime: start,
      status: 'RUNNING',
      targetId: target.split('/').pop(),
      targetLink: `${COMPUTE_BASE}${target}`,
      user: 'user@example.com',
    };
    const done = { ...running, status: 'DONE', progress: 100, endTime: this.now() };
    const op: StoredOperation = {
      body: done,
      polls: 0,
      compute: true,
      target,
      ...(effect === undefined ? {} : { effect }),
    };
    this.operations.set(name, op);
    if (this.pendingPolls === 0) this.complete(op);
    return this.pendingPolls === 0 ? done : running;
  }

  private computeInsert(base: string, collection: string, body: unknown): JsonRecord {
    const record = this.validateCompute(collection, body);
    const name = `${base}/${record.name as string}`;
    this.settle(name);
    if (this.resources.has(name))
      throw computeError(409, 'alreadyExists', `The resource '${name}' already exists`);
    this.checkReferences(name, record);
    const now = this.now();
    this.resources.set(name, {
      api: 'compute',
      collection,
      schema: (COMPUTE_COLLECTIONS[collection] as { schema: string }).schema,
      body: this.computeDefaults(name, collection, record),
      createTime: now,
      updateTime: now,
    });
    return this.computeOperation(name, 'insert');
  }

  private computeWrite(
    name: string,
    collection: string,
    body: unknown,
    mode: 'update' | 'patch',
  ): JsonRecord {
    this.settle(name);
    const stored = this.resources.get(this.mustExist(name)) as StoredResource;
    const incoming = (
      typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}
    ) as JsonRecord;
    const merged = mode === 'patch' ? { ...stored.body, ...incoming } : { ...incoming };
    if (merged.name === undefined) merged.name = stored.body.name;
    for (const key of ['id', 'kind', 'selfLink', 'creationTimestamp']) delete merged[key];
    const record = this.validateCompute(collection, merged);
    if (record.name !== stored.body.name)
      throw computeError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': ${JSON.stringify(record.name)}. The name cannot change.`,
      );
    if (collection === 'backendServices' && incoming.fingerprint !== stored.body.fingerprint) {
      throw computeError(412, 'conditionNotMet', 'Invalid fingerprint.');
    }
    this.checkReferences(name, record);
    const creation = stored.body.creationTimestamp;
    const id = stored.body.id;
    stored.body = { ...this.computeDefaults(name, collection, record), creationTimestamp: creation, id };
    stored.updateTime = this.now();
    return this.computeOperation(name, mode);
  }

  private computeList(base: string, collection: string, url: URL): JsonRecord {
    const info = COMPUTE_COLLECTIONS[collection] as { kind: string };
    const max = Number(url.searchParams.get('maxResults') ?? '500') || 500;
    const start = Number(url.searchParams.get('pageToken') ?? '0') || 0;
    const names = [...this.resources.keys()].filter((n) => n.startsWith(`${base}/`)).sort();
    const items = names.slice(start, start + max).map((n) => this.present(n));
    return {
      kind: info.kind.replace(/#(\w+)$/, '#$1List'),
      id: base,
      selfLink: `${COMPUTE_BASE}${base}`,
      ...(items.length === 0 ? {} : { items }),
      ...(start + max < names.length ? { nextPageToken: String(start + max) } : {}),
    };
  }
}
