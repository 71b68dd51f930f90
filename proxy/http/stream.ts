/**
 * The codec-neutral shapes the request pipeline works with, so one pipeline serves HTTP/1.1 and
 * HTTP/2 on both sides: a downstream codec turns wire traffic into a {@link RequestHead} plus body
 * events and gives the pipeline a {@link ResponseSink}; an upstream codec takes a head and body
 * and calls {@link UpstreamCallbacks}.
 */
import type { HeaderList } from './headers.js';

/** A request as the pipeline sees it: pseudo-headers split out, hop-by-hop headers removed. */
export interface RequestHead {
  method: string;
  /** Path with query. */
  path: string;
  /** Host (`:authority` or `host`), possibly with a port. */
  authority: string;
  scheme: 'http' | 'https';
  /** Regular headers, lowercase names, without `host` / pseudo-headers / hop-by-hop headers. */
  headers: HeaderList;
}

/** Where the pipeline writes the response to the downstream client. */
export interface ResponseSink {
  /** Downstream protocol, for access logs and protocol-specific replies. */
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  /** Sends `100 Continue` (HTTP/1.1 only; a no-op elsewhere). */
  sendContinue(): void;
  /** Sends the response head; `endStream` when there is no body. */
  writeHead(status: number, headers: HeaderList, endStream: boolean): void;
  /** Sends body bytes; returns false when the client is slow (wait for `onDrain`). */
  writeData(chunk: Buffer): boolean;
  /** Ends the response, with trailers when given (HTTP/2 sends them; HTTP/1 chunked too). */
  end(trailers?: HeaderList): void;
  /** Aborts the response (connection reset / RST_STREAM). */
  reset(): void;
  /** Calls `callback` once when the client can take more data. */
  onDrain(callback: () => void): void;
  /** Bytes of response body sent so far. */
  readonly bytesSent: number;
}

/** Lets the pipeline hold back the request body while the upstream is slow. */
export interface BodyFlow {
  pause(): void;
  resume(): void;
}

/** What an upstream request reports. Exactly one of `onReset` or the final `onEnd` ends it. */
export interface UpstreamCallbacks {
  /** 1xx other than 101 (only 100 is forwarded). */
  onInformational(status: number): void;
  /** The response head. */
  onHeaders(status: number, headers: HeaderList, endStream: boolean): void;
  onData(chunk: Buffer): void;
  /** The response ended, with trailers when the upstream sent any. */
  onEnd(trailers: HeaderList | undefined): void;
  /**
   * The upstream failed. `beforeHeaders` tells whether a response head had been received;
   * `reason` is Envoy's reset reason word (`connection failure`, `connection termination`,
   * `protocol error`, `overflow`, `local reset`).
   */
  onReset(reason: string, beforeHeaders: boolean): void;
  /** The upstream can take more request body. */
  onDrain(): void;
  /**
   * HTTP/1.1 upstream answered `101 Switching Protocols`: from now on the connection is a raw
   * tunnel. `socket` is handed over (no longer pooled); `rest` holds bytes already read past the head.
   */
  onUpgrade(headers: HeaderList, socket: import('node:net').Socket, rest: Buffer): void;
}

/** One request in flight to an upstream host. */
export interface UpstreamRequest {
  /** Sends request body bytes; false when the upstream is slow (wait for `onDrain`). */
  writeData(chunk: Buffer): boolean;
  /** Ends the request body (with trailers for HTTP/2). */
  end(trailers?: HeaderList): void;
  /** Cancels the request and releases (or destroys) its connection. */
  abort(): void;
  /** Stops reading the response (the client is slow). */
  pauseResponse(): void;
  /** Resumes reading the response. */
  resumeResponse(): void;
}
