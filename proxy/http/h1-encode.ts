/**
 * HTTP/1.1 serialisation: heads are built as one latin1 string (one write, bytes of obs-text
 * values preserved), bodies as chunked frames when their length is unknown.
 */
import { STATUS_CODES } from 'node:http';
import type { HeaderList } from './headers.js';

/** Builds `METHOD path HTTP/1.1` + headers + blank line. */
export function encodeRequestHead(method: string, path: string, headers: HeaderList): string {
  let out = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${out}\r\n`;
}

const STATUS_LINES = new Map<number, string>();
const STATUS_LINES_10 = new Map<number, string>();

/**
 * Builds `HTTP/1.1 status reason` + headers + blank line; `HTTP/1.0 ...` for an HTTP/1.0 client
 * (as Envoy answers one when accept_http_10 lets it in).
 */
export function encodeResponseHead(status: number, headers: HeaderList, http10 = false): string {
  const lines = http10 ? STATUS_LINES_10 : STATUS_LINES;
  let out = lines.get(status);
  if (out === undefined) {
    out = `${http10 ? 'HTTP/1.0' : 'HTTP/1.1'} ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (lines.size < 1000) lines.set(status, out);
  }
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${out}\r\n`;
}

/** The size line that precedes a chunk of `length` bytes. */
export function chunkHeader(length: number): string {
  return `${length.toString(16)}\r\n`;
}

/** CRLF after a chunk's data. */
export const CRLF = '\r\n';

/** The last chunk, without trailers. */
export const LAST_CHUNK = '0\r\n\r\n';

/** The last chunk followed by trailers. */
export function lastChunkWithTrailers(trailers: HeaderList): string {
  let out = '0\r\n';
  for (let i = 0; i < trailers.length; i += 2) out += `${trailers[i]}: ${trailers[i + 1]}\r\n`;
  return `${out}\r\n`;
}

/**
 * Hop-by-hop headers a proxy never forwards (RFC 9110 7.6.1, plus the legacy ones Envoy strips).
 * `te` is handled apart: `te: trailers` survives (gRPC needs it).
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]);

/**
 * {@link HOP_BY_HOP} as a switch: the hot path asks this of every response header, and a Set
 * lookup hashes each freshly parsed name first.
 */
export function isHopByHop(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
    case 'http2-settings':
    case 'te':
      return true;
    default:
      return false;
  }
}

/**
 * Copies `headers` without hop-by-hop headers, those named in `connectionTokens`, and
 * `content-length` when `dropLength` (the body will be re-framed). Keeps `te: trailers`.
 */
export function stripHopByHop(
  headers: HeaderList,
  connectionTokens: readonly string[],
  keepUpgrade: boolean,
  dropLength = false,
): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (HOP_BY_HOP.has(name)) {
      if (name === 'te' && value.toLowerCase() === 'trailers') out.push(name, value);
      else if (keepUpgrade && name === 'upgrade') out.push(name, value);
      continue;
    }
    if (dropLength && name === 'content-length') continue;
    if (connectionTokens.length > 0 && connectionTokens.includes(name) && name !== 'upgrade') continue;
    out.push(name, value);
  }
  return out;
}
