/**
 * Envoy's substitution format strings (`%START_TIME%`, `%REQ(X?Y):N%`, `%RESPONSE_FLAGS%`...),
 * compiled once into a list of literal parts and getters. The access log and the router's header
 * values (`%DOWNSTREAM_REMOTE_ADDRESS%` in `headers_to_add`) share this one implementation, as in
 * Envoy. An unknown command is a config error naming the field, never a silent literal.
 */
import { isIPv4 } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { MeshError } from '../../errors/index.js';
import type { HeaderList } from '../http/headers.js';
import { formatResponseFlags, formatResponseFlagsLong } from './flags.js';

/**
 * Everything a format string can refer to. Every member is optional except the start time: the
 * router formats header values before there is a response, and the access log after.
 */
export interface FormatContext {
  /** Request start, epoch milliseconds. */
  readonly startTimeMs: number;
  /** `:method`. */
  readonly method?: string;
  /** `:path` as received (with query). */
  readonly path?: string;
  /** `:authority` / `host`. */
  readonly authority?: string;
  /** `:scheme`. */
  readonly scheme?: string;
  /** `HTTP/1.1`, `HTTP/2`... */
  readonly protocol?: string;
  /** Request headers (lowercase names). */
  readonly requestHeaders?: HeaderList;
  /** Response headers (lowercase names). */
  readonly responseHeaders?: HeaderList;
  /** Response trailers (lowercase names). */
  readonly responseTrailers?: HeaderList;
  /** Status sent downstream; 0 when none was. */
  readonly responseCode?: number;
  /** Why that response (`via_upstream`, `route_not_found`...). */
  readonly responseCodeDetails?: string;
  /** OR of {@link ResponseFlag} bits. */
  readonly responseFlags?: number;
  /** Request body bytes received. */
  readonly bytesReceived?: number;
  /** Response body bytes sent. */
  readonly bytesSent?: number;
  /** Start to last byte sent, ms. */
  readonly durationMs?: number;
  /** Start to last request byte received, ms. */
  readonly requestDurationMs?: number;
  /** Start to first upstream response byte, ms. */
  readonly responseDurationMs?: number;
  /** Start to last response byte sent, ms (`%RESPONSE_TX_DURATION%`). */
  readonly responseTxDurationMs?: number;
  /** Upstream host `ip:port`. */
  readonly upstreamHost?: string;
  /** Upstream cluster name. */
  readonly upstreamCluster?: string;
  /** Local address of the upstream connection `ip:port`. */
  readonly upstreamLocalAddress?: string;
  /** Why the upstream connection failed. */
  readonly upstreamTransportFailureReason?: string;
  /** Downstream peer `ip:port` (after XFF handling). */
  readonly downstreamRemoteAddress?: string;
  /** Downstream socket peer `ip:port`. */
  readonly downstreamDirectRemoteAddress?: string;
  /** Local address the downstream connected to `ip:port`. */
  readonly downstreamLocalAddress?: string;
  /** TLS SNI from the downstream. */
  readonly requestedServerName?: string;
  /** Matched route's name. */
  readonly routeName?: string;
  /** Downstream connection id. */
  readonly connectionId?: number;
}

/** A compiled command: a value, or null for "not available". */
type Getter = (ctx: FormatContext) => string | number | null;

/** A compiled format string: literal parts and getters, in order. */
export interface CompiledFormat {
  /** The parts; strings are literals. */
  readonly parts: ReadonlyArray<string | Getter>;
  /** True when there is no command at all (a constant string). */
  readonly constant: boolean;
}

const HOSTNAME = osHostname();

/**
 * Where the port starts in an `ip:port` address (`[v6]:port` or `v4:port`), or -1 when there is
 * none: a bare address, or a Unix socket path (Envoy prints a pipe address as its path, which may
 * itself contain a colon).
 */
function portColon(address: string): number {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 && address.charCodeAt(end + 1) === 58 /* : */ ? end + 1 : -1;
  }
  const colon = address.lastIndexOf(':');
  return colon > 0 && isIPv4(address.slice(0, colon)) ? colon : -1;
}

function withoutPort(address: string | undefined): string | null {
  if (address === undefined || address === '') return null;
  const colon = portColon(address);
  if (colon < 0) return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return address.startsWith('[') ? address.slice(1, colon - 1) : address.slice(0, colon);
}

/** The port of an `ip:port` address; null (`-`) for a pipe, which has none (as Envoy prints it). */
function portOf(address: string | undefined): number | null {
  if (address === undefined) return null;
  const colon = portColon(address);
  if (colon < 0) return null;
  const port = Number(address.slice(colon + 1));
  return Number.isInteger(port) ? port : null;
}

function headerValue(headers: HeaderList | undefined, name: string): string | null {
  if (headers === undefined) return null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1] as string;
  }
  return null;
}

function requestHeader(ctx: FormatContext, name: string): string | null {
  switch (name) {
    case ':method':
      return ctx.method ?? headerValue(ctx.requestHeaders, name);
    case ':path':
      return ctx.path ?? headerValue(ctx.requestHeaders, name);
    case ':authority':
    case 'host':
      return (
        ctx.authority ??
        headerValue(ctx.requestHeaders, ':authority') ??
        headerValue(ctx.requestHeaders, 'host')
      );
    case ':scheme':
      return ctx.scheme ?? headerValue(ctx.requestHeaders, name);
    default:
      return headerValue(ctx.requestHeaders, name);
  }
}

const TWO = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * strftime subset for `%START_TIME(fmt)%`, in UTC like Envoy: %Y %m %d %H %M %S %j %s %z %Z %e
 * %a %b %y %T %F %D %%, plus Envoy's %f / %Nf (fraction digits) and %EnS (seconds with n digits).
 */
function compileTimeFormat(fmt: string, path: string): (ms: number) => string {
  const pieces: Array<string | ((d: Date, ms: number) => string)> = [];
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const fraction = (digits: number) => (_d: Date, ms: number) => {
    const nanos = Math.round((((ms % 1000) + 1000) % 1000) * 1e6);
    return String(nanos).padStart(9, '0').slice(0, digits);
  };
  let i = 0;
  let literal = '';
  while (i < fmt.length) {
    const c = fmt[i] as string;
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    const spec = /^%(E(\d)S|(\d)?f|[YmdHMSjszZeabyTFD%])/.exec(fmt.slice(i));
    if (spec === null) {
      throw new MeshError(
        'PROXY_E_INVALID',
        `START_TIME format ${JSON.stringify(fmt)} has an unsupported specifier at ${JSON.stringify(fmt.slice(i, i + 3))}`,
        {
          path,
          value: fmt,
          allowed:
            'strftime %Y %m %d %H %M %S %j %s %z %Z %e %a %b %y %T %F %D %%, Envoy %f %3f %6f %9f %E3S',
        },
      );
    }
    if (literal !== '') pieces.push(literal);
    literal = '';
    const s = spec[1] as string;
    i += spec[0].length;
    if (s === '%') {
      pieces.push('%');
    } else if (s.startsWith('E')) {
      const digits = Number(spec[2]);
      pieces.push((d, ms) => `${TWO(d.getUTCSeconds())}${digits > 0 ? `.${fraction(digits)(d, ms)}` : ''}`);
    } else if (s.endsWith('f')) {
      pieces.push(fraction(spec[3] === undefined ? 9 : Number(spec[3])));
    } else {
      pieces.push((d, ms) => {
        switch (s) {
          case 'Y':
            return String(d.getUTCFullYear());
          case 'y':
            return TWO(d.getUTCFullYear() % 100);
          case 'm':
            return TWO(d.getUTCMonth() + 1);
          case 'd':
            return TWO(d.getUTCDate());
          case 'e':
            return String(d.getUTCDate()).padStart(2, ' ');
          case 'H':
            return TWO(d.getUTCHours());
          case 'M':
            return TWO(d.getUTCMinutes());
          case 'S':
            return TWO(d.getUTCSeconds());
          case 'j': {
            const start = Date.UTC(d.getUTCFullYear(), 0, 1);
            return String(Math.floor((ms - start) / 86_400_000) + 1).padStart(3, '0');
          }
          case 's':
            return String(Math.floor(ms / 1000));
          case 'z':
            return '+0000';
          case 'Z':
            return 'UTC';
          case 'a':
            return DAYS[d.getUTCDay()] as string;
          case 'b':
            return MONTHS[d.getUTCMonth()] as string;
          case 'T':
            return `${TWO(d.getUTCHours())}:${TWO(d.getUTCMinutes())}:${TWO(d.getUTCSeconds())}`;
          case 'F':
            return `${d.getUTCFullYear()}-${TWO(d.getUTCMonth() + 1)}-${TWO(d.getUTCDate())}`;
          default: // 'D'
            return `${TWO(d.getUTCMonth() + 1)}/${TWO(d.getUTCDate())}/${TWO(d.getUTCFullYear() % 100)}`;
        }
      });
    }
  }
  if (literal !== '') pieces.push(literal);
  return (ms) => {
    const d = new Date(ms);
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : p(d, ms);
    return out;
  };
}

function truncate(getter: (ctx: FormatContext) => string | null, max: number | undefined): Getter {
  if (max === undefined) return getter;
  return (ctx) => {
    const v = getter(ctx);
    return v === null || v.length <= max ? v : v.slice(0, max);
  };
}

/** Parses `X?Y` header arguments into lowercase names. */
function headerArgs(arg: string): [string, string | undefined] {
  const [main, alt] = arg.split('?', 2);
  return [(main as string).toLowerCase(), alt?.toLowerCase()];
}

function num(v: number | undefined): number | null {
  return v === undefined ? null : v;
}

function str(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

const SIMPLE: Readonly<Record<string, Getter>> = {
  PROTOCOL: (c) => str(c.protocol),
  RESPONSE_CODE: (c) => c.responseCode ?? 0,
  RESPONSE_CODE_DETAILS: (c) => str(c.responseCodeDetails),
  RESPONSE_FLAGS: (c) => formatResponseFlags(c.responseFlags ?? 0),
  RESPONSE_FLAGS_LONG: (c) => formatResponseFlagsLong(c.responseFlags ?? 0),
  BYTES_RECEIVED: (c) => c.bytesReceived ?? 0,
  BYTES_SENT: (c) => c.bytesSent ?? 0,
  DURATION: (c) => num(c.durationMs === undefined ? undefined : Math.floor(c.durationMs)),
  REQUEST_DURATION: (c) =>
    num(c.requestDurationMs === undefined ? undefined : Math.floor(c.requestDurationMs)),
  RESPONSE_DURATION: (c) =>
    num(c.responseDurationMs === undefined ? undefined : Math.floor(c.responseDurationMs)),
  RESPONSE_TX_DURATION: (c) =>
    num(c.responseTxDurationMs === undefined ? undefined : Math.floor(c.responseTxDurationMs)),
  UPSTREAM_HOST: (c) => str(c.upstreamHost),
  UPSTREAM_REMOTE_ADDRESS: (c) => str(c.upstreamHost),
  UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (c) => withoutPort(c.upstreamHost),
  UPSTREAM_CLUSTER: (c) => str(c.upstreamCluster),
  UPSTREAM_LOCAL_ADDRESS: (c) => str(c.upstreamLocalAddress),
  UPSTREAM_TRANSPORT_FAILURE_REASON: (c) => str(c.upstreamTransportFailureReason),
  DOWNSTREAM_REMOTE_ADDRESS: (c) => str(c.downstreamRemoteAddress),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (c) => withoutPort(c.downstreamRemoteAddress),
  DOWNSTREAM_REMOTE_PORT: (c) => portOf(c.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (c) => str(c.downstreamDirectRemoteAddress ?? c.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (c) =>
    withoutPort(c.downstreamDirectRemoteAddress ?? c.downstreamRemoteAddress),
  DOWNSTREAM_LOCAL_ADDRESS: (c) => str(c.downstreamLocalAddress),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (c) => withoutPort(c.downstreamLocalAddress),
  DOWNSTREAM_LOCAL_PORT: (c) => portOf(c.downstreamLocalAddress),
  REQUESTED_SERVER_NAME: (c) => str(c.requestedServerName),
  ROUTE_NAME: (c) => str(c.routeName),
  CONNECTION_ID: (c) => num(c.connectionId),
  HOSTNAME: () => HOSTNAME,
};

/** Every command name this formatter knows (for docs and error messages). */
export const SUPPORTED_COMMANDS: readonly string[] = [
  'START_TIME',
  'REQ',
  'RESP',
  'TRAILER',
  ...Object.keys(SIMPLE),
].sort();

function invalid(path: string, format: string, message: string): MeshError {
  return new MeshError('PROXY_E_INVALID', `format string ${JSON.stringify(format)}: ${message}`, {
    path,
    value: format,
    allowed: `Envoy command operators: ${SUPPORTED_COMMANDS.map((c) => `%${c}%`).join(' ')}; %% for a literal %`,
  });
}

function compileCommand(
  name: string,
  arg: string | undefined,
  max: number | undefined,
  path: string,
  format: string,
): Getter {
  switch (name) {
    case 'START_TIME': {
      if (arg === undefined || arg === '') return (c) => new Date(c.startTimeMs).toISOString();
      const fmt = compileTimeFormat(arg, path);
      return (c) => fmt(c.startTimeMs);
    }
    case 'REQ':
    case 'RESP':
    case 'TRAILER': {
      if (arg === undefined || arg === '') throw invalid(path, format, `%${name}(...)% needs a header name`);
      const [main, alt] = headerArgs(arg);
      const read =
        name === 'REQ'
          ? (c: FormatContext, h: string) => requestHeader(c, h)
          : name === 'RESP'
            ? (c: FormatContext, h: string) => headerValue(c.responseHeaders, h)
            : (c: FormatContext, h: string) => headerValue(c.responseTrailers, h);
      return truncate((c) => read(c, main) ?? (alt === undefined ? null : read(c, alt)), max);
    }
    default: {
      if (arg !== undefined) throw invalid(path, format, `%${name}% takes no argument`);
      const simple = SIMPLE[name];
      if (simple === undefined) throw invalid(path, format, `unknown command %${name}%`);
      if (max === undefined) return simple;
      return (c) => {
        const v = simple(c);
        return typeof v === 'string' && v.length > max ? v.slice(0, max) : v;
      };
    }
  }
}

const COMMAND = /^%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%/;

/**
 * Compiles a format string.
 * @param format the text, e.g. `[%START_TIME%] "%REQ(:METHOD)%"`
 * @param path config path for errors
 */
export function compileFormat(format: string, path: string): CompiledFormat {
  const parts: Array<string | Getter> = [];
  let literal = '';
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      literal += format.slice(i);
      break;
    }
    literal += format.slice(i, pct);
    if (format[pct + 1] === '%') {
      literal += '%';
      i = pct + 2;
      continue;
    }
    const m = COMMAND.exec(format.slice(pct));
    if (m === null) throw invalid(path, format, `a % at offset ${pct} does not start a %COMMAND%`);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(
      compileCommand(m[1] as string, m[2], m[3] === undefined ? undefined : Number(m[3]), path, format),
    );
    i = pct + m[0].length;
  }
  if (literal !== '') parts.push(literal);
  return { parts, constant: parts.every((p) => typeof p === 'string') };
}

/** Renders a compiled format as text; unavailable values print as `-`, like Envoy. */
export function renderText(format: CompiledFormat, ctx: FormatContext): string {
  let out = '';
  for (const p of format.parts) {
    if (typeof p === 'string') out += p;
    else {
      const v = p(ctx);
      out += v === null ? '-' : v;
    }
  }
  return out;
}

/**
 * Renders a compiled format as a typed JSON value: a lone command keeps its type (number or
 * null), anything mixed becomes a string.
 */
export function renderTyped(format: CompiledFormat, ctx: FormatContext): string | number | null {
  if (format.parts.length === 1) {
    const only = format.parts[0] as string | Getter;
    return typeof only === 'string' ? only : only(ctx);
  }
  return renderText(format, ctx);
}

/**
 * Renders for a header value: unavailable values are empty, as Envoy's header formatter does
 * (it writes nothing rather than `-`).
 */
export function renderHeaderValue(format: CompiledFormat, ctx: FormatContext): string {
  let out = '';
  for (const p of format.parts) {
    if (typeof p === 'string') out += p;
    else {
      const v = p(ctx);
      if (v !== null) out += v;
    }
  }
  return out;
}
