/**
 * Incremental HTTP/1.x parser over Buffers, for requests (downstream) and responses (upstream).
 *
 * Why our own: node:http allocates an IncomingMessage, a ServerResponse and several streams per
 * request, which costs about two thirds of a proxy's throughput (PLATFORM.md "Measuring"), and
 * Node's llhttp binding is internal. This parser finds the end of the head with one `indexOf`,
 * decodes it once as latin1 (bytes preserved one to one) and streams bodies without buffering
 * them whole.
 *
 * It is strict the way Envoy is, because a proxy that is lenient where its upstream is strict
 * (or the reverse) is how requests get smuggled: bare CR/LF, obs-fold, whitespace before the
 * colon, Content-Length with Transfer-Encoding, duplicate Content-Length, any transfer coding
 * other than a lone `chunked`, malformed chunk sizes and heads over the limit are all errors.
 */
import type { HeaderList } from './headers.js';

/** Why a message could not be parsed, with the status the proxy answers (400, 413, 431, 501). */
export class H1ParseError extends Error {
  /** HTTP status to answer with before closing the connection. */
  readonly status: number;
  /** Short machine-friendly detail, as Envoy's `%RESPONSE_CODE_DETAILS%` does. */
  readonly detail: string;

  constructor(status: number, detail: string) {
    super(`http/1 codec error: ${detail}`);
    this.name = 'H1ParseError';
    this.status = status;
    this.detail = detail;
  }
}

/** How a message body is framed. `close` (response only) means: until the connection closes. */
export type BodyKind = 'none' | 'length' | 'chunked' | 'close';

/** Fields common to a parsed request or response head. */
interface HeadBase {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: number;
  /** Headers in wire order, lowercase names. */
  readonly headers: HeaderList;
  /** Whether the connection may carry another message after this one. */
  readonly keepAlive: boolean;
  /** Body framing. */
  readonly bodyKind: BodyKind;
  /** Body length when `bodyKind` is `length`, else 0. */
  readonly contentLength: number;
  /** Lowercase tokens of the `connection` header (hop-by-hop names to strip). */
  readonly connectionTokens: readonly string[];
}

/** A parsed request head. */
export interface H1RequestHead extends HeadBase {
  readonly method: string;
  /** Origin-form path with query (absolute-form targets are split into `authority` + path). */
  readonly path: string;
  /** Host from the absolute-form target or the `host` header; `''` when missing. */
  readonly authority: string;
  /**
   * `Connection: upgrade` with an `Upgrade` header: the protocol asked for, lowercase; `connect`
   * for a CONNECT request (Envoy's upgrade type CONNECT).
   */
  readonly upgrade: string | undefined;
  /** `Expect: 100-continue` was sent. */
  readonly expectContinue: boolean;
  /**
   * A hop-by-hop header (`connection`, `te`, `upgrade`, `transfer-encoding`, `keep-alive`,
   * `proxy-connection`, `http2-settings`) is present: a proxy must filter the list before
   * forwarding. False for most requests, which then skip that walk.
   */
  readonly hopByHop: boolean;
}

/** A parsed response head. */
export interface H1ResponseHead extends HeadBase {
  readonly status: number;
  readonly reason: string;
}

/** Callbacks a parser drives. `onHead` may call {@link H1Parser.pause}. */
export interface H1Handler<H> {
  onHead(head: H): void;
  onBody(chunk: Buffer): void;
  /** Trailers of a chunked message (often empty). */
  onTrailers(trailers: HeaderList): void;
  onComplete(): void;
}

/** Limits; defaults follow Envoy. */
export interface H1Limits {
  /** Largest header section in bytes. @default - 60 KiB (Envoy's max_request_headers_kb default) */
  readonly maxHeaderBytes?: number;
  /** Most headers in one message. @default - 100 (Envoy's max_headers_count default) */
  readonly maxHeaderCount?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control characters other than HTAB, CR and LF (CR/LF are checked by line splitting).
const BAD_CTL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const HEX = /^[0-9a-fA-F]{1,15}$/;
/** Spaces and tabs at either end of a trailer value. */
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;
/** Inputs up to this size are decoded whole to find the end of the head (see parseHead). */
const SMALL_INPUT = 2048;

/** Character classes of latin1 code units, for the head scanner (a table beats regexes there). */
const C_TOKEN = 1;
const C_UPPER = 2;
/** Control characters other than HTAB, CR and LF. */
const C_BAD_CTL = 4;
/** Not allowed in a request target: controls, space, DEL. */
const C_NOT_TARGET = 8;
const CHAR_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  let f = 0;
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (alpha || (c >= 0x30 && c <= 0x39) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) f |= C_TOKEN;
  if (c >= 0x41 && c <= 0x5a) f |= C_UPPER;
  if (c <= 0x08 || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c === 0x7f) f |= C_BAD_CTL;
  if (c <= 0x20 || c === 0x7f) f |= C_NOT_TARGET;
  CHAR_CLASS[c] = f;
}
/**
 * Header names common enough to look up instead of slicing and lower-casing a new string per
 * message; the name then is this (internalized) constant, which later comparisons settle by
 * identity. Only `[a-z0-9-]` here: see {@link knownName}.
 */
const KNOWN_NAMES = [
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'age',
  'authorization',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'expires',
  'grpc-encoding',
  'grpc-message',
  'grpc-status',
  'host',
  'keep-alive',
  'last-modified',
  'location',
  'origin',
  'pragma',
  'referer',
  'server',
  'set-cookie',
  'te',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'vary',
  'via',
  'x-envoy-upstream-service-time',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
];
/** KNOWN_NAMES by length. */
const KNOWN_BY_LENGTH: string[][] = [];
for (const name of KNOWN_NAMES) {
  while (KNOWN_BY_LENGTH.length <= name.length) KNOWN_BY_LENGTH.push([]);
  (KNOWN_BY_LENGTH[name.length] as string[]).push(name);
}

/**
 * The known name `text[from, to)` spells in any letter case, or undefined. `c | 0x20` lower-cases
 * a letter and leaves digits and `-` alone; no other token character maps onto `[a-z0-9-]`.
 */
function knownName(bytes: Uint8Array, from: number, to: number): string | undefined {
  const candidates = KNOWN_BY_LENGTH[to - from];
  if (candidates === undefined) return undefined;
  next: for (let k = 0; k < candidates.length; k++) {
    const name = candidates[k] as string;
    for (let i = 0; i < name.length; i++) {
      if (((bytes[from + i] as number) | 0x20) !== name.charCodeAt(i)) continue next;
    }
    return name;
  }
  return undefined;
}

/** A CONNECT target: reg-name, IPv4 or bracketed IPv6, then a port. */
const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]{1,5}$/;

/** Shared by every head without a `connection` header; never mutated. */
const NO_TOKENS: string[] = [];

const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_DATA_END = 4;
const S_TRAILERS = 5;
const S_BODY_CLOSE = 6;
const S_PAUSED_AFTER_MESSAGE = 7;
const S_UPGRADED = 8;
const S_ERROR = 9;

const EMPTY = Buffer.alloc(0);

/**
 * One parser per connection direction. Feed bytes with {@link execute}; the parser calls the
 * handler synchronously. After each complete message it stops and keeps any following bytes
 * (a pipelined request) until {@link resume} is called, so a connection handles one message at
 * a time, in order.
 */
export class H1Parser<H extends H1RequestHead | H1ResponseHead> {
  private state = S_HEAD;
  private pending: Buffer = EMPTY;
  private remaining = 0;
  private scanFrom = 0;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaderCount: number;
  /** Scratch: where each line of the head being parsed ends (start line first). */
  private readonly lineEnds: Int32Array;
  private trailerBytes = 0;
  private trailers: HeaderList = [];
  private paused = false;
  /** The last error, once the parser failed (it then ignores input). */
  error: H1ParseError | undefined;
  /** Response parsing only: the request was HEAD (so the response has no body whatever its headers). */
  expectNoBody = false;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly handler: H1Handler<H>,
    limits: H1Limits = {},
  ) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? 60 * 1024;
    this.maxHeaderCount = limits.maxHeaderCount ?? 100;
    this.lineEnds = new Int32Array(this.maxHeaderCount + 2);
  }

  /** True between messages while the next head has not started arriving. */
  get idle(): boolean {
    return this.state === S_HEAD && this.pending.length === 0;
  }

  /** Bytes received but not yet delivered (a partial head, or pipelined requests waiting). */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** True while a message head has been received and its body is still arriving. */
  get inBody(): boolean {
    return this.state >= S_BODY_LENGTH && this.state <= S_BODY_CLOSE;
  }

  /** Feeds bytes. Throws nothing: errors land in {@link error} and are rethrown as the return. */
  execute(data: Buffer): H1ParseError | undefined {
    if (this.state === S_ERROR) return this.error;
    if (this.state === S_UPGRADED) {
      this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
      return undefined;
    }
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    if (this.paused) return undefined;
    try {
      this.run();
    } catch (error) {
      if (error instanceof H1ParseError) return this.fail(error);
      throw error;
    }
    return undefined;
  }

  /**
   * Gives bytes still buffered (a partial head, a pipelined message) memory of their own: needed
   * after {@link execute} was fed a view of a buffer its owner reuses (raw socket reads).
   */
  ownBuffered(): void {
    if (this.pending.length > 0) this.pending = Buffer.from(this.pending);
  }

  /** Stops delivering messages; bytes keep accumulating until {@link resume}. */
  pause(): void {
    this.paused = true;
  }

  /** Continues after a pause (the previous response was sent): parses any buffered bytes. */
  resume(): H1ParseError | undefined {
    if (this.state === S_ERROR) return this.error;
    this.paused = false;
    if (this.state === S_PAUSED_AFTER_MESSAGE) this.state = S_HEAD;
    if (this.pending.length === 0) return undefined;
    try {
      this.run();
    } catch (error) {
      if (error instanceof H1ParseError) return this.fail(error);
      throw error;
    }
    return undefined;
  }

  /** Switches to raw mode after an upgrade: returns the bytes already buffered past the head. */
  takeUpgradeBytes(): Buffer {
    this.state = S_UPGRADED;
    const rest = this.pending;
    this.pending = EMPTY;
    return rest;
  }

  /**
   * The peer closed. Completes a close-delimited response; returns an error if a message was
   * cut short (truncated head or body).
   */
  finish(): H1ParseError | undefined {
    if (this.state === S_BODY_CLOSE) {
      this.state = S_PAUSED_AFTER_MESSAGE;
      this.handler.onComplete();
      return undefined;
    }
    if (this.state === S_HEAD && this.pending.length === 0) return undefined;
    if (this.state === S_PAUSED_AFTER_MESSAGE || this.state === S_UPGRADED || this.state === S_ERROR) {
      return undefined;
    }
    return this.fail(new H1ParseError(400, 'connection closed mid-message'));
  }

  private fail(error: H1ParseError): H1ParseError {
    this.state = S_ERROR;
    this.error = error;
    this.pending = EMPTY;
    return error;
  }

  private run(): void {
    for (;;) {
      if (this.paused) return;
      switch (this.state) {
        case S_HEAD:
          if (!this.parseHead()) return;
          break;
        case S_BODY_LENGTH: {
          const buf = this.pending;
          if (buf.length === 0) return;
          if (buf.length <= this.remaining) {
            this.pending = EMPTY;
            this.remaining -= buf.length;
            this.handler.onBody(buf);
          } else {
            this.pending = buf.subarray(this.remaining);
            const chunk = buf.subarray(0, this.remaining);
            this.remaining = 0;
            this.handler.onBody(chunk);
          }
          if (this.remaining === 0) this.complete();
          break;
        }
        case S_CHUNK_SIZE:
          if (!this.parseChunkSize()) return;
          break;
        case S_CHUNK_DATA: {
          const buf = this.pending;
          if (buf.length === 0) return;
          const take = Math.min(buf.length, this.remaining);
          const chunk = take === buf.length ? buf : buf.subarray(0, take);
          this.pending = take === buf.length ? EMPTY : buf.subarray(take);
          this.remaining -= take;
          if (this.remaining === 0) this.state = S_CHUNK_DATA_END;
          this.handler.onBody(chunk);
          break;
        }
        case S_CHUNK_DATA_END: {
          const buf = this.pending;
          if (buf.length < 2) {
            if (buf.length === 1 && buf[0] !== 13)
              throw new H1ParseError(400, 'chunk data not followed by CRLF');
            return;
          }
          if (buf[0] !== 13 || buf[1] !== 10) throw new H1ParseError(400, 'chunk data not followed by CRLF');
          this.pending = buf.subarray(2);
          this.state = S_CHUNK_SIZE;
          break;
        }
        case S_TRAILERS:
          if (!this.parseTrailerLine()) return;
          break;
        case S_BODY_CLOSE: {
          const buf = this.pending;
          if (buf.length === 0) return;
          this.pending = EMPTY;
          this.handler.onBody(buf);
          return;
        }
        default:
          return;
      }
    }
  }

  private complete(): void {
    this.state = S_PAUSED_AFTER_MESSAGE;
    this.paused = true;
    this.handler.onComplete();
  }

  /**
   * Parses a head if the whole of it has arrived; returns false to wait for more bytes.
   *
   * The head is decoded once (latin1) and walked by char code with a class table instead of
   * split + regexes: this runs twice per proxied request (request and response head) and was the
   * largest piece of the proxy's own CPU. Checks and their order are those of a line-by-line
   * reading: control characters anywhere, then the header count, then each line in order.
   */
  private parseHead(): boolean {
    const buf = this.pending;
    if (buf.length === 0) return false;
    let text: string;
    let end: number;
    if (buf.length <= SMALL_INPUT && buf.length <= this.maxHeaderBytes) {
      // The usual case (a head, often with a small body): decode it all once and search the
      // string, one native call instead of two. The scan below stops at `end`.
      text = buf.toString('latin1');
      end = text.indexOf('\r\n\r\n', this.scanFrom);
      if (end < 0) {
        // A bare-LF head (`\n\n`) would never match CRLFCRLF: refuse it instead of waiting.
        if (text.indexOf('\n\n') >= 0) throw new H1ParseError(400, 'bare LF in head');
        this.scanFrom = Math.max(0, buf.length - 3);
        return false;
      }
    } else {
      end = buf.indexOf(CRLFCRLF, this.scanFrom);
      if (end < 0) {
        if (buf.length > this.maxHeaderBytes) throw new H1ParseError(431, 'headers too large');
        if (buf.indexOf('\n\n', 0, 'latin1') >= 0) throw new H1ParseError(400, 'bare LF in head');
        this.scanFrom = Math.max(0, buf.length - 3);
        return false;
      }
      text = buf.toString('latin1', 0, end);
    }
    this.scanFrom = 0;
    if (end + 4 > this.maxHeaderBytes) throw new H1ParseError(431, 'headers too large');
    this.pending = end + 4 === buf.length ? EMPTY : buf.subarray(end + 4);
    // One pass: control characters (an error anywhere), the number of CRLF-separated lines, and
    // whether a CR or LF stands outside a CRLF pair (then each line is checked for one).
    // The scans read the bytes (typed-array loads are about three times faster than charCodeAt
    // on a string); `text` has the same indexes and gives the slices.
    const n = end;
    const ends = this.lineEnds;
    let lineCount = 1;
    let bare = false;
    for (let i = 0; i < n; i++) {
      const c = buf[i] as number;
      if (c < 0x20 || c === 0x7f) {
        if (((CHAR_CLASS[c] as number) & C_BAD_CTL) !== 0)
          throw new H1ParseError(400, 'control character in head');
        if (c === 13) {
          if (buf[i + 1] === 10) {
            if (lineCount <= ends.length) ends[lineCount - 1] = i;
            lineCount++;
            i++;
          } else {
            bare = true;
          }
        } else if (c === 10) {
          bare = true;
        }
      }
    }
    if (lineCount <= ends.length) ends[lineCount - 1] = n;
    const firstEnd = ends[0] as number;
    // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line;
    // Envoy does not, and neither do we (an empty first line means a stray CRLF).
    if (firstEnd === 0) throw new H1ParseError(400, 'empty start line');
    const headers: HeaderList = [];
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let connection: string | undefined;
    let upgradeHeader: string | undefined;
    let host: string | undefined;
    let expect: string | undefined;
    let hopByHop = false;
    if (lineCount - 1 > this.maxHeaderCount) throw new H1ParseError(431, 'too many headers');
    for (let k = 1; k < lineCount; k++) {
      const s = (ends[k - 1] as number) + 2;
      const e = ends[k] as number;
      if (bare && hasCrOrLf(buf, s, e)) throw new H1ParseError(400, 'bare CR or LF in header');
      const c0 = buf[s];
      if (s < e && (c0 === 32 || c0 === 9)) throw new H1ParseError(400, 'obs-fold in header');
      let colon = -1;
      let tokenAll = C_TOKEN;
      let upperAny = 0;
      for (let i = s; i < e; i++) {
        const c = buf[i] as number;
        if (c === 58 /* : */) {
          colon = i;
          break;
        }
        const f = CHAR_CLASS[c] as number;
        tokenAll &= f;
        upperAny |= f;
      }
      if (colon <= s) throw new H1ParseError(400, 'header without a colon');
      if (tokenAll === 0) throw new H1ParseError(400, 'invalid header name');
      let name = knownName(buf, s, colon);
      if (name === undefined) {
        const raw = text.slice(s, colon);
        name = (upperAny & C_UPPER) === 0 ? raw : raw.toLowerCase();
      }
      const value = trimOws(buf, text, colon + 1, e);
      headers.push(name, value);
      switch (name) {
        case 'content-length':
          if (contentLength >= 0) throw new H1ParseError(400, 'duplicate content-length');
          if (!isDigits(value)) throw new H1ParseError(400, 'invalid content-length');
          contentLength = Number(value);
          break;
        case 'transfer-encoding':
          if (transferEncoding !== undefined) throw new H1ParseError(400, 'duplicate transfer-encoding');
          transferEncoding = value.toLowerCase();
          hopByHop = true;
          break;
        case 'connection':
          connection = connection === undefined ? value : `${connection},${value}`;
          hopByHop = true;
          break;
        case 'upgrade':
          upgradeHeader = value;
          hopByHop = true;
          break;
        case 'host':
          if (host !== undefined) throw new H1ParseError(400, 'duplicate host');
          host = value;
          break;
        case 'expect':
          expect = value;
          break;
        case 'keep-alive':
        case 'proxy-connection':
        case 'http2-settings':
        case 'te':
          hopByHop = true;
          break;
        default:
          break;
      }
    }
    const connectionTokens = connection === undefined ? NO_TOKENS : splitTokens(connection);
    if (this.kind === 'request') {
      this.finishRequestHead(
        buf,
        text,
        firstEnd,
        headers,
        hopByHop,
        contentLength,
        transferEncoding,
        connectionTokens,
        upgradeHeader,
        host,
        expect,
      );
    } else {
      this.finishResponseHead(
        buf,
        text,
        firstEnd,
        headers,
        contentLength,
        transferEncoding,
        connectionTokens,
      );
    }
    return true;
  }

  private finishRequestHead(
    buf: Buffer,
    text: string,
    lineEnd: number,
    headers: HeaderList,
    hopByHop: boolean,
    contentLength: number,
    transferEncoding: string | undefined,
    connectionTokens: string[],
    upgradeHeader: string | undefined,
    host: string | undefined,
    expect: string | undefined,
  ): void {
    const sp1 = text.indexOf(' ');
    const sp2 = sp1 < 0 || sp1 >= lineEnd ? -1 : text.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp1 >= lineEnd || sp2 < 0 || sp2 >= lineEnd)
      throw new H1ParseError(400, 'malformed request line');
    const third = text.indexOf(' ', sp2 + 1);
    if (third >= 0 && third < lineEnd) throw new H1ParseError(400, 'malformed request line');
    if (!isToken(buf, 0, sp1)) throw new H1ParseError(400, 'invalid method');
    const method = text.slice(0, sp1);
    let versionMinor: number;
    if (lineEnd - sp2 - 1 === 8 && text.startsWith('HTTP/1.1', sp2 + 1)) versionMinor = 1;
    else if (lineEnd - sp2 - 1 === 8 && text.startsWith('HTTP/1.0', sp2 + 1)) versionMinor = 0;
    else if (/^HTTP\/\d\.\d$/.test(text.slice(sp2 + 1, lineEnd)))
      throw new H1ParseError(505, 'unsupported http version');
    else throw new H1ParseError(400, 'malformed http version');
    if (sp2 === sp1 + 1 || !isTarget(buf, sp1 + 1, sp2))
      throw new H1ParseError(400, 'invalid request target');
    const target = text.slice(sp1 + 1, sp2);
    let path = target;
    let authority = host ?? '';
    const connect = method === 'CONNECT';
    if (connect) {
      // RFC 9112 3.2.3: CONNECT takes the authority form (host:port) and nothing else; the bytes after
      // the head belong to the tunnel, so a CONNECT with body framing is refused (no smuggling path).
      if (!AUTHORITY_FORM.test(target)) throw new H1ParseError(400, 'invalid CONNECT target');
      const port = Number(target.slice(target.lastIndexOf(':') + 1));
      if (port < 1 || port > 65535) throw new H1ParseError(400, 'invalid CONNECT target');
      if (transferEncoding !== undefined || contentLength > 0)
        throw new H1ParseError(400, 'CONNECT with a body');
      authority = target;
      path = '';
    } else if (target.charCodeAt(0) !== 47 /* / */) {
      if (target === '*' && method === 'OPTIONS') {
        path = '*';
      } else {
        const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(target);
        if (m === null) throw new H1ParseError(400, 'invalid request target');
        authority = m[1] as string;
        path = m[2] === '' ? '/' : (m[2] as string);
      }
    }
    if (versionMinor === 1 && host === undefined && !connect)
      throw new H1ParseError(400, 'missing host header');
    let kind: BodyKind = 'none';
    let length = 0;
    if (transferEncoding !== undefined) {
      if (contentLength >= 0) throw new H1ParseError(400, 'content-length and transfer-encoding');
      if (versionMinor === 0) throw new H1ParseError(400, 'transfer-encoding in HTTP/1.0');
      if (transferEncoding !== 'chunked') throw new H1ParseError(501, 'unsupported transfer encoding');
      kind = 'chunked';
    } else if (contentLength > 0) {
      kind = 'length';
      length = contentLength;
    }
    const closeTok = connectionTokens.length > 0 && connectionTokens.includes('close');
    // A CONNECT never leaves the connection for another request: whatever follows its head is
    // tunnel payload, so a refused CONNECT closes the connection.
    const keepAlive =
      !connect && (versionMinor === 1 ? !closeTok : connectionTokens.includes('keep-alive') && !closeTok);
    const upgrade = connect
      ? 'connect'
      : upgradeHeader !== undefined && connectionTokens.includes('upgrade')
        ? upgradeHeader.toLowerCase()
        : undefined;
    const head: H1RequestHead = {
      method,
      path,
      authority,
      versionMinor,
      headers,
      keepAlive,
      bodyKind: kind,
      contentLength: length,
      connectionTokens,
      upgrade,
      expectContinue: versionMinor === 1 && expect !== undefined && expect.toLowerCase() === '100-continue',
      hopByHop,
    };
    this.startBody(kind, length);
    this.handler.onHead(head as H);
    if (kind === 'none') this.complete();
  }

  private finishResponseHead(
    buf: Buffer,
    text: string,
    lineEnd: number,
    headers: HeaderList,
    contentLength: number,
    transferEncoding: string | undefined,
    connectionTokens: string[],
  ): void {
    // `HTTP/1.[01] DDD[ reason]`, the reason without CR or LF.
    const v = buf[7] as number;
    const d1 = (buf[9] as number) - 48;
    const d2 = (buf[10] as number) - 48;
    const d3 = (buf[11] as number) - 48;
    if (
      lineEnd < 12 ||
      !text.startsWith('HTTP/1.', 0) ||
      (v !== 48 && v !== 49) ||
      buf[8] !== 32 ||
      !(d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9) ||
      (lineEnd > 12 && (buf[12] !== 32 || hasCrOrLf(buf, 13, lineEnd)))
    ) {
      throw new H1ParseError(400, 'malformed status line');
    }
    const versionMinor = v - 48;
    const status = d1 * 100 + d2 * 10 + d3;
    if (status < 100) throw new H1ParseError(400, 'invalid status code');
    const reason = lineEnd > 13 ? text.slice(13, lineEnd) : '';
    const closeTok = connectionTokens.length > 0 && connectionTokens.includes('close');
    let keepAlive = versionMinor === 1 ? !closeTok : connectionTokens.includes('keep-alive') && !closeTok;
    let kind: BodyKind;
    let length = 0;
    if (status < 200 || status === 204 || status === 304 || this.expectNoBody) {
      kind = 'none';
    } else if (transferEncoding !== undefined) {
      if (contentLength >= 0) throw new H1ParseError(400, 'content-length and transfer-encoding');
      if (transferEncoding !== 'chunked') throw new H1ParseError(400, 'unsupported transfer encoding');
      kind = 'chunked';
    } else if (contentLength >= 0) {
      kind = contentLength === 0 ? 'none' : 'length';
      length = contentLength;
    } else {
      kind = 'close';
      keepAlive = false;
    }
    const head: H1ResponseHead = {
      status,
      reason,
      versionMinor,
      headers,
      keepAlive,
      bodyKind: kind,
      contentLength: length,
      connectionTokens,
    };
    this.startBody(kind, length);
    this.handler.onHead(head as H);
    // 1xx heads (100 Continue) are informational: the real response follows on the same parser.
    if (status >= 100 && status < 200 && status !== 101) {
      this.state = S_HEAD;
      return;
    }
    if (kind === 'none') this.complete();
  }

  private startBody(kind: BodyKind, length: number): void {
    this.trailers = [];
    this.trailerBytes = 0;
    if (kind === 'length') {
      this.state = S_BODY_LENGTH;
      this.remaining = length;
    } else if (kind === 'chunked') {
      this.state = S_CHUNK_SIZE;
    } else if (kind === 'close') {
      this.state = S_BODY_CLOSE;
    }
  }

  private parseChunkSize(): boolean {
    const buf = this.pending;
    const lf = buf.indexOf(10);
    if (lf < 0) {
      if (buf.length > 1024) throw new H1ParseError(400, 'chunk size line too long');
      return false;
    }
    if (lf === 0 || buf[lf - 1] !== 13) throw new H1ParseError(400, 'bare LF in chunk size');
    const line = buf.toString('latin1', 0, lf - 1);
    this.pending = buf.subarray(lf + 1);
    const semi = line.indexOf(';');
    const sizeText = semi < 0 ? line : line.slice(0, semi);
    if (!HEX.test(sizeText)) throw new H1ParseError(400, 'invalid chunk size');
    if (semi >= 0 && (BAD_CTL.test(line) || line.includes('\r')))
      throw new H1ParseError(400, 'invalid chunk extension');
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) {
      this.state = S_TRAILERS;
    } else {
      this.remaining = size;
      this.state = S_CHUNK_DATA;
    }
    return true;
  }

  private parseTrailerLine(): boolean {
    const buf = this.pending;
    const lf = buf.indexOf(10);
    if (lf < 0) {
      if (this.trailerBytes + buf.length > this.maxHeaderBytes)
        throw new H1ParseError(431, 'trailers too large');
      return false;
    }
    if (lf === 0 || buf[lf - 1] !== 13) throw new H1ParseError(400, 'bare LF in trailers');
    this.trailerBytes += lf + 1;
    if (this.trailerBytes > this.maxHeaderBytes) throw new H1ParseError(431, 'trailers too large');
    const line = buf.toString('latin1', 0, lf - 1);
    this.pending = buf.subarray(lf + 1);
    if (line.length === 0) {
      const trailers = this.trailers;
      this.trailers = [];
      this.handler.onTrailers(trailers);
      this.complete();
      return true;
    }
    if (BAD_CTL.test(line) || line.includes('\r'))
      throw new H1ParseError(400, 'control character in trailer');
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) throw new H1ParseError(400, 'obs-fold in trailer');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new H1ParseError(400, 'trailer without a colon');
    const rawName = line.slice(0, colon);
    if (!TOKEN.test(rawName)) throw new H1ParseError(400, 'invalid trailer name');
    this.trailers.push(rawName.toLowerCase(), line.slice(colon + 1).replace(OWS_EDGES, ''));
    return true;
  }
}

/** `text[from, to)` without leading and trailing spaces and tabs (`bytes` has the same indexes). */
function trimOws(bytes: Uint8Array, text: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end) {
    const c = bytes[start];
    if (c !== 32 && c !== 9) break;
    start++;
  }
  while (end > start) {
    const c = bytes[end - 1];
    if (c !== 32 && c !== 9) break;
    end--;
  }
  return text.slice(start, end);
}

/** True when `bytes[from, to)` holds a CR or LF. */
function hasCrOrLf(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c === 13 || c === 10) return true;
  }
  return false;
}

/** True when `bytes[from, to)` is a non-empty token (RFC 9110 tchar). */
function isToken(bytes: Uint8Array, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    if (((CHAR_CLASS[bytes[i] as number] as number) & C_TOKEN) === 0) return false;
  }
  return true;
}

/** True when `bytes[from, to)` has no control character, space or DEL. */
function isTarget(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    if (((CHAR_CLASS[bytes[i] as number] as number) & C_NOT_TARGET) !== 0) return false;
  }
  return true;
}

/** 1 to 15 ASCII digits (a Content-Length value). */
function isDigits(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Splits a comma-separated token list (e.g. `Connection`) into lowercase tokens. */
export function splitTokens(value: string): string[] {
  if (value.indexOf(',') < 0) {
    // One token (`keep-alive`, `close`): no split array.
    const t = value.trim().toLowerCase();
    return t.length > 0 ? [t] : [];
  }
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t.length > 0) out.push(t);
  }
  return out;
}
