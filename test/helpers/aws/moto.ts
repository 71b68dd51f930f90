/**
 * A real AWS stand-in for tests: `moto_server` on a free loopback port, behind a loopback shim.
 *
 * What is real and what is stood in, and why:
 * - moto (real, third-party) serves Mesh, VirtualNode, VirtualRouter, Route, TagResource,
 *   ListTagsForResource and all of Cloud Map.
 * - The shim changes only the serialization of moto's answers, never their behaviour:
 *   `createdAt`/`lastUpdatedAt` strings (`25/11/2026, 12:54:20`, which the JS SDK v3 refuses) become
 *   epoch seconds, and moto's error names (`VirtualNodeNotFound`, 400) become the API's
 *   (`NotFoundException`, 404) so the SDK raises the exception classes the real API would.
 * - moto lacks VirtualService, VirtualGateway, GatewayRoute and UntagResource (404 page): the shim
 *   serves them from a faithful in-memory stand-in (ConflictException on duplicates,
 *   NotFoundException for a missing mesh, resource or referenced router/node,
 *   ResourceInUseException when deleting a gateway that still has routes, tags, versions bumped on
 *   update, status ACTIVE, real-format ARNs).
 * - Every request is validated against the botocore models (`api-model.ts`); violations are
 *   recorded (and answered with BadRequestException) so tests fail on any request the real API
 *   would refuse.
 * - Faults can be injected: fail the Nth mutating call with a status and error type, or hang up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModel, type ServiceModel, type Violation, validateRequest } from './api-model.js';

/** One request the shim saw. */
export interface CallRecord {
  /** `appmesh` or `servicediscovery`. */
  readonly service: 'appmesh' | 'servicediscovery';
  /** Operation name from the API model, `?` when none matched. */
  readonly operation: string;
  /** Whether the operation changes state. */
  readonly mutating: boolean;
  /** Decoded input. */
  readonly input: Record<string, unknown>;
}

/** A fault to inject. */
export interface Fault {
  /** Which call fails: the Nth (1-based) mutating call counted from when the fault was set. */
  readonly nthMutating: number;
  /** How many consecutive calls fail from there. @default 1 */
  readonly times?: number;
  /**
   * `error` answers with `status`/`type`; `hangup` destroys the connection without answering;
   * `hold` performs the call but never answers (the client dies waiting: see `held()`).
   */
  readonly kind: 'error' | 'hangup' | 'hold';
  /** HTTP status. @default 500 */
  readonly status?: number;
  /** Error type, e.g. `TooManyRequestsException`, `InternalServerErrorException`. @default InternalServerErrorException */
  readonly type?: string;
}

/** The running stand-in. */
export interface AwsStandIn {
  /** Endpoint for the SDK clients (`endpoint` option / `--endpoint`). */
  readonly endpoint: string;
  /** Every request, in order. */
  readonly calls: CallRecord[];
  /** Every request that broke the API model. */
  readonly violations: Violation[];
  /** Sets a fault (replacing any previous one); counting starts now. */
  inject(fault: Fault): void;
  /** Number of injected faults that fired. */
  faultsFired(): number;
  /** Resolves when a `hold` fault has performed its call and is holding the answer back. */
  held(): Promise<void>;
  /** Clears the call log. */
  resetCalls(): void;
  /** Mutating calls since the last reset. */
  mutatingCalls(): CallRecord[];
  /** Stops the shim and moto. */
  close(): Promise<void>;
}

const APPMESH = loadModel('appmesh-2019-01-25.json');
const CLOUD_MAP = loadModel('servicediscovery-2017-03-14.json');

/** Finds a free loopback port by binding port 0 and closing it (moto needs an explicit -p). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function waitForMoto(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/moto-api/', method: 'GET' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on port ${port}: ${output()}`);
}

/** Starts `moto_server` on a free loopback port, retrying when another process takes the port first. */
export async function startMoto(): Promise<{ readonly url: string; readonly stop: () => Promise<void> }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    try {
      await waitForMoto(port, child, () => output);
      const stop = async () => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      };
      return { url: `http://127.0.0.1:${port}`, stop };
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------
// The in-memory stand-in for what moto lacks

interface StoredResource {
  readonly kind: 'virtualService' | 'virtualGateway' | 'gatewayRoute';
  readonly meshName: string;
  readonly name: string;
  readonly parent?: string;
  readonly arn: string;
  spec: unknown;
  version: number;
  readonly createdAt: number;
  lastUpdatedAt: number;
  readonly uid: string;
}

class StandInError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const ACCOUNT = '123456789012';
const NAME_KEY: Record<StoredResource['kind'], string> = {
  virtualService: 'virtualServiceName',
  virtualGateway: 'virtualGatewayName',
  gatewayRoute: 'gatewayRouteName',
};

class Store {
  readonly resources = new Map<string, StoredResource>();
  readonly tags = new Map<string, { key: string; value: string }[]>();
  private counter = 0;

  constructor(private readonly region: string) {}

  key(kind: StoredResource['kind'], mesh: string, name: string, parent?: string): string {
    return `${kind}|${mesh}|${parent ?? ''}|${name}`;
  }

  arn(kind: StoredResource['kind'], mesh: string, name: string, parent?: string): string {
    const base = `arn:aws:appmesh:${this.region}:${ACCOUNT}:mesh/${mesh}`;
    if (kind === 'gatewayRoute') return `${base}/virtualGateway/${parent}/gatewayRoute/${name}`;
    return `${base}/${kind}/${name}`;
  }

  data(r: StoredResource): Record<string, unknown> {
    return {
      meshName: r.meshName,
      metadata: {
        arn: r.arn,
        createdAt: r.createdAt,
        lastUpdatedAt: r.lastUpdatedAt,
        meshOwner: ACCOUNT,
        resourceOwner: ACCOUNT,
        uid: r.uid,
        version: r.version,
      },
      spec: r.spec,
      status: { status: 'ACTIVE' },
      [NAME_KEY[r.kind]]: r.name,
      ...(r.kind === 'gatewayRoute' ? { virtualGatewayName: r.parent } : {}),
    };
  }

  ref(r: StoredResource): Record<string, unknown> {
    return {
      arn: r.arn,
      createdAt: r.createdAt,
      lastUpdatedAt: r.lastUpdatedAt,
      meshName: r.meshName,
      meshOwner: ACCOUNT,
      resourceOwner: ACCOUNT,
      version: r.version,
      [NAME_KEY[r.kind]]: r.name,
      ...(r.kind === 'gatewayRoute' ? { virtualGatewayName: r.parent } : {}),
    };
  }

  create(
    kind: StoredResource['kind'],
    mesh: string,
    name: string,
    spec: unknown,
    tags: unknown,
    parent?: string,
  ): StoredResource {
    const key = this.key(kind, mesh, name, parent);
    if (this.resources.has(key))
      throw new StandInError(409, 'ConflictException', `${kind} ${name} already exists in mesh ${mesh}`);
    const now = Math.floor(Date.now() / 1000);
    const resource: StoredResource = {
      kind,
      meshName: mesh,
      name,
      ...(parent === undefined ? {} : { parent }),
      arn: this.arn(kind, mesh, name, parent),
      spec,
      version: 1,
      createdAt: now,
      lastUpdatedAt: now,
      uid: `standin${++this.counter}`,
    };
    this.resources.set(key, resource);
    this.tags.set(resource.arn, Array.isArray(tags) ? (tags as { key: string; value: string }[]) : []);
    return resource;
  }

  get(kind: StoredResource['kind'], mesh: string, name: string, parent?: string): StoredResource {
    const resource = this.resources.get(this.key(kind, mesh, name, parent));
    if (resource === undefined)
      throw new StandInError(404, 'NotFoundException', `${kind} ${name} not found in mesh ${mesh}`);
    return resource;
  }

  delete(r: StoredResource): void {
    this.resources.delete(this.key(r.kind, r.meshName, r.name, r.parent));
    this.tags.delete(r.arn);
  }

  list(kind: StoredResource['kind'], mesh: string, parent?: string): StoredResource[] {
    return [...this.resources.values()]
      .filter((r) => r.kind === kind && r.meshName === mesh && (parent === undefined || r.parent === parent))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}

const STAND_IN_OPERATIONS = new Set([
  'CreateVirtualService',
  'DescribeVirtualService',
  'UpdateVirtualService',
  'DeleteVirtualService',
  'ListVirtualServices',
  'CreateVirtualGateway',
  'DescribeVirtualGateway',
  'UpdateVirtualGateway',
  'DeleteVirtualGateway',
  'ListVirtualGateways',
  'CreateGatewayRoute',
  'DescribeGatewayRoute',
  'UpdateGatewayRoute',
  'DeleteGatewayRoute',
  'ListGatewayRoutes',
  'UntagResource',
]);

/** Whether an operation changes state (counted for "zero mutating calls" and fault injection). */
export function isMutating(operation: string): boolean {
  return /^(Create|Update|Delete|Tag|Untag|Register|Deregister)/.test(operation);
}

/** moto's error names → the API's error shapes (name and status), for moto-backed operations. */
function translateMotoError(type: string): { readonly type: string; readonly status: number } | undefined {
  if (/NotFound$/.test(type)) return { type: 'NotFoundException', status: 404 };
  if (/AlreadyTaken$/.test(type)) return { type: 'ConflictException', status: 409 };
  if (type === 'MissingRequiredField') return { type: 'BadRequestException', status: 400 };
  if (type === 'MeshOwnerDoesNotMatch') return { type: 'ForbiddenException', status: 403 };
  return undefined;
}

/**
 * `25/11/2026, 12:54:20` → epoch seconds. moto formats `datetime.now()`, the local time of the
 * machine both processes run on, so the text is read as local time.
 */
function motoTimestamp(text: string): number | string {
  const m = /^(\d{2})\/(\d{2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (m === null) return text;
  const [dd, mm, yyyy, hh, mi, ss] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(yyyy, mm - 1, dd, hh, mi, ss).getTime() / 1000;
}

function fixTimestamps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fixTimestamps);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        (k === 'createdAt' || k === 'lastUpdatedAt') && typeof v === 'string'
          ? motoTimestamp(v)
          : fixTimestamps(v);
    }
    return out;
  }
  return value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface Forwarded {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function forward(motoUrl: string, req: IncomingMessage, body: string): Promise<Forwarded> {
  const target = new URL(req.url ?? '/', motoUrl);
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(Buffer.byteLength(body)) };
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v;
          resolve({
            status: res.statusCode ?? 500,
            headers: h,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end(body);
  });
}

/** Asks moto whether a mesh (and optionally a router or node in it) exists, with the caller's credentials. */
async function motoHas(motoUrl: string, req: IncomingMessage, path: string): Promise<boolean> {
  const fake = { ...req, url: path, method: 'GET', headers: req.headers } as IncomingMessage;
  const res = await forward(motoUrl, fake, '');
  return res.status === 200;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  service: 'appmesh' | 'servicediscovery',
  status: number,
  type: string,
  message: string,
): void {
  if (service === 'servicediscovery') {
    sendJson(res, status, { __type: type, Message: message });
  } else {
    sendJson(res, status, { message }, { 'x-amzn-errortype': type });
  }
}

/** Starts moto and the shim in front of it. */
export async function startAwsStandIn(options: { readonly region?: string } = {}): Promise<AwsStandIn> {
  const moto = await startMoto();
  const store = new Store(options.region ?? 'us-east-1');
  const calls: CallRecord[] = [];
  const violations: Violation[] = [];
  let fault: Fault | undefined;
  let mutatingSinceFault = 0;
  let fired = 0;
  let markHeld: () => void = () => undefined;
  let heldPromise = new Promise<void>((resolve) => {
    markHeld = resolve;
  });

  const handle = async (req: IncomingMessage, response: ServerResponse): Promise<void> => {
    let res = response;
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    const service =
      typeof target === 'string' && target.startsWith('Route53AutoNaming') ? 'servicediscovery' : 'appmesh';
    const model: ServiceModel = service === 'appmesh' ? APPMESH : CLOUD_MAP;
    const decoded = validateRequest(model, {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
    });
    const operation = decoded.operation ?? '?';
    const mutating = isMutating(operation);
    calls.push({ service, operation, mutating, input: decoded.input });
    if (decoded.violations.length > 0) {
      violations.push(...decoded.violations);
      sendError(
        res,
        service,
        400,
        service === 'appmesh' ? 'BadRequestException' : 'InvalidInput',
        decoded.violations.map((v) => `${v.path}: ${v.message}`).join('; '),
      );
      return;
    }
    if (mutating && fault !== undefined) {
      mutatingSinceFault++;
      const first = fault.nthMutating;
      if (mutatingSinceFault >= first && mutatingSinceFault < first + (fault.times ?? 1)) {
        fired++;
        if (fault.kind === 'hangup') {
          req.socket.destroy();
          return;
        }
        if (fault.kind === 'hold') {
          // The call goes through; its answer goes nowhere and the connection stays open.
          const swallow = {
            writeHead: () => swallow,
            end: () => markHeld(),
          };
          res = swallow as unknown as ServerResponse;
        }
        if (fault.kind === 'error') {
          sendError(
            res,
            service,
            fault.status ?? 500,
            fault.type ?? 'InternalServerErrorException',
            'injected fault',
          );
          return;
        }
      }
    }
    if (
      service === 'appmesh' &&
      (STAND_IN_OPERATIONS.has(operation) || isStandInTagCall(operation, decoded.input, store))
    ) {
      try {
        const out = await standIn(moto.url, req, store, operation, decoded.input);
        sendJson(res, 200, out);
      } catch (error) {
        if (error instanceof StandInError) sendError(res, service, error.status, error.type, error.message);
        else throw error;
      }
      return;
    }
    const answer = await forward(moto.url, req, body);
    let text = answer.body;
    let status = answer.status;
    const headers: Record<string, string> = {
      'content-type': answer.headers['content-type'] ?? 'application/json',
    };
    const errorType = answer.headers['x-amzn-errortype'];
    // moto answers App Mesh calls with JSON bodies but not always a JSON content type.
    if (service === 'appmesh' && /^\s*[[{]/.test(text)) {
      const parsed = JSON.parse(text) as unknown;
      headers['content-type'] = 'application/json';
      const type = errorType ?? (parsed as { __type?: string }).__type;
      const translated = status >= 400 && type !== undefined ? translateMotoError(type) : undefined;
      if (translated !== undefined) {
        status = translated.status;
        headers['x-amzn-errortype'] = translated.type;
        text = JSON.stringify({ message: (parsed as { message?: string }).message ?? translated.type });
      } else {
        if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
        text = JSON.stringify(fixTimestamps(parsed));
      }
    }
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, headers);
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendError(res, 'appmesh', 500, 'InternalServerErrorException', `shim: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    violations,
    inject(next) {
      fault = next;
      mutatingSinceFault = 0;
      heldPromise = new Promise<void>((resolve) => {
        markHeld = resolve;
      });
    },
    faultsFired: () => fired,
    held: () => heldPromise,
    resetCalls() {
      calls.length = 0;
    },
    mutatingCalls: () => calls.filter((c) => c.mutating),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await moto.stop();
    },
  };
}

function isStandInTagCall(operation: string, input: Record<string, unknown>, store: Store): boolean {
  if (operation !== 'TagResource' && operation !== 'ListTagsForResource') return false;
  return store.tags.has(String(input['resourceArn']));
}

async function standIn(
  motoUrl: string,
  req: IncomingMessage,
  store: Store,
  operation: string,
  input: Record<string, unknown>,
): Promise<unknown> {
  const mesh = String(input['meshName'] ?? '');
  const meshPath = `/v20190125/meshes/${encodeURIComponent(mesh)}`;
  const requireMesh = async () => {
    if (!(await motoHas(motoUrl, req, meshPath)))
      throw new StandInError(404, 'NotFoundException', `mesh ${mesh} not found`);
  };
  switch (operation) {
    case 'TagResource': {
      const arn = String(input['resourceArn']);
      const current = store.tags.get(arn) ?? [];
      for (const tag of input['tags'] as { key: string; value: string }[]) {
        const i = current.findIndex((t) => t.key === tag.key);
        if (i >= 0) current[i] = tag;
        else current.push(tag);
      }
      if (current.length > 50) throw new StandInError(400, 'TooManyTagsException', 'more than 50 tags');
      store.tags.set(arn, current);
      return {};
    }
    case 'UntagResource': {
      const arn = String(input['resourceArn']);
      const current = store.tags.get(arn);
      if (current === undefined) throw new StandInError(404, 'NotFoundException', `no resource ${arn}`);
      const drop = new Set(input['tagKeys'] as string[]);
      store.tags.set(
        arn,
        current.filter((t) => !drop.has(t.key)),
      );
      return {};
    }
    case 'ListTagsForResource':
      return { tags: store.tags.get(String(input['resourceArn'])) ?? [] };
    case 'CreateVirtualService': {
      await requireMesh();
      const provider = (input['spec'] as { provider?: Record<string, Record<string, string>> }).provider;
      if (provider?.['virtualRouter'] !== undefined) {
        const router = provider['virtualRouter']['virtualRouterName'] as string;
        if (!(await motoHas(motoUrl, req, `${meshPath}/virtualRouters/${encodeURIComponent(router)}`))) {
          throw new StandInError(
            404,
            'NotFoundException',
            `virtual router ${router} not found in mesh ${mesh}`,
          );
        }
      }
      if (provider?.['virtualNode'] !== undefined) {
        const node = provider['virtualNode']['virtualNodeName'] as string;
        if (!(await motoHas(motoUrl, req, `${meshPath}/virtualNodes/${encodeURIComponent(node)}`))) {
          throw new StandInError(404, 'NotFoundException', `virtual node ${node} not found in mesh ${mesh}`);
        }
      }
      return store.data(
        store.create(
          'virtualService',
          mesh,
          String(input['virtualServiceName']),
          input['spec'],
          input['tags'],
        ),
      );
    }
    case 'CreateVirtualGateway':
      await requireMesh();
      return store.data(
        store.create(
          'virtualGateway',
          mesh,
          String(input['virtualGatewayName']),
          input['spec'],
          input['tags'],
        ),
      );
    case 'CreateGatewayRoute': {
      await requireMesh();
      const gateway = String(input['virtualGatewayName']);
      store.get('virtualGateway', mesh, gateway);
      const spec = input['spec'] as Record<
        string,
        { action?: { target?: { virtualService?: { virtualServiceName?: string } } } }
      >;
      for (const route of Object.values(spec)) {
        const vs =
          typeof route === 'object' ? route.action?.target?.virtualService?.virtualServiceName : undefined;
        if (vs !== undefined) store.get('virtualService', mesh, vs);
      }
      return store.data(
        store.create(
          'gatewayRoute',
          mesh,
          String(input['gatewayRouteName']),
          input['spec'],
          input['tags'],
          gateway,
        ),
      );
    }
    case 'DescribeVirtualService':
      return store.data(store.get('virtualService', mesh, String(input['virtualServiceName'])));
    case 'DescribeVirtualGateway':
      return store.data(store.get('virtualGateway', mesh, String(input['virtualGatewayName'])));
    case 'DescribeGatewayRoute':
      return store.data(
        store.get(
          'gatewayRoute',
          mesh,
          String(input['gatewayRouteName']),
          String(input['virtualGatewayName']),
        ),
      );
    case 'UpdateVirtualService':
    case 'UpdateVirtualGateway':
    case 'UpdateGatewayRoute': {
      const r =
        operation === 'UpdateVirtualService'
          ? store.get('virtualService', mesh, String(input['virtualServiceName']))
          : operation === 'UpdateVirtualGateway'
            ? store.get('virtualGateway', mesh, String(input['virtualGatewayName']))
            : store.get(
                'gatewayRoute',
                mesh,
                String(input['gatewayRouteName']),
                String(input['virtualGatewayName']),
              );
      r.spec = input['spec'];
      r.version++;
      r.lastUpdatedAt = Math.floor(Date.now() / 1000);
      return store.data(r);
    }
    case 'DeleteVirtualService': {
      const r = store.get('virtualService', mesh, String(input['virtualServiceName']));
      // As the API does: a virtual service a gateway route targets cannot be deleted.
      const referencing = store
        .list('gatewayRoute', mesh)
        .filter((route) =>
          Object.values(route.spec as Record<string, unknown>).some((member) =>
            JSON.stringify(member).includes(`"virtualServiceName":${JSON.stringify(r.name)}`),
          ),
        );
      if (referencing.length > 0) {
        throw new StandInError(
          409,
          'ResourceInUseException',
          `VirtualService ${r.name} is being referenced in the following: GATEWAY_ROUTE: [${referencing.map((g) => g.name).join(', ')}]`,
        );
      }
      store.delete(r);
      return { ...store.data(r), status: { status: 'DELETED' } };
    }
    case 'DeleteVirtualGateway': {
      const r = store.get('virtualGateway', mesh, String(input['virtualGatewayName']));
      if (store.list('gatewayRoute', mesh, r.name).length > 0) {
        throw new StandInError(
          409,
          'ResourceInUseException',
          `virtual gateway ${r.name} still has gateway routes`,
        );
      }
      store.delete(r);
      return { ...store.data(r), status: { status: 'DELETED' } };
    }
    case 'DeleteGatewayRoute': {
      const r = store.get(
        'gatewayRoute',
        mesh,
        String(input['gatewayRouteName']),
        String(input['virtualGatewayName']),
      );
      store.delete(r);
      return { ...store.data(r), status: { status: 'DELETED' } };
    }
    case 'ListVirtualServices':
      await requireMesh();
      return { virtualServices: store.list('virtualService', mesh).map((r) => store.ref(r)) };
    case 'ListVirtualGateways':
      await requireMesh();
      return { virtualGateways: store.list('virtualGateway', mesh).map((r) => store.ref(r)) };
    case 'ListGatewayRoutes':
      store.get('virtualGateway', mesh, String(input['virtualGatewayName']));
      return {
        gatewayRoutes: store
          .list('gatewayRoute', mesh, String(input['virtualGatewayName']))
          .map((r) => store.ref(r)),
      };
    default:
      throw new StandInError(400, 'BadRequestException', `stand-in does not serve ${operation}`);
  }
}
