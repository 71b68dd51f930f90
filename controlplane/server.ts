/**
 * The ADS gRPC server: state of the world (`StreamAggregatedResources`) and incremental
 * (`DeltaAggregatedResources`) over one service, fed by a {@link SnapshotCache}.
 *
 * How a stream works (as go-control-plane's server): every request opens a watch for its type;
 * the watch answers at once when the snapshot's version for that type differs from the version
 * the client holds (or the client asks for new names), and otherwise parks until the cache gets a
 * new snapshot for the node. When one snapshot wakes several watches, responses go out in the
 * order CDS, EDS, LDS, RDS, SDS. A request carrying the last response's nonce is an ACK, or a NACK
 * when it has `error_detail`: a NACKed version is never sent again (the client keeps its last good
 * configuration and we wait for the next snapshot), and the NACK is kept for the status API.
 */
import {
  status as grpcStatus,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { adsServiceDefinition as adsService } from '../proxy/xds/protos.js';
import type { SnapshotCache } from './cache.js';
import { encodeResource } from './codec.js';
import { isTypeUrl, isWildcardType, PUSH_ORDER, SHORT_NAME, type TypeUrl } from './types.js';

/** The node fields we use from a request. */
interface WireNode {
  readonly id?: string;
  readonly cluster?: string;
}

interface WireStatus {
  readonly code?: number;
  readonly message?: string;
}

interface WireRequest {
  readonly version_info?: string;
  readonly node?: WireNode | null;
  readonly resource_names?: readonly string[];
  readonly type_url?: string;
  readonly response_nonce?: string;
  readonly error_detail?: WireStatus | null;
}

interface WireDeltaRequest {
  readonly node?: WireNode | null;
  readonly type_url?: string;
  readonly resource_names_subscribe?: readonly string[];
  readonly resource_names_unsubscribe?: readonly string[];
  readonly initial_resource_versions?: Readonly<Record<string, string>>;
  readonly response_nonce?: string;
  readonly error_detail?: WireStatus | null;
}

/** A stream as the callbacks and status API see it. */
export interface StreamInfo {
  /** Stream id, unique per server. */
  readonly id: number;
  /** `sotw` or `delta`. */
  readonly kind: 'sotw' | 'delta';
  /** Node id from the first request ('' until it arrives). */
  readonly nodeId: string;
  /** Snapshot key the node maps to. */
  readonly key: string;
}

/** Server hooks; every member is optional (go-control-plane's Callbacks). */
export interface ControlPlaneCallbacks {
  /** A stream opened. */
  readonly onStreamOpen?: (stream: StreamInfo) => void;
  /** A stream closed (client went away or the server stopped). */
  readonly onStreamClosed?: (stream: StreamInfo) => void;
  /** A request arrived (after the node is known). */
  readonly onRequest?: (
    stream: StreamInfo,
    typeUrl: string,
    versionInfo: string,
    names: readonly string[],
  ) => void;
  /** A response was sent. */
  readonly onResponse?: (
    stream: StreamInfo,
    typeUrl: TypeUrl,
    version: string,
    names: readonly string[],
  ) => void;
  /** The client accepted a version. */
  readonly onAck?: (stream: StreamInfo, typeUrl: TypeUrl, version: string) => void;
  /** The client rejected a version; it keeps its last good configuration. */
  readonly onNack?: (stream: StreamInfo, typeUrl: TypeUrl, version: string, message: string) => void;
  /** A resource could not be encoded (nothing was sent for that type). */
  readonly onError?: (stream: StreamInfo, error: Error) => void;
}

/** A rejected version, kept for the status API. */
export interface NackRecord {
  /** Resource type (CDS, EDS, LDS, RDS, SDS). */
  readonly type: string;
  /** The version the client refused. */
  readonly version: string;
  /** The client's error message. */
  readonly message: string;
  /** When (ISO time). */
  readonly at: string;
}

/** What the status API reports for one type on one node. */
export interface TypeStatus {
  /** Version last sent. */
  readonly sent?: string;
  /** Version last accepted. */
  readonly acked?: string;
  /** Names subscribed (`*` for everything). */
  readonly subscribed: readonly string[];
}

/** What the status API reports for one node. */
export interface NodeStatus {
  /** Node id. */
  readonly id: string;
  /** Node cluster. */
  readonly cluster: string;
  /** Snapshot key. */
  readonly key: string;
  /** Open streams. */
  readonly streams: number;
  /** Whether a stream is open now. */
  readonly connected: boolean;
  /** Version of the node's current snapshot. */
  readonly snapshotVersion?: string;
  /** Whether every subscribed type has ACKed the current snapshot's version. */
  readonly inSync: boolean;
  /** Per type (CDS, EDS, LDS, RDS, SDS). */
  readonly types: Readonly<Record<string, TypeStatus>>;
  /** The last NACK, if any. */
  readonly lastNack?: NackRecord;
}

/** What the status API reports. */
export interface ControlPlaneStatus {
  /** Snapshot keys and versions. */
  readonly snapshots: Readonly<Record<string, string>>;
  /** Every node seen since start, sorted by id. */
  readonly nodes: readonly NodeStatus[];
}

interface TypeState {
  nonce?: string;
  sentVersion?: string;
  sentNames?: string;
  ackedVersion?: string;
  rejectedVersion?: string;
  /** The open watch: names asked for, `null` for wildcard; the version the client holds. */
  watch?: { readonly names: readonly string[] | null; readonly version: string };
  /** Delta: resource versions the client holds, by name. */
  held?: Map<string, string>;
  /** Delta: names subscribed, or `null` for wildcard. */
  subscribed?: Set<string> | null;
  /** State of the world: names of the last request, or `null` for wildcard. */
  requested?: readonly string[] | null;
}

interface NodeRecord {
  id: string;
  cluster: string;
  key: string;
  streams: Set<StreamState>;
  /** Type state of the most recent stream (kept after it closes). */
  types: Map<TypeUrl, TypeState>;
  lastNack?: NackRecord;
}

interface StreamState {
  info: StreamInfo;
  types: Map<TypeUrl, TypeState>;
  unsubscribe?: () => void;
  closed: boolean;
}

/** The xDS server. */
export class XdsServer {
  readonly #cache: SnapshotCache;
  readonly #callbacks: ControlPlaneCallbacks;
  readonly #server = new Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #streams = new Set<ServerDuplexStream<unknown, unknown>>();
  #nextStream = 1;
  #nonce = 0;

  constructor(cache: SnapshotCache, callbacks: ControlPlaneCallbacks = {}) {
    this.#cache = cache;
    this.#callbacks = callbacks;
    this.#server.addService(adsService(), {
      StreamAggregatedResources: (call: ServerDuplexStream<WireRequest, unknown>) => this.#sotw(call),
      DeltaAggregatedResources: (call: ServerDuplexStream<WireDeltaRequest, unknown>) => this.#delta(call),
    } as unknown as Record<
      string,
      (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void
    >);
  }

  /** Listens on `host:port` (port 0 picks a free port); resolves to the bound address. */
  listen(host = '127.0.0.1', port = 0): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(
        `${host.includes(':') ? `[${host}]` : host}:${port}`,
        ServerCredentials.createInsecure(),
        (error, bound) => {
          if (error !== null) reject(error);
          else resolve({ host, port: bound });
        },
      );
    });
  }

  /** Ends every stream and stops the server. */
  close(): Promise<void> {
    for (const call of this.#streams) call.end();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, 1000);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Which nodes are connected, what they ACKed, their last NACK. */
  status(): ControlPlaneStatus {
    const snapshots = Object.fromEntries(
      this.#cache.keys().map((k) => [k, this.#cache.getSnapshot(k)?.version ?? '']),
    );
    const nodes = [...this.#nodes.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((n): NodeStatus => {
        const snapshot = this.#cache.getSnapshot(n.key);
        const types: Record<string, TypeStatus> = {};
        let inSync = snapshot !== undefined && n.types.size > 0;
        for (const type of PUSH_ORDER) {
          const t = n.types.get(type);
          if (t === undefined) continue;
          const subscribed =
            t.subscribed === undefined
              ? t.requested
              : t.subscribed === null
                ? null
                : [...t.subscribed].sort();
          types[SHORT_NAME[type]] = {
            ...(t.sentVersion === undefined ? {} : { sent: t.sentVersion }),
            ...(t.ackedVersion === undefined ? {} : { acked: t.ackedVersion }),
            subscribed: subscribed === null || subscribed === undefined ? ['*'] : subscribed,
          };
          if (snapshot !== undefined && t.ackedVersion !== snapshot.resources(type).version) inSync = false;
        }
        return {
          id: n.id,
          cluster: n.cluster,
          key: n.key,
          streams: n.streams.size,
          connected: n.streams.size > 0,
          ...(snapshot === undefined ? {} : { snapshotVersion: snapshot.version }),
          inSync,
          types,
          ...(n.lastNack === undefined ? {} : { lastNack: n.lastNack }),
        };
      });
    return { snapshots, nodes };
  }

  #open(kind: 'sotw' | 'delta', call: ServerDuplexStream<unknown, unknown>): StreamState {
    const state: StreamState = {
      info: { id: this.#nextStream++, kind, nodeId: '', key: '' },
      types: new Map(),
      closed: false,
    };
    this.#streams.add(call);
    this.#callbacks.onStreamOpen?.(state.info);
    const close = () => {
      if (state.closed) return;
      state.closed = true;
      this.#streams.delete(call);
      state.unsubscribe?.();
      this.#nodes.get(state.info.nodeId)?.streams.delete(state);
      this.#callbacks.onStreamClosed?.(state.info);
    };
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    return state;
  }

  /**
   * Binds a stream to its node on the first request; later requests may omit the node. A first
   * request without `node.id` ends the stream with INVALID_ARGUMENT and returns false.
   */
  #bind(
    state: StreamState,
    node: WireNode | null | undefined,
    wake: () => void,
    call: ServerDuplexStream<unknown, unknown>,
  ): boolean {
    if (state.info.nodeId !== '') return true;
    const id = node?.id ?? '';
    if (id === '') {
      call.destroy(
        Object.assign(new Error('the first request must carry node.id'), {
          code: grpcStatus.INVALID_ARGUMENT,
        }),
      );
      return false;
    }
    const key = this.#cache.nodeKey(id);
    state.info = { ...state.info, nodeId: id, key };
    let record = this.#nodes.get(id);
    if (record === undefined) {
      record = { id, cluster: node?.cluster ?? '', key, streams: new Set(), types: state.types };
      this.#nodes.set(id, record);
    }
    record.key = key;
    record.types = state.types;
    record.streams.add(state);
    state.unsubscribe = this.#cache.subscribe(key, wake);
    return true;
  }

  #typeState(state: StreamState, type: TypeUrl): TypeState {
    let t = state.types.get(type);
    if (t === undefined) {
      t = {};
      state.types.set(type, t);
    }
    return t;
  }

  #nextNonce(): string {
    this.#nonce += 1;
    return String(this.#nonce);
  }

  /** Records ACK/NACK for a request answering our last response; false when the nonce is stale. */
  #acknowledge(
    state: StreamState,
    type: TypeUrl,
    t: TypeState,
    nonce: string,
    version: string,
    error: WireStatus | null | undefined,
  ): boolean {
    if (nonce === '') return true;
    // A nonce that is not our latest answers a response the client has since been sent a newer
    // one for: go-control-plane ignores such requests, and so do we.
    if (nonce !== t.nonce) return false;
    if (error !== null && error !== undefined) {
      const rejected = t.sentVersion ?? '';
      t.rejectedVersion = rejected;
      const record: NackRecord = {
        type: SHORT_NAME[type],
        version: rejected,
        message: error.message ?? '',
        at: new Date().toISOString(),
      };
      const node = this.#nodes.get(state.info.nodeId);
      if (node !== undefined) node.lastNack = record;
      this.#callbacks.onNack?.(state.info, type, rejected, record.message);
    } else {
      t.ackedVersion = t.sentVersion ?? version;
      this.#callbacks.onAck?.(state.info, type, t.ackedVersion);
    }
    return true;
  }

  #sotw(call: ServerDuplexStream<WireRequest, unknown>): void {
    const state = this.#open('sotw', call as ServerDuplexStream<unknown, unknown>);
    const flush = () => this.#flushSotw(call, state);
    call.on('data', (request: WireRequest) => {
      if (state.closed) return;
      if (!this.#bind(state, request.node, flush, call)) return;
      const typeUrl = request.type_url ?? '';
      const names = [...new Set(request.resource_names ?? [])].sort();
      this.#callbacks.onRequest?.(state.info, typeUrl, request.version_info ?? '', names);
      if (!isTypeUrl(typeUrl)) return; // A type we do not serve: the client waits, as with any unknown type.
      const t = this.#typeState(state, typeUrl);
      if (
        !this.#acknowledge(
          state,
          typeUrl,
          t,
          request.response_nonce ?? '',
          request.version_info ?? '',
          request.error_detail,
        )
      )
        return;
      const wildcard = names.length === 0 ? isWildcardType(typeUrl) : names.includes('*');
      t.requested = wildcard ? null : names;
      t.watch = { names: t.requested, version: request.version_info ?? '' };
      flush();
    });
  }

  /** Answers every open watch the node's snapshot can answer, in push order. */
  #flushSotw(call: ServerDuplexStream<WireRequest, unknown>, state: StreamState): void {
    const snapshot = this.#cache.getSnapshot(state.info.key);
    if (snapshot === undefined || state.closed) return;
    for (const type of PUSH_ORDER) {
      const t = state.types.get(type);
      const watch = t?.watch;
      if (t === undefined || watch === undefined) continue;
      const current = snapshot.resources(type);
      const namesKey = watch.names === null ? '*' : watch.names.join('\n');
      const namesChanged = namesKey !== t.sentNames;
      if (current.version === watch.version && !namesChanged) continue; // park until the version changes
      if (current.version === t.rejectedVersion && !namesChanged) continue; // never resend a NACKed version
      const items =
        watch.names === null
          ? [...current.items.values()]
          : watch.names.flatMap((n) => current.items.get(n) ?? []);
      let resources: { type_url: string; value: Buffer }[];
      try {
        resources = items.map((r) => ({ type_url: type, value: Buffer.from(encodeResource(type, r)) }));
      } catch (error) {
        this.#callbacks.onError?.(state.info, error as Error);
        continue;
      }
      const nonce = this.#nextNonce();
      t.watch = undefined;
      t.nonce = nonce;
      t.sentVersion = current.version;
      t.sentNames = namesKey;
      call.write({
        version_info: current.version,
        resources,
        type_url: type,
        nonce,
        control_plane: { identifier: 'crossmesh' },
      });
      this.#callbacks.onResponse?.(
        state.info,
        type,
        current.version,
        items.map((r) => r.name),
      );
    }
  }

  #delta(call: ServerDuplexStream<WireDeltaRequest, unknown>): void {
    const state = this.#open('delta', call as ServerDuplexStream<unknown, unknown>);
    const flush = () => this.#flushDelta(call, state);
    call.on('data', (request: WireDeltaRequest) => {
      if (state.closed) return;
      if (!this.#bind(state, request.node, flush, call)) return;
      const typeUrl = request.type_url ?? '';
      const subscribe = request.resource_names_subscribe ?? [];
      this.#callbacks.onRequest?.(state.info, typeUrl, '', subscribe);
      if (!isTypeUrl(typeUrl)) return;
      const t = this.#typeState(state, typeUrl);
      const first = t.held === undefined;
      if (!this.#acknowledge(state, typeUrl, t, request.response_nonce ?? '', '', request.error_detail))
        return;
      if (first) {
        // The first request says what the client already holds (after a reconnect) and whether it
        // subscribes to everything (no names, for listeners and clusters) or to a list.
        t.held = new Map(Object.entries(request.initial_resource_versions ?? {}));
        t.subscribed = subscribe.length === 0 && isWildcardType(typeUrl) ? null : new Set();
      }
      const held = t.held ?? new Map<string, string>();
      for (const name of subscribe) {
        if (name === '*') t.subscribed = null;
        else if (t.subscribed !== null) t.subscribed?.add(name);
      }
      for (const name of request.resource_names_unsubscribe ?? []) {
        if (name === '*' && t.subscribed === null) t.subscribed = new Set();
        t.subscribed?.delete(name);
        held.delete(name);
      }
      t.watch = { names: null, version: '' };
      flush();
    });
  }

  /** Sends, per type in push order, what changed against what the client holds. */
  #flushDelta(call: ServerDuplexStream<WireDeltaRequest, unknown>, state: StreamState): void {
    const snapshot = this.#cache.getSnapshot(state.info.key);
    if (snapshot === undefined || state.closed) return;
    for (const type of PUSH_ORDER) {
      const t = state.types.get(type);
      if (t?.watch === undefined || t.held === undefined) continue;
      const current = snapshot.resources(type);
      if (current.version === t.rejectedVersion) continue;
      const wanted =
        t.subscribed === null || t.subscribed === undefined ? [...current.items.keys()] : [...t.subscribed];
      const changed = wanted.flatMap((name) => {
        const r = current.items.get(name);
        return r !== undefined && t.held?.get(name) !== r.hash ? [r] : [];
      });
      const removed = [...t.held.keys()].filter(
        (name) => !current.items.has(name) || (t.subscribed instanceof Set && !t.subscribed.has(name)),
      );
      if (changed.length === 0 && removed.length === 0) continue;
      let resources: { name: string; version: string; resource: { type_url: string; value: Buffer } }[];
      try {
        resources = changed.map((r) => ({
          name: r.name,
          version: r.hash,
          resource: { type_url: type, value: Buffer.from(encodeResource(type, r)) },
        }));
      } catch (error) {
        this.#callbacks.onError?.(state.info, error as Error);
        continue;
      }
      for (const r of changed) t.held.set(r.name, r.hash);
      for (const name of removed) t.held.delete(name);
      const nonce = this.#nextNonce();
      t.watch = undefined;
      t.nonce = nonce;
      t.sentVersion = current.version;
      call.write({
        system_version_info: current.version,
        resources,
        removed_resources: removed,
        type_url: type,
        nonce,
      });
      this.#callbacks.onResponse?.(
        state.info,
        type,
        current.version,
        changed.map((r) => r.name),
      );
    }
  }
}
