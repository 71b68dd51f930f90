/**
 * `x-forwarded-client-cert` (XFCC), as the HTTP connection manager's `forward_client_cert_details`
 * and `set_current_client_cert_details` ask:
 *
 * - `SANITIZE` (Envoy's default): the header is removed, so a client cannot claim an identity;
 * - `FORWARD_ONLY`: kept on mTLS connections, removed otherwise;
 * - `APPEND_FORWARD`: on mTLS connections, this hop's element is appended; removed otherwise;
 * - `SANITIZE_SET`: on mTLS connections, replaced by this hop's element; removed otherwise;
 * - `ALWAYS_FORWARD_ONLY`: always kept as it came.
 *
 * An element is `By=<our certificate's URI SAN>;Hash=<SHA-256 of the client certificate>`, then
 * `Subject="..."`, `URI=...` and `DNS=...` entries when set_current_client_cert_details asks.
 */
import type { HeaderList } from '../http/headers.js';
import { getHeader, removeHeader, setHeader } from '../http/headers.js';
import type { WithPeer } from './san.js';

/** `forward_client_cert_details` values. */
export type XfccMode =
  | 'SANITIZE'
  | 'FORWARD_ONLY'
  | 'APPEND_FORWARD'
  | 'SANITIZE_SET'
  | 'ALWAYS_FORWARD_ONLY';

/** `set_current_client_cert_details` in canonical JSON (the loader refuses cert and chain). */
export interface XfccDetails {
  readonly subject?: boolean;
  readonly uri?: boolean;
  readonly dns?: boolean;
}

const XFCC = 'x-forwarded-client-cert';

/** Applies the policy to a request's headers, given its downstream connection. */
export type XfccPolicy = (headers: HeaderList, connection: object) => void;

function element(c: WithPeer, details: XfccDetails): string | undefined {
  const peer = c.peer;
  if (peer === undefined) return undefined;
  const parts: string[] = [];
  if (c.localUri !== undefined) parts.push(`By=${c.localUri}`);
  if (peer.hash !== undefined) parts.push(`Hash=${peer.hash}`);
  if (details.subject === true) parts.push(`Subject=${JSON.stringify(peer.subject)}`);
  if (details.uri === true) for (const u of peer.uris) parts.push(`URI=${u}`);
  if (details.dns === true) for (const d of peer.dns) parts.push(`DNS=${d}`);
  return parts.join(';');
}

/** Compiles the connection manager's XFCC settings. */
export function compileXfcc(mode: XfccMode | undefined, details: XfccDetails | undefined): XfccPolicy {
  const m = mode ?? 'SANITIZE';
  const d = details ?? {};
  switch (m) {
    case 'ALWAYS_FORWARD_ONLY':
      return () => undefined;
    case 'FORWARD_ONLY':
      return (headers, connection) => {
        if ((connection as WithPeer).peer === undefined) removeHeader(headers, XFCC);
      };
    case 'APPEND_FORWARD':
    case 'SANITIZE_SET':
      return (headers, connection) => {
        const mine = element(connection as WithPeer, d);
        if (mine === undefined) {
          removeHeader(headers, XFCC);
          return;
        }
        const current = m === 'APPEND_FORWARD' ? getHeader(headers, XFCC) : undefined;
        setHeader(headers, XFCC, current === undefined ? mine : `${current},${mine}`);
      };
    default:
      return (headers) => removeHeader(headers, XFCC);
  }
}
