/**
 * Duplicate object keys in JSON text. `JSON.parse` silently keeps the last of two equal keys; a
 * config that says two different things about one field must be refused instead. One linear scan
 * over text `JSON.parse` has already accepted (so it needs no error handling of its own).
 */

/** A key given twice in one object with different values. */
export interface DuplicateKey {
  readonly key: string;
  /** 1-based line of the second occurrence. */
  readonly line: number;
}

interface Frame {
  readonly object: boolean;
  /** Value text span of each key seen so far in this object. */
  readonly spans: Map<string, [number, number]>;
  key: string | undefined;
  keyAt: number;
  valueStart: number;
  expectKey: boolean;
}

/** Every key that appears twice in one object with values that differ. */
export function duplicateKeys(text: string): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: Frame[] = [];
  const closeValue = (frame: Frame, end: number) => {
    if (!frame.object || frame.key === undefined) return;
    const span: [number, number] = [frame.valueStart, end];
    const before = frame.spans.get(frame.key);
    if (before !== undefined && !sameValue(text, before, span)) {
      found.push({ key: frame.key, line: lineOf(text, frame.keyAt) });
    }
    frame.spans.set(frame.key, span);
    frame.key = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (top?.object === true && top.expectKey) {
        top.key = JSON.parse(text.slice(start, i + 1)) as string;
        top.keyAt = start;
        top.expectKey = false;
      }
    } else if (c === 0x3a /* : */) {
      if (top !== undefined) top.valueStart = i + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push({
        object: c === 0x7b,
        spans: new Map(),
        key: undefined,
        keyAt: 0,
        valueStart: 0,
        expectKey: c === 0x7b,
      });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      const frame = stack.pop();
      if (frame !== undefined) closeValue(frame, i);
    } else if (c === 0x2c /* , */ && top !== undefined) {
      closeValue(top, i);
      if (top.object) top.expectKey = true;
    }
  }
  return found;
}

function sameValue(text: string, a: [number, number], b: [number, number]): boolean {
  const x = text.slice(a[0], a[1]).trim();
  const y = text.slice(b[0], b[1]).trim();
  return x === y || JSON.stringify(JSON.parse(x)) === JSON.stringify(JSON.parse(y));
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}
