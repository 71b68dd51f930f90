/**
 * `headers_to_add` / `headers_to_remove` at one level (weighted cluster, route, virtual host or
 * route configuration), compiled once. Envoy removes first, then adds, per level; values may use
 * substitution commands (`%DOWNSTREAM_REMOTE_ADDRESS%`), which render empty when unavailable.
 */
import { MeshError } from '../../errors/index.js';
import {
  type CompiledFormat,
  compileFormat,
  type FormatContext,
  renderHeaderValue,
} from '../accesslog/substitution.js';
import type { HeaderValueOption } from '../config/envoy.js';
import type { HeaderList } from '../http/headers.js';

const APPEND = 0;
const ADD_IF_ABSENT = 1;
const OVERWRITE_OR_ADD = 2;
const OVERWRITE_IF_EXISTS = 3;

const ACTIONS: Readonly<Record<string, number>> = {
  APPEND_IF_EXISTS_OR_ADD: APPEND,
  ADD_IF_ABSENT,
  OVERWRITE_IF_EXISTS_OR_ADD: OVERWRITE_OR_ADD,
  OVERWRITE_IF_EXISTS,
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const BAD_VALUE = /[\r\n\0]/;

interface AddOp {
  readonly name: string;
  readonly format: CompiledFormat;
  /** Set when the value has no command: no rendering per request. */
  readonly constant: string | undefined;
  readonly action: number;
  readonly keepEmpty: boolean;
}

function checkName(raw: unknown, path: string): string {
  if (typeof raw !== 'string' || raw === '') {
    throw new MeshError('PROXY_E_INVALID', 'a header name is required', {
      path,
      value: raw,
      allowed: 'an HTTP header name',
    });
  }
  const name = raw.toLowerCase();
  if (name.startsWith(':') || name === 'host') {
    throw new MeshError(
      'PROXY_E_INVALID',
      `the header ${JSON.stringify(raw)} may not be modified (':'-prefixed and host headers are reserved, as in Envoy)`,
      {
        path,
        value: raw,
        allowed: 'a regular header name; use host_rewrite_literal for the host',
      },
    );
  }
  if (!TOKEN.test(name)) {
    throw new MeshError('PROXY_E_INVALID', `${JSON.stringify(raw)} is not a valid header name`, {
      path,
      value: raw,
      allowed: 'an RFC 9110 token',
    });
  }
  return name;
}

/** One level's compiled header mutations. */
export class HeaderMutation {
  private readonly remove: readonly string[];
  private readonly add: readonly AddOp[];

  /**
   * @param toAdd `*_headers_to_add`
   * @param toRemove `*_headers_to_remove`
   * @param path config path of the level, e.g. `...virtual_hosts[0]`
   * @param side `request` or `response`, for the field names in errors
   */
  constructor(
    toAdd: readonly HeaderValueOption[] | undefined,
    toRemove: readonly string[] | undefined,
    path: string,
    side: 'request' | 'response',
  ) {
    this.remove = (toRemove ?? []).map((n, i) => checkName(n, `${path}.${side}_headers_to_remove[${i}]`));
    this.add = (toAdd ?? []).map((opt, i) => {
      const p = `${path}.${side}_headers_to_add[${i}]`;
      const name = checkName(opt.header?.key, `${p}.header.key`);
      const value = opt.header.value ?? '';
      if (BAD_VALUE.test(value)) {
        throw new MeshError('PROXY_E_INVALID', 'a header value must not contain CR, LF or NUL', {
          path: `${p}.header.value`,
          value,
          allowed: 'a header value without control line breaks',
        });
      }
      if (opt.append !== undefined && opt.append_action !== undefined) {
        throw new MeshError('PROXY_E_INVALID', 'append and append_action cannot both be set', {
          path: p,
          value: { append: opt.append, append_action: opt.append_action },
          allowed: 'append_action alone (append is deprecated)',
        });
      }
      const action =
        opt.append_action !== undefined
          ? ACTIONS[opt.append_action]
          : opt.append === false
            ? OVERWRITE_OR_ADD
            : APPEND;
      if (action === undefined) {
        throw new MeshError('PROXY_E_INVALID', `unknown append_action ${JSON.stringify(opt.append_action)}`, {
          path: `${p}.append_action`,
          value: opt.append_action,
          allowed: Object.keys(ACTIONS).join(', '),
        });
      }
      const format = compileFormat(value, `${p}.header.value`);
      return {
        name,
        format,
        constant: format.constant ? format.parts.join('') : undefined,
        action,
        keepEmpty: opt.keep_empty_value === true,
      };
    });
  }

  /** True when this level changes nothing (skipped when building chains). */
  get empty(): boolean {
    return this.remove.length === 0 && this.add.length === 0;
  }

  /** Applies removals, then additions, to `headers` in place. */
  apply(headers: HeaderList, ctx: FormatContext | undefined): void {
    for (const name of this.remove) removeAll(headers, name);
    for (const op of this.add) {
      const value =
        op.constant ?? (ctx === undefined ? renderWithout(op.format) : renderHeaderValue(op.format, ctx));
      if (value === '' && !op.keepEmpty) continue;
      switch (op.action) {
        case APPEND:
          headers.push(op.name, value);
          break;
        case ADD_IF_ABSENT:
          if (indexOf(headers, op.name) < 0) headers.push(op.name, value);
          break;
        case OVERWRITE_OR_ADD:
          removeAll(headers, op.name);
          headers.push(op.name, value);
          break;
        default: // OVERWRITE_IF_EXISTS
          if (indexOf(headers, op.name) >= 0) {
            removeAll(headers, op.name);
            headers.push(op.name, value);
          }
      }
    }
  }
}

function renderWithout(format: CompiledFormat): string {
  return renderHeaderValue(format, { startTimeMs: Date.now() });
}

function indexOf(headers: HeaderList, name: string): number {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return i;
  return -1;
}

function removeAll(headers: HeaderList, name: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] !== name) {
      headers[w] = headers[r] as string;
      headers[w + 1] = headers[r + 1] as string;
      w += 2;
    }
  }
  headers.length = w;
}

/** Applies a chain of levels in order. */
export function applyChain(
  chain: readonly HeaderMutation[],
  headers: HeaderList,
  ctx: FormatContext | undefined,
): void {
  for (const level of chain) level.apply(headers, ctx);
}
