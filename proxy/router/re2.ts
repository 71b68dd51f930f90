/**
 * RE2 patterns (Envoy's `safe_regex`) as JavaScript RegExps.
 *
 * Envoy compiles every `safe_regex` with RE2. JavaScript's engine accepts a different language, so
 * the pattern is translated token by token: what RE2 has and JS spells differently is rewritten
 * (`(?P<name>`, `\A`, `\z`, `\Q..\E`, `[[:alpha:]]`, `\pL`, `\x{..}`, leading `(?i)`), and what
 * RE2 rejects or JS cannot express (backreferences, lookaround, scoped or mid-pattern flags,
 * ungreedy mode, `\C`, repeat counts above 1000) is a config error that names the construct.
 * Anything this accepts means the same in both engines, with one honest caveat: JS backtracks, so
 * a pathological pattern from the config can be slow where RE2 stays linear.
 */
import { MeshError } from '../../errors/index.js';

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Characters that must stay escaped in a JS `u`-mode pattern (outside a class). */
const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
/** Characters that must stay escaped inside a JS `u`-mode class. */
const JS_CLASS_SYNTAX = new Set(['\\', ']', '[', '^', '-']);
/** General categories JS accepts bare in `\p{..}`; anything else is a script name. */
const GENERAL_CATEGORIES = new Set([
  'C',
  'Cc',
  'Cf',
  'Co',
  'Cs',
  'L',
  'Ll',
  'Lm',
  'Lo',
  'Lt',
  'Lu',
  'M',
  'Mc',
  'Me',
  'Mn',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Pe',
  'Pf',
  'Pi',
  'Po',
  'Ps',
  'S',
  'Sc',
  'Sk',
  'Sm',
  'So',
  'Z',
  'Zl',
  'Zp',
  'Zs',
  'Any',
]);

class Re2Unsupported extends Error {}

function unicodeProperty(name: string, negated: boolean): string {
  const n = name.startsWith('^') ? name.slice(1) : name;
  const neg = negated !== name.startsWith('^');
  if (n === 'Any') return neg ? '[^\\s\\S]' : '[\\s\\S]';
  const body = GENERAL_CATEGORIES.has(n) ? n : `Script=${n}`;
  return `${neg ? '\\P' : '\\p'}{${body}}`;
}

function hexEscape(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

/**
 * Translates one escape sequence starting at `pattern[i] === '\\'`.
 * @returns the JS text and the index after the escape
 */
function translateEscape(pattern: string, i: number, inClass: boolean): [string, number] {
  const c = pattern[i + 1];
  if (c === undefined) throw new Re2Unsupported('a trailing backslash');
  if (c >= '1' && c <= '9') throw new Re2Unsupported(`the backreference \\${c} (RE2 has no backreferences)`);
  if (c === '0') {
    let j = i + 2;
    let digits = '';
    while (j < pattern.length && digits.length < 2 && /[0-7]/.test(pattern[j] as string))
      digits += pattern[j++];
    return [hexEscape(Number.parseInt(digits || '0', 8)), j];
  }
  switch (c) {
    case 'A':
      if (inClass) throw new Re2Unsupported('\\A inside a character class');
      return ['(?<![\\s\\S])', i + 2];
    case 'z':
      if (inClass) throw new Re2Unsupported('\\z inside a character class');
      return ['(?![\\s\\S])', i + 2];
    case 'a':
      return ['\\x07', i + 2];
    case 'f':
    case 't':
    case 'n':
    case 'r':
    case 'v':
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return [`\\${c}`, i + 2];
    case 'b':
    case 'B':
      if (inClass) throw new Re2Unsupported(`\\${c} inside a character class`);
      return [`\\${c}`, i + 2];
    // RE2's \s is ASCII whitespace only; JS's also matches Unicode spaces.
    case 's':
      return [inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]', i + 2];
    case 'S':
      return [inClass ? '\\S' : '[^\\t\\n\\f\\r ]', i + 2];
    case 'x': {
      if (pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        const hex = end < 0 ? '' : pattern.slice(i + 3, end);
        if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) {
          throw new Re2Unsupported('a malformed \\x{...} escape');
        }
        return [hexEscape(Number.parseInt(hex, 16)), end + 1];
      }
      const hex = pattern.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Re2Unsupported('a malformed \\x escape');
      return [`\\x${hex}`, i + 4];
    }
    case 'p':
    case 'P': {
      const negated = c === 'P';
      if (pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        if (end < 0) throw new Re2Unsupported('an unterminated \\p{...}');
        return [unicodeProperty(pattern.slice(i + 3, end), negated), end + 1];
      }
      const letter = pattern[i + 2];
      if (letter === undefined || !/[A-Za-z]/.test(letter))
        throw new Re2Unsupported('a malformed \\p escape');
      return [unicodeProperty(letter, negated), i + 3];
    }
    case 'C':
      throw new Re2Unsupported('\\C (any byte) which JavaScript cannot match');
    case 'Z':
    case 'G':
    case 'K':
    case 'k':
    case 'g':
      throw new Re2Unsupported(`\\${c}, which RE2 does not support`);
    default:
      break;
  }
  if (/[A-Za-z0-9]/.test(c)) throw new Re2Unsupported(`the unknown escape \\${c}`);
  // Escaped punctuation: RE2 allows escaping any of it, JS u-mode only its syntax characters.
  const needs = inClass ? JS_CLASS_SYNTAX.has(c) : JS_SYNTAX.has(c);
  const cp = pattern.codePointAt(i + 1) as number;
  const literal = String.fromCodePoint(cp);
  return [needs ? `\\${literal}` : literal, i + 1 + literal.length];
}

/** Translates a `[...]` class starting at `pattern[i] === '['`. */
function translateClass(pattern: string, start: number): [string, number] {
  let out = '[';
  let i = start + 1;
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  // A `]` first in the class is a literal in RE2.
  if (pattern[i] === ']') {
    out += '\\]';
    i++;
  }
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === ']') return [`${out}]`, i + 1];
    if (c === '[' && pattern[i + 1] === ':') {
      const end = pattern.indexOf(':]', i + 2);
      if (end < 0) throw new Re2Unsupported('an unterminated [: ... :] class');
      const name = pattern.slice(i + 2, end);
      if (name.startsWith('^'))
        throw new Re2Unsupported(`the negated POSIX class [:${name}:] inside brackets`);
      const expansion = POSIX_CLASSES[name];
      if (expansion === undefined) throw new Re2Unsupported(`the unknown POSIX class [:${name}:]`);
      out += expansion;
      i = end + 2;
      continue;
    }
    if (c === '\\') {
      const [text, next] = translateEscape(pattern, i, true);
      out += text;
      i = next;
      continue;
    }
    if (c === '[') {
      out += '\\[';
      i++;
      continue;
    }
    const cp = pattern.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    out += ch;
    i += ch.length;
  }
  throw new Re2Unsupported('an unterminated character class');
}

/** Translates `(?...` group openers; returns the JS opener and the index after it. */
function translateGroupOpen(pattern: string, i: number): [string, number] {
  if (pattern[i + 1] !== '?') return ['(', i + 1];
  const rest = pattern.slice(i + 2);
  if (rest.startsWith(':')) return ['(?:', i + 3];
  if (rest.startsWith('P<') || (rest.startsWith('<') && !rest.startsWith('<=') && !rest.startsWith('<!'))) {
    const nameStart = i + 2 + (rest.startsWith('P<') ? 2 : 1);
    const end = pattern.indexOf('>', nameStart);
    const name = end < 0 ? '' : pattern.slice(nameStart, end);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Re2Unsupported('a malformed named group');
    return [`(?<${name}>`, end + 1];
  }
  if (rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
    throw new Re2Unsupported('lookaround (?=, (?!, (?<=, (?<! (RE2 has no lookaround)');
  }
  if (rest.startsWith('P=') || rest.startsWith('P>')) throw new Re2Unsupported('a named backreference');
  throw new Re2Unsupported(
    'flags inside the pattern (only a leading (?i), (?s) or (?m) has a JavaScript form)',
  );
}

/** Validates a `{n}`, `{n,}` or `{n,m}` repeat starting at `pattern[i] === '{'`; undefined when it is a literal brace. */
function repeatAt(pattern: string, i: number): [string, number] | undefined {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (m === null) return undefined;
  const min = Number(m[1]);
  const max = m[3] === undefined || m[3] === '' ? min : Number(m[3]);
  if (min > 1000 || max > 1000) throw new Re2Unsupported('a repeat count above 1000 (RE2 limit)');
  if (m[3] !== undefined && m[3] !== '' && max < min) throw new Re2Unsupported('a repeat {n,m} with m < n');
  return [m[0], i + m[0].length];
}

/** The JS source and flags equivalent to an RE2 pattern; throws a plain Error naming what is wrong. */
export function translateRe2(pattern: string): { source: string; flags: string } {
  let flags = 'u';
  let i = 0;
  // Leading flag groups apply to the whole pattern, which JS expresses as RegExp flags.
  for (
    let m = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
    m !== null;
    m = /^\(\?([a-zA-Z]+)\)/.exec(pattern.slice(i))
  ) {
    for (const f of m[1] as string) {
      if (f === 'i' || f === 's' || f === 'm') {
        if (!flags.includes(f)) flags += f;
      } else if (f === 'U') {
        throw new Re2Unsupported('ungreedy mode (?U), which JavaScript cannot express');
      } else {
        throw new Re2Unsupported(`the unknown flag ${f}`);
      }
    }
    i += m[0].length;
  }
  let out = '';
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '\\') {
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = pattern.slice(i + 2, end < 0 ? pattern.length : end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      const [text, next] = translateEscape(pattern, i, false);
      out += text;
      i = next;
    } else if (c === '[') {
      const [text, next] = translateClass(pattern, i);
      out += text;
      i = next;
    } else if (c === '(') {
      const [text, next] = translateGroupOpen(pattern, i);
      out += text;
      i = next;
    } else if (c === '{') {
      const repeat = repeatAt(pattern, i);
      if (repeat === undefined) {
        out += '\\{';
        i++;
      } else {
        out += repeat[0];
        i = repeat[1];
      }
    } else if (c === '}') {
      out += '\\}';
      i++;
    } else if (c === '.' && !flags.includes('s')) {
      // RE2's `.` excludes only \n; JS's also excludes \r, U+2028 and U+2029.
      out += '[^\\n]';
      i++;
    } else {
      const ch = String.fromCodePoint(pattern.codePointAt(i) as number);
      out += ch;
      i += ch.length;
    }
  }
  return { source: out, flags };
}

/** Options for {@link compileRe2}. */
export interface CompileRe2Options {
  /** Config path of the regex field, for the error. */
  readonly path: string;
  /** Whole-input match (Envoy's route/header matching) instead of a search (`/stats?filter=`). @default true */
  readonly fullMatch?: boolean;
}

/**
 * Compiles an RE2 pattern to a JS RegExp with RE2's meaning. A full match is anchored with
 * input-boundary assertions (not `^`/`$`, which `(?m)` would turn into line anchors).
 * @throws MeshError PROXY_E_INVALID naming the path, the pattern and the construct at fault
 */
export function compileRe2(pattern: string, options: CompileRe2Options): RegExp {
  try {
    const { source, flags } = translateRe2(pattern);
    const full = options.fullMatch ?? true;
    return new RegExp(full ? `(?<![\\s\\S])(?:${source})(?![\\s\\S])` : source, flags);
  } catch (error) {
    const reason =
      error instanceof Re2Unsupported
        ? `uses ${error.message}`
        : `is not a valid regex (${String((error as Error).message)})`;
    throw new MeshError('PROXY_E_INVALID', `regex ${JSON.stringify(pattern)} ${reason}`, {
      path: options.path,
      value: pattern,
      allowed: 'an RE2 regular expression without backreferences, lookaround or scoped flags',
    });
  }
}
