/**
 * Conversions between node:http2 header objects and the flat {@link HeaderList}, shared by the
 * HTTP/2 downstream server and the HTTP/2 upstream sessions.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { HeaderList } from './headers.js';

/** Headers HTTP/2 forbids (RFC 9113 8.2.2); never sent on an HTTP/2 stream. */
const H2_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * Flattens node:http2 headers (pseudo-headers skipped) into a HeaderList. node:http2 already
 * lowercases names; multi-valued headers arrive as arrays and `cookie` crumbs joined.
 */
export function fromH2Headers(headers: IncomingHttpHeaders): HeaderList {
  const out: HeaderList = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/**
 * Builds node:http2 headers from a HeaderList plus pseudo-headers, dropping connection-specific
 * headers and any `te` other than `trailers`.
 */
export function toH2Headers(headers: HeaderList, pseudo: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...pseudo };
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (H2_FORBIDDEN.has(name)) continue;
    if (name === 'te' && value.toLowerCase() !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}
