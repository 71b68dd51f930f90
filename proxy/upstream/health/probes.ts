/**
 * One active health check attempt against one host, per Envoy checker type: HTTP (HTTP/1.1 via
 * node:http, or h2c via node:http2), TCP (connect, optional send, fuzzy in-order receive) and
 * gRPC (`grpc.health.v1.Health/Check` framed by hand over node:http2). Each attempt resolves
 * with an outcome and never rejects: a broken upstream is a failed check, never a crash.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import {
  dialUpstream,
  type UpstreamEndpoint,
  type UpstreamTlsOptions,
  upstreamUrl,
} from '../../http/connect.js';
import type { Host } from '../host.js';

/** What one check found. */
export type CheckOutcome =
  | { readonly kind: 'healthy'; readonly degraded: boolean }
  /** The host answered, wrongly; `immediate` skips the unhealthy threshold (Envoy: an unexpected HTTP status). */
  | { readonly kind: 'unhealthy'; readonly immediate: boolean }
  /** Connect failure, reset or protocol error. */
  | { readonly kind: 'network' }
  /** No answer within the timeout. */
  | { readonly kind: 'timeout' };

/** A health check probe of one type. */
export interface Probe {
  /** Runs one check against `host:port`. Never rejects. */
  check(host: Host, port: number, timeoutMs: number): Promise<CheckOutcome>;
  /** Drops pooled connections. */
  close(): void;
}

const HEALTHY: CheckOutcome = { kind: 'healthy', degraded: false };
const NETWORK: CheckOutcome = { kind: 'network' };
const TIMEOUT: CheckOutcome = { kind: 'timeout' };

/** `[start, end)` status ranges. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

function inRanges(status: number, ranges: StatusRanges): boolean {
  return ranges.some(([a, b]) => status >= a && status < b);
}

/** Where a probe connects: the host's address and the check port, or the host's Unix socket. */
function endpointOf(host: Host, port: number): UpstreamEndpoint {
  return { host: host.address, port, path: host.pipe };
}

/**
 * An h2c session, or h2 over TLS with the cluster's TLS settings, on a socket opened the way the
 * cluster's own connections are (so SNI, TLS versions and Unix sockets behave the same).
 */
function connectH2(host: Host, port: number, t: UpstreamTlsOptions | undefined): http2.ClientHttp2Session {
  const endpoint = endpointOf(host, port);
  return http2.connect(upstreamUrl(endpoint, t !== undefined), {
    createConnection: () => dialUpstream(endpoint, t, ['h2']),
  });
}

/**
 * node:http's agent, but every connection comes from {@link dialUpstream}: an HTTP/1.1 probe over
 * TLS offers `http/1.1` only (a cluster's ALPN list may prefer h2, which this probe cannot speak).
 */
class ProbeAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly tlsOptions: UpstreamTlsOptions | undefined,
  ) {
    super(options);
  }

  override createConnection(options: { host?: string; port?: number; socketPath?: string }): net.Socket {
    return dialUpstream(
      { host: options.host ?? '', port: options.port ?? 0, path: options.socketPath },
      this.tlsOptions,
      ['http/1.1'],
    );
  }
}

/** Settings of an HTTP probe. */
export interface HttpProbeSettings {
  readonly path: string;
  readonly method: string;
  /** Host header (Envoy default: the cluster name). */
  readonly authority: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly expected: StatusRanges;
  readonly retriable: StatusRanges;
  readonly http2: boolean;
  readonly reuseConnection: boolean;
  readonly tls: UpstreamTlsOptions | undefined;
}

function classify(
  status: number,
  headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders,
  s: HttpProbeSettings,
): CheckOutcome {
  if (inRanges(status, s.expected))
    return headers['x-envoy-degraded'] !== undefined ? { kind: 'healthy', degraded: true } : HEALTHY;
  return { kind: 'unhealthy', immediate: !inRanges(status, s.retriable) };
}

/** Envoy's HTTP health checker. */
export class HttpProbe implements Probe {
  private readonly agent: ProbeAgent;
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  constructor(private readonly s: HttpProbeSettings) {
    this.agent = new ProbeAgent({ keepAlive: s.reuseConnection, maxSockets: 1 }, s.tls);
  }

  check(host: Host, port: number, timeoutMs: number): Promise<CheckOutcome> {
    return this.s.http2 ? this.checkH2(host, port, timeoutMs) : this.checkH1(host, port, timeoutMs);
  }

  private checkH1(host: Host, port: number, timeoutMs: number): Promise<CheckOutcome> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: CheckOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(o);
      };
      const options: http.RequestOptions = {
        ...(host.pipe === undefined ? { host: host.address, port } : { socketPath: host.pipe }),
        path: this.s.path,
        method: this.s.method,
        agent: this.agent,
        headers: {
          host: this.s.authority,
          'user-agent': 'Envoy/HC',
          ...this.s.headers,
          ...(this.s.reuseConnection ? {} : { connection: 'close' }),
        },
      };
      const req = http.request(options, (res) => {
        res.resume();
        res.on('error', () => finish(NETWORK));
        res.on('end', () => finish(classify(res.statusCode ?? 0, res.headers, this.s)));
      });
      const timer = setTimeout(() => {
        finish(TIMEOUT);
        req.destroy();
      }, timeoutMs);
      req.on('error', () => finish(NETWORK));
      req.end();
    });
  }

  private session(host: Host, port: number): http2.ClientHttp2Session {
    const key = host.pipe ?? `${host.address}|${port}`;
    const existing = this.sessions.get(key);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const t = this.s.tls;
    const session = connectH2(host, port, t);
    session.on('error', () => this.sessions.delete(key));
    session.on('close', () => this.sessions.delete(key));
    this.sessions.set(key, session);
    return session;
  }

  private checkH2(host: Host, port: number, timeoutMs: number): Promise<CheckOutcome> {
    return new Promise((resolve) => {
      let done = false;
      const session = this.session(host, port);
      const finish = (o: CheckOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (!this.s.reuseConnection || o.kind !== 'healthy') session.close();
        resolve(o);
      };
      const timer = setTimeout(() => {
        finish(TIMEOUT);
        session.destroy();
      }, timeoutMs);
      // Session errors reach the stream too (it is destroyed with the error), so no per-check
      // listener is added to a session that lives across checks.
      const stream = session.request({
        ':method': this.s.method,
        ':path': this.s.path,
        ':authority': this.s.authority,
        'user-agent': 'Envoy/HC',
        ...this.s.headers,
      });
      stream.on('response', (headers) => {
        stream.resume();
        stream.on('end', () => finish(classify(Number(headers[':status'] ?? 0), headers, this.s)));
      });
      stream.on('error', () => finish(NETWORK));
      stream.end();
    });
  }

  close(): void {
    this.agent.destroy();
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

/** Envoy's TCP health checker: connect, send `send`, expect every `receive` block in order. */
export class TcpProbe implements Probe {
  constructor(
    private readonly send: Buffer | undefined,
    private readonly receive: readonly Buffer[],
    private readonly tlsOptions: UpstreamTlsOptions | undefined,
  ) {}

  check(host: Host, port: number, timeoutMs: number): Promise<CheckOutcome> {
    return new Promise((resolve) => {
      let done = false;
      let received = Buffer.alloc(0);
      const t = this.tlsOptions;
      const socket = dialUpstream(endpointOf(host, port), t);
      const finish = (o: CheckOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(o);
      };
      const timer = setTimeout(() => finish(TIMEOUT), timeoutMs);
      socket.once(t === undefined ? 'connect' : 'secureConnect', () => {
        if (this.send !== undefined && this.send.length > 0) socket.write(this.send);
        if (this.receive.length === 0) finish(HEALTHY);
      });
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        // "Fuzzy" matching as Envoy: each block must appear, in order, not necessarily adjacent.
        let from = 0;
        for (const block of this.receive) {
          const at = received.indexOf(block, from);
          if (at < 0) return;
          from = at + block.length;
        }
        finish(HEALTHY);
      });
      socket.on('error', () => finish(NETWORK));
      socket.on('close', () =>
        finish(this.receive.length === 0 ? NETWORK : { kind: 'unhealthy', immediate: false }),
      );
    });
  }

  close(): void {}
}

/** Protobuf encoding of `grpc.health.v1.HealthCheckRequest { string service = 1; }`, gRPC-framed. */
function healthRequestFrame(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** `HealthCheckResponse.status` (field 1, varint) from a gRPC frame; undefined when malformed. */
export function parseHealthResponse(data: Buffer): number | undefined {
  if (data.length < 5 || data[0] !== 0) return undefined;
  const len = data.readUInt32BE(1);
  if (data.length < 5 + len) return undefined;
  const msg = data.subarray(5, 5 + len);
  let i = 0;
  let status = 0; // proto3 default: UNKNOWN
  while (i < msg.length) {
    const tag = msg[i++] as number;
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire !== 0) return undefined;
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = msg[i++];
      if (b === undefined) return undefined;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    if (field === 1) status = value;
  }
  return status;
}

/** Envoy's gRPC health checker (grpc.health.v1; SERVING = 1 is healthy). */
export class GrpcProbe implements Probe {
  private readonly frame: Buffer;

  constructor(
    service: string,
    private readonly authority: string,
    private readonly tlsOptions: UpstreamTlsOptions | undefined,
  ) {
    this.frame = healthRequestFrame(service);
  }

  check(host: Host, port: number, timeoutMs: number): Promise<CheckOutcome> {
    return new Promise((resolve) => {
      let done = false;
      const t = this.tlsOptions;
      const session = connectH2(host, port, t);
      const finish = (o: CheckOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        session.destroy();
        resolve(o);
      };
      const timer = setTimeout(() => finish(TIMEOUT), timeoutMs);
      session.on('error', () => finish(NETWORK));
      const stream = session.request({
        ':method': 'POST',
        ':path': '/grpc.health.v1.Health/Check',
        ':authority': this.authority,
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'Envoy/HC',
      });
      const chunks: Buffer[] = [];
      let httpStatus = 0;
      stream.on('response', (h) => {
        httpStatus = Number(h[':status'] ?? 0);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('trailers', (trailers) => {
        const grpcStatus = trailers['grpc-status'];
        const serving = parseHealthResponse(Buffer.concat(chunks));
        finish(
          httpStatus === 200 && grpcStatus === '0' && serving === 1
            ? HEALTHY
            : { kind: 'unhealthy', immediate: false },
        );
      });
      stream.on('end', () => finish({ kind: 'unhealthy', immediate: false }));
      stream.on('error', () => finish(NETWORK));
      stream.end(this.frame);
    });
  }

  close(): void {}
}
