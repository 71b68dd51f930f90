/**
 * The string formats of the model. Each is checked by crossmesh and, where ECMA-262 can express
 * it, published as a `pattern` in the JSON Schema so editors flag mistakes too.
 */
import { isIP } from 'node:net';
import { DURATION_ALLOWED, DURATION_PATTERN, parseDuration } from '../duration.js';
import type { StringFormat } from './shape.js';

function patterned(name: string, code: StringFormat['code'], allowed: string, pattern: string): StringFormat {
  const re = new RegExp(pattern);
  return { name, code, allowed, pattern, check: (v) => (re.test(v) ? undefined : '') };
}

const LABEL = '[a-z]([-a-z0-9]{0,61}[a-z0-9])?';
const HOST_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const DNS_NAME = `${HOST_LABEL}(\\.${HOST_LABEL})*`;
const DNS_NAME_RE = new RegExp(`^${DNS_NAME}$`);

/** A DNS label: the form of every name in the model (mesh, services, versions, routes, ports, gateways). */
export const DNS_LABEL = patterned(
  'dns-label',
  'MESH_E_NAME',
  'a DNS label: 1-63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  `^${LABEL}$`,
);

/** A lowercase DNS name (`shop.mesh.local`), at most 253 characters. */
export const DNS_NAME_FORMAT: StringFormat = {
  name: 'dns-name',
  code: 'MESH_E_PATTERN',
  allowed:
    'a lowercase DNS name such as shop.mesh.local (labels of letters, digits and hyphens, at most 253 characters)',
  pattern: `^(?=.{1,253}$)${DNS_NAME}$`,
  check: (v) => (v.length <= 253 && DNS_NAME_RE.test(v) ? undefined : ''),
};

/** A host name or `*.suffix` wildcard, or `*` alone. */
export const HOST_PATTERN = patterned(
  'host-pattern',
  'MESH_E_PATTERN',
  'a lowercase host name, a wildcard `*.example.com`, or `*`',
  `^(\\*|(\\*\\.)?${DNS_NAME})$`,
);

/** A host name (any case) or an IPv4/IPv6 address. */
export const HOST: StringFormat = {
  name: 'host',
  code: 'MESH_E_PATTERN',
  allowed: 'a host name or an IPv4/IPv6 address',
  check: (v) => (isIP(v) !== 0 || (v.length <= 253 && DNS_NAME_RE.test(v.toLowerCase())) ? undefined : ''),
};

/** A duration: `250ms`, `2s`, `1m30s`. */
export const DURATION: StringFormat = {
  name: 'duration',
  code: 'MESH_E_DURATION',
  allowed: DURATION_ALLOWED,
  pattern: DURATION_PATTERN,
  check: (v) => (parseDuration(v) === undefined ? '' : undefined),
};

// RE2 (Envoy, App Mesh, Traffic Director) has no lookaround and no backreferences; JavaScript does.
const NOT_RE2 = /\(\?<?[=!]|\\[1-9]|\\k</;

/** A regular expression in the RE2 syntax the data planes use (and that JavaScript also compiles). */
export const REGEX: StringFormat = {
  name: 'regex',
  code: 'MESH_E_PATTERN',
  allowed: 'a regular expression in RE2 syntax (no lookaround, no backreferences)',
  jsonFormat: 'regex',
  check: (v) => {
    if (NOT_RE2.test(v)) return 'it uses lookaround or a backreference, which RE2 does not support';
    try {
      new RegExp(v, 'u');
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : 'it does not compile';
    }
  },
};

/** A URL path: starts with `/`, no spaces, `?` or `#`. */
export const URL_PATH = patterned(
  'path',
  'MESH_E_PATTERN',
  'a URL path starting with "/" without spaces, "?" or "#"',
  '^/[^\\s?#\\u0000-\\u001f\\u007f]*$',
);

/** A header name to match (lowercase HTTP token, or a pseudo-header such as `:authority`). */
export const HEADER_NAME_MATCH = patterned(
  'header-name',
  'MESH_E_PATTERN',
  "a lowercase header name (letters, digits and !#$%&'*+-.^_`|~), or a pseudo-header such as :authority",
  "^:?[a-z0-9!#$%&'*+.^_`|~-]+$",
);

/** A header name to add or remove (no pseudo-headers). */
export const HEADER_NAME = patterned(
  'header-name',
  'MESH_E_PATTERN',
  "a lowercase header name (letters, digits and !#$%&'*+-.^_`|~)",
  "^[a-z0-9!#$%&'*+.^_`|~-]+$",
);

/** A header value: any text without control characters (CR, LF, NUL...). */
export const HEADER_VALUE = patterned(
  'header-value',
  'MESH_E_PATTERN',
  'text without control characters (no CR, LF or NUL)',
  '^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$',
);

/** A label key (Kubernetes style, optionally with a `/`-separated prefix). */
export const LABEL_KEY = patterned(
  'label-key',
  'MESH_E_PATTERN',
  'a label key: up to 63 letters, digits, "-", "_", "." or "/", starting and ending with a letter or digit',
  '^[A-Za-z0-9]([-A-Za-z0-9_./]{0,61}[A-Za-z0-9])?$',
);

/** A label value (may be empty). */
export const LABEL_VALUE = patterned(
  'label-value',
  'MESH_E_PATTERN',
  'a label value: empty, or up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
  '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$',
);

/** An environment variable name. */
export const ENV_NAME = patterned(
  'env-name',
  'MESH_E_PATTERN',
  'an environment variable name (letters, digits and "_", not starting with a digit)',
  '^[A-Za-z_][A-Za-z0-9_]*$',
);

/** A SPIFFE ID with a workload path. */
export const SPIFFE_ID = patterned(
  'spiffe-id',
  'MESH_E_PATTERN',
  'a SPIFFE ID: spiffe://<trust domain>/<path>',
  `^spiffe://${DNS_NAME}(/[A-Za-z0-9._~-]+)+$`,
);

/** A fully qualified gRPC service name. */
export const GRPC_SERVICE = patterned(
  'grpc-service',
  'MESH_E_PATTERN',
  'a fully qualified gRPC service name such as shop.Payments',
  '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$',
);

/** A gRPC method name. */
export const GRPC_METHOD = patterned(
  'grpc-method',
  'MESH_E_PATTERN',
  'a gRPC method name such as Charge',
  '^[A-Za-z_][A-Za-z0-9_]*$',
);

/** A service name in an authorization rule: a service, or `*` for any mesh service. */
export const SERVICE_OR_ANY = patterned(
  'service-or-any',
  'MESH_E_NAME',
  'a service name (DNS label) or "*"',
  `^(\\*|${LABEL})$`,
);

/** A file path (certificates, logs): any text without control characters. */
export const FILE_PATH = patterned(
  'file-path',
  'MESH_E_PATTERN',
  'a file path without control characters',
  '^[^\\u0000-\\u001f\\u007f]+$',
);

/** A duration longer than zero (intervals, per-try timeouts, refill periods). */
export const POSITIVE_DURATION: StringFormat = {
  name: 'positive-duration',
  code: 'MESH_E_DURATION',
  allowed: `${DURATION_ALLOWED}, longer than 0s`,
  pattern: DURATION_PATTERN,
  check: (v) => {
    const ms = parseDuration(v);
    return ms === undefined || ms === 0 ? '' : undefined;
  },
};
