/**
 * The proxy's xDS client: ADS over one gRPC stream, as Envoy speaks it: state of the world
 * (api_type GRPC) or incremental (DELTA_GRPC: only changed and removed resources travel, and a
 * reconnect says which versions it holds).
 *
 * - Subscribes to every listener (LDS) and cluster (CDS), then by name to the route
 *   configurations the listeners name (RDS), the endpoints the EDS clusters need (EDS) and the
 *   secrets their TLS contexts fetch over ADS (SDS: `sds_config: {ads: {}}`; proxy-mtls).
 * - Every resource is validated strictly against Envoy's protos before use; a response with one
 *   bad resource is NACKed whole (version = the last accepted, `error_detail` says what and where)
 *   and the proxy keeps running on its last good configuration.
 * - Updates are applied as one coherent state (warming): a listener waits for its route
 *   configuration and a cluster for its endpoints, both for their secrets (up to
 *   `warmingTimeoutMs`, as Envoy's initial fetch timeout), so a proxy never runs a listener
 *   pointing at a route table or a certificate it has not got.
 * - If applying fails (the bundled proxy does not support something), the response that triggered
 *   it is NACKed and the previous state stays in force.
 * - The stream reconnects with backoff and re-sends its subscriptions with the versions it holds.
 */
import { fromBinary, toJson } from '@bufbuild/protobuf';
import { type ClientDuplexStream, credentials, makeClientConstructor } from '@grpc/grpc-js';
import { MeshError } from '../../errors/index.js';
import { envoyMessage, envoyRegistry, typeNameOf } from '../config/descriptors.js';
import { validateEnvoyResource } from '../config/load.js';
import { adsServiceDefinition } from './protos.js';

/** Type URLs of the five resource types the client subscribes to. */
export const XDS = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

type XdsType = (typeof XDS)[keyof typeof XDS];
const ORDER: readonly XdsType[] = [XDS.cluster, XDS.endpoint, XDS.listener, XDS.route, XDS.secret];

/** A resource in canonical proto3 JSON (proto field names). */
export type Resource = Readonly<Record<string, unknown>>;

/** One coherent configuration: every listener's routes and every EDS cluster's endpoints present. */
export interface XdsState {
  /** Listeners by name. */
  readonly listeners: ReadonlyMap<string, Resource>;
  /** Route configurations by name. */
  readonly routes: ReadonlyMap<string, Resource>;
  /** Clusters by name. */
  readonly clusters: ReadonlyMap<string, Resource>;
  /** Endpoint assignments by cluster (EDS service) name. */
  readonly endpoints: ReadonlyMap<string, Resource>;
  /** Secrets fetched over ADS (SDS), by name. @default - none */
  readonly secrets?: ReadonlyMap<string, Resource>;
  /** Accepted version per type (CDS, EDS, LDS, RDS). */
  readonly versions: Readonly<Record<string, string>>;
}

/** The bootstrap's `node`, as sent on the ADS stream. */
export interface XdsNode {
  readonly id: string;
  readonly cluster?: string;
  /** `google.protobuf.Struct` in JSON form. @default - none */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** region / zone / sub_zone. @default - `{}` (gRPC xDS clients require one) */
  readonly locality?: Resource;
}

/**
 * A JSON value as a `google.protobuf.Value` in proto-loader's object form (what the stream writes).
 * The well-known types come from protobufjs's built-in definitions, whose field names are
 * camelCase whatever `keepCase` says (snake_case keys would be dropped silently).
 */
function structValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(structValue) } };
  return { structValue: struct(value as Record<string, unknown>) };
}

/** A JSON object as a `google.protobuf.Struct` in proto-loader's object form. */
function struct(object: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { fields: Object.fromEntries(Object.entries(object).map(([k, v]) => [k, structValue(v)])) };
}

/** Options of {@link XdsClient}. */
export interface XdsClientOptions {
  /** Control plane `host:port`. */
  readonly server: string;
  /** The node this proxy is. */
  readonly node: XdsNode;
  /**
   * Send the node on the first request of a stream only (`ads_config.set_node_on_first_message_only`);
   * false sends it on every request, as Envoy does by default. @default - true
   */
  readonly nodeOnFirstMessageOnly?: boolean;
  /**
   * Applies a coherent state. Throwing NACKs the response that led to it (the message becomes
   * the NACK's `error_detail`); the state in force stays as it was.
   */
  readonly apply: (state: XdsState) => void | Promise<void>;
  /** Longest a listener or cluster waits for its routes or endpoints before applying without. @default - 1000 ms */
  readonly warmingTimeoutMs?: number;
  /**
   * The ADS variant: `sotw` (StreamAggregatedResources, api_type GRPC) or `delta`
   * (DeltaAggregatedResources, api_type DELTA_GRPC: only changes travel). @default - `sotw`
   */
  readonly protocol?: 'sotw' | 'delta';
  /** Diagnostics (connects, NACKs sent, reconnects). @default - none */
  readonly log?: (line: string) => void;
}

const SHORT: Record<XdsType, string> = {
  [XDS.cluster]: 'CDS',
  [XDS.endpoint]: 'EDS',
  [XDS.listener]: 'LDS',
  [XDS.route]: 'RDS',
  [XDS.secret]: 'SDS',
};

interface TypeState {
  /** Version accepted last ('' before any). */
  version: string;
  /** Nonce of the last response. */
  nonce: string;
  /** Names subscribed (EDS/RDS); wildcard types use []. */
  names: string[];
  /** Accepted resources by name. */
  resources: Map<string, Resource>;
  /** Delta: the version of each accepted resource (sent back as initial_resource_versions). */
  versions: Map<string, string>;
  /** Delta: this stream has had its first request for the type. */
  opened: boolean;
}

interface WireDeltaResponse {
  readonly system_version_info: string;
  readonly type_url: string;
  readonly nonce: string;
  readonly resources: readonly {
    readonly name: string;
    readonly version: string;
    readonly resource: { readonly type_url: string; readonly value: Buffer } | null;
  }[];
  readonly removed_resources: readonly string[];
}

interface WireResponse {
  readonly version_info: string;
  readonly type_url: string;
  readonly nonce: string;
  readonly resources: readonly { readonly type_url: string; readonly value: Buffer }[];
}

type AdsStub = {
  StreamAggregatedResources(): ClientDuplexStream<unknown, WireResponse>;
  DeltaAggregatedResources(): ClientDuplexStream<unknown, WireDeltaResponse>;
  close(): void;
};

/** Decodes an `Any` into canonical proto3 JSON with proto field names. */
function decode(any: { type_url: string; value: Buffer }): Resource {
  const desc = envoyMessage(typeNameOf(any.type_url));
  return toJson(desc, fromBinary(desc, any.value), {
    registry: envoyRegistry(),
    useProtoFieldName: true,
  }) as Resource;
}

function nameOf(type: XdsType, r: Resource): string {
  return String((type === XDS.endpoint ? r.cluster_name : r.name) ?? '');
}

/** EDS names a cluster set needs. */
export function edsNames(clusters: Iterable<Resource>): string[] {
  const out = new Set<string>();
  for (const c of clusters) {
    if (c.type !== 'EDS') continue;
    const config = c.eds_cluster_config as Resource | undefined;
    out.add(
      typeof config?.service_name === 'string' && config.service_name !== ''
        ? config.service_name
        : String(c.name),
    );
  }
  return [...out].sort();
}

/** RDS names a listener set needs (anywhere inside: filter chains, API listeners). */
export function rdsNames(listeners: Iterable<Resource>): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v !== null && typeof v === 'object') {
      const o = v as Resource;
      const rds = o.rds as Resource | undefined;
      if (rds !== undefined && typeof rds.route_config_name === 'string') out.add(rds.route_config_name);
      for (const x of Object.values(o)) walk(x);
    }
  };
  for (const l of listeners) walk(l);
  return [...out].sort();
}

/**
 * Secret names a listener or cluster set fetches over ADS: `tls_certificate_sds_secret_configs`
 * and `validation_context_sds_secret_config` entries (also inside `combined_validation_context`)
 * whose `sds_config` is `ads`. A reference without sds_config names a static secret, and one
 * with another config source is left for the loader to refuse.
 */
export function sdsNames(resources: Iterable<Resource>): string[] {
  const out = new Set<string>();
  const add = (ref: unknown): void => {
    const r = ref as Resource | undefined;
    const source = r?.sds_config as Resource | undefined;
    if (typeof r?.name === 'string' && source?.ads !== undefined) out.add(r.name);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v !== null && typeof v === 'object') {
      const o = v as Resource;
      if (Array.isArray(o.tls_certificate_sds_secret_configs))
        o.tls_certificate_sds_secret_configs.forEach(add);
      add(o.validation_context_sds_secret_config);
      for (const x of Object.values(o)) walk(x);
    }
  };
  for (const r of resources) walk(r);
  return [...out].sort();
}

/** A running xDS client. */
export class XdsClient {
  readonly #options: XdsClientOptions;
  readonly #types = new Map<XdsType, TypeState>(
    ORDER.map((t) => [
      t,
      { version: '', nonce: '', names: [], resources: new Map(), versions: new Map(), opened: false },
    ]),
  );
  #stub: AdsStub | undefined;
  #call: ClientDuplexStream<unknown, WireResponse | WireDeltaResponse> | undefined;
  #first = true;
  #closed = false;
  #backoffMs = 250;
  #applied: XdsState | undefined;
  #warmingTimer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  readonly #readyWaiters: (() => void)[] = [];
  /** NACKs sent, newest last (type, version rejected, message). */
  readonly nacks: { type: string; nonce: string; message: string }[] = [];

  constructor(options: XdsClientOptions) {
    this.#options = options;
  }

  /** Opens the stream and subscribes. */
  start(): void {
    const Ctor = makeClientConstructor(adsServiceDefinition(), 'AggregatedDiscoveryService');
    this.#stub = new Ctor(this.#options.server, credentials.createInsecure()) as unknown as AdsStub;
    this.#connect();
  }

  /** The state in force, if any has been applied. */
  get applied(): XdsState | undefined {
    return this.#applied;
  }

  /** Resolves once a first coherent state has been applied. */
  ready(): Promise<void> {
    if (this.#applied !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Closes the stream; no reconnect. */
  close(): void {
    this.#closed = true;
    if (this.#warmingTimer !== undefined) clearTimeout(this.#warmingTimer);
    this.#call?.cancel();
    this.#stub?.close();
  }

  #connect(): void {
    if (this.#closed || this.#stub === undefined) return;
    this.#first = true;
    const delta = this.#options.protocol === 'delta';
    for (const t of this.#types.values()) t.opened = false;
    const call: ClientDuplexStream<unknown, WireResponse | WireDeltaResponse> = delta
      ? this.#stub.DeltaAggregatedResources()
      : this.#stub.StreamAggregatedResources();
    this.#call = call;
    call.on('data', (response: WireResponse | WireDeltaResponse) => {
      this.#queue = this.#queue
        .then(() =>
          delta
            ? this.#onDeltaResponse(response as WireDeltaResponse)
            : this.#onResponse(response as WireResponse),
        )
        .catch((error: unknown) => {
          this.#options.log?.(`xds: internal error handling a response: ${String(error)}`);
        });
    });
    const retry = () => {
      if (this.#closed || this.#call !== call) return;
      this.#call = undefined;
      const delay = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, 2000);
      this.#options.log?.(`xds: stream to ${this.#options.server} ended; reconnecting in ${delay} ms`);
      setTimeout(() => this.#connect(), delay).unref();
    };
    call.on('error', retry);
    call.on('end', retry);
    // Initial subscriptions, with the versions we hold after a reconnect (as Envoy does).
    for (const type of ORDER) {
      const t = this.#types.get(type) as TypeState;
      if (type === XDS.cluster || type === XDS.listener || t.names.length > 0) {
        if (delta) this.#openDelta(type, t);
        else this.#send(type, t.version, '', t.names);
      }
    }
  }

  /** Writes one request; the node goes on the stream's first (or, if so configured, on every one). */
  #write(request: Record<string, unknown>): void {
    const node = this.#options.node;
    this.#call?.write({
      ...(this.#first || this.#options.nodeOnFirstMessageOnly === false
        ? {
            node: {
              id: node.id,
              cluster: node.cluster ?? '',
              locality: node.locality ?? {},
              ...(node.metadata === undefined ? {} : { metadata: struct(node.metadata) }),
            },
          }
        : {}),
      ...request,
    });
    this.#first = false;
  }

  #send(type: XdsType, version: string, nonce: string, names: readonly string[], error?: string): void {
    this.#write({
      type_url: type,
      version_info: version,
      response_nonce: nonce,
      resource_names: names,
      ...(error === undefined ? {} : { error_detail: { code: 3, message: error } }),
    });
  }

  /**
   * Delta: the first request of a type on this stream: its names (none: every resource, for
   * listeners and clusters) and the versions already held, so only changes come back.
   */
  #openDelta(type: XdsType, t: TypeState): void {
    t.opened = true;
    this.#write({
      type_url: type,
      resource_names_subscribe: t.names,
      initial_resource_versions: Object.fromEntries(t.versions),
    });
  }

  /** ACK of the response last received for a type. */
  #ack(type: XdsType, t: TypeState): void {
    if (this.#options.protocol === 'delta') this.#write({ type_url: type, response_nonce: t.nonce });
    else this.#send(type, t.version, t.nonce, t.names);
  }

  async #onResponse(response: WireResponse): Promise<void> {
    const type = response.type_url as XdsType;
    const t = this.#types.get(type);
    if (t === undefined) return;
    this.#backoffMs = 250;
    t.nonce = response.nonce;
    // Decode and validate every resource; one bad resource rejects the response.
    const next = new Map<string, Resource>();
    try {
      for (const any of response.resources) {
        const json = decode(any);
        const name = nameOf(type, json);
        next.set(
          name,
          validateEnvoyResource(type, json, { path: `${SHORT[type]}[${JSON.stringify(name)}]` }) as Resource,
        );
      }
    } catch (error) {
      this.#nack(type, t, error);
      return;
    }
    await this.#accept(type, t, next, response.version_info, t.versions);
  }

  /**
   * Delta: a response carries only what changed (and what was removed); applied on a copy of the
   * resources held, validated and applied as a whole exactly as a state-of-the-world response.
   */
  async #onDeltaResponse(response: WireDeltaResponse): Promise<void> {
    const type = response.type_url as XdsType;
    const t = this.#types.get(type);
    if (t === undefined) return;
    this.#backoffMs = 250;
    t.nonce = response.nonce;
    const next = new Map(t.resources);
    const versions = new Map(t.versions);
    for (const name of response.removed_resources ?? []) {
      next.delete(name);
      versions.delete(name);
    }
    try {
      for (const r of response.resources ?? []) {
        if (r.resource === null) continue;
        const json = decode(r.resource);
        const name = r.name || nameOf(type, json);
        next.set(
          name,
          validateEnvoyResource(type, json, { path: `${SHORT[type]}[${JSON.stringify(name)}]` }) as Resource,
        );
        versions.set(name, r.version);
      }
    } catch (error) {
      this.#nack(type, t, error);
      return;
    }
    await this.#accept(type, t, next, response.system_version_info, versions);
  }

  /** Takes a validated resource set for a type: subscriptions follow, then the state is applied, then ACK (or NACK and undo). */
  async #accept(
    type: XdsType,
    t: TypeState,
    next: Map<string, Resource>,
    version: string,
    versions: Map<string, string>,
  ): Promise<void> {
    const previous = t.resources;
    const previousVersion = t.version;
    const previousVersions = t.versions;
    t.resources = next;
    t.version = version;
    t.versions = versions;
    // New names to subscribe to follow from clusters and listeners.
    if (type === XDS.cluster) this.#resubscribe(XDS.endpoint, edsNames(next.values()));
    if (type === XDS.listener) this.#resubscribe(XDS.route, rdsNames(next.values()));
    if (type === XDS.cluster || type === XDS.listener) this.#resubscribe(XDS.secret, this.#secretNames());
    try {
      await this.#tryApply(false);
    } catch (error) {
      t.resources = previous;
      t.version = previousVersion;
      t.versions = previousVersions;
      this.#nack(type, t, error);
      return;
    }
    this.#ack(type, t);
  }

  #nack(type: XdsType, t: TypeState, error: unknown): void {
    const message =
      error instanceof MeshError
        ? error.problems.map((p) => `${p.path}: ${p.message}`).join('; ')
        : String(error);
    this.nacks.push({ type: SHORT[type], nonce: t.nonce, message });
    this.#options.log?.(`xds: NACK ${SHORT[type]}: ${message}`);
    if (this.#options.protocol === 'delta') {
      this.#write({ type_url: type, response_nonce: t.nonce, error_detail: { code: 3, message } });
    } else this.#send(type, t.version, t.nonce, t.names, message);
  }

  #resubscribe(type: XdsType, names: string[]): void {
    const t = this.#types.get(type) as TypeState;
    if (names.join('\n') === t.names.join('\n')) return;
    const before = t.names;
    t.names = names;
    // Dropped names are forgotten now: SotW responses list only what is asked for.
    for (const name of [...t.resources.keys()]) {
      if (!names.includes(name)) {
        t.resources.delete(name);
        t.versions.delete(name);
      }
    }
    if (this.#options.protocol !== 'delta') {
      this.#send(type, t.version, t.nonce, names);
      return;
    }
    // Delta: the first request for the type, or only the difference.
    if (!t.opened) {
      if (names.length > 0) this.#openDelta(type, t);
      return;
    }
    this.#write({
      type_url: type,
      resource_names_subscribe: names.filter((n) => !before.includes(n)),
      resource_names_unsubscribe: before.filter((n) => !names.includes(n)),
    });
  }

  /** Secrets the accepted listeners and clusters fetch over ADS. */
  #secretNames(): string[] {
    const get = (type: XdsType) => (this.#types.get(type) as TypeState).resources.values();
    return sdsNames([...get(XDS.cluster), ...get(XDS.listener)]);
  }

  /** Applies the accepted resources when they form a coherent state (or warming timed out). */
  async #tryApply(force: boolean): Promise<void> {
    const get = (type: XdsType) => (this.#types.get(type) as TypeState).resources;
    const clusters = get(XDS.cluster);
    const listeners = get(XDS.listener);
    const endpoints = get(XDS.endpoint);
    const routes = get(XDS.route);
    const secrets = get(XDS.secret);
    const missing = [
      ...edsNames(clusters.values()).filter((n) => !endpoints.has(n)),
      ...rdsNames(listeners.values()).filter((n) => !routes.has(n)),
      ...this.#secretNames().filter((n) => !secrets.has(n)),
    ];
    const ldsSeen = (this.#types.get(XDS.listener) as TypeState).version !== '';
    const cdsSeen = (this.#types.get(XDS.cluster) as TypeState).version !== '';
    if (!force && (missing.length > 0 || !ldsSeen || !cdsSeen)) {
      if (this.#warmingTimer === undefined && cdsSeen && ldsSeen) {
        this.#warmingTimer = setTimeout(() => {
          this.#warmingTimer = undefined;
          this.#queue = this.#queue
            .then(() => this.#tryApply(true))
            .catch((e: unknown) => {
              this.#options.log?.(`xds: applying after warming timeout failed: ${String(e)}`);
            });
        }, this.#options.warmingTimeoutMs ?? 1000);
        this.#warmingTimer.unref();
      }
      return;
    }
    if (this.#warmingTimer !== undefined) {
      clearTimeout(this.#warmingTimer);
      this.#warmingTimer = undefined;
    }
    const state: XdsState = {
      listeners: new Map(listeners),
      routes: new Map(routes),
      clusters: new Map(clusters),
      endpoints: new Map(endpoints),
      secrets: new Map(secrets),
      versions: Object.fromEntries(
        ORDER.map((type) => [SHORT[type], (this.#types.get(type) as TypeState).version]),
      ),
    };
    await this.#options.apply(state);
    this.#applied = state;
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }
}
