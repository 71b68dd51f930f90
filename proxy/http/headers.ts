/**
 * The proxy's header representation, shared by the codecs, the router and the filters: a flat
 * array `[name0, value0, name1, value1, ...]` with lowercase names, in wire order. A flat array
 * costs one allocation per message (like Node's rawHeaders), keeps duplicates and order for
 * faithful forwarding, and is cheap to scan for the handful of headers a proxy reads.
 */

/** Flat header list: even indexes are lowercase names, odd indexes their values. */
export type HeaderList = string[];

/** First value of `name` (lowercase), or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1];
  }
  return undefined;
}

/** Every value of `name` (lowercase), in order. */
export function getHeaderAll(headers: HeaderList, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) values.push(headers[i + 1] as string);
  }
  return values;
}

/** True when `name` (lowercase) is present. */
export function hasHeader(headers: HeaderList, name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return true;
  }
  return false;
}

/** Removes every `name` (lowercase) in place. */
export function removeHeader(headers: HeaderList, name: string): void {
  let write = 0;
  for (let read = 0; read < headers.length; read += 2) {
    if (headers[read] !== name) {
      headers[write] = headers[read] as string;
      headers[write + 1] = headers[read + 1] as string;
      write += 2;
    }
  }
  headers.length = write;
}

/** Replaces every `name` (lowercase) with one `value`, keeping the first position if present. */
export function setHeader(headers: HeaderList, name: string, value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = value;
      let write = i + 2;
      for (let read = i + 2; read < headers.length; read += 2) {
        if (headers[read] !== name) {
          headers[write] = headers[read] as string;
          headers[write + 1] = headers[read + 1] as string;
          write += 2;
        }
      }
      headers.length = write;
      return;
    }
  }
  headers.push(name, value);
}

/** Appends `name: value` (lowercase name) after any existing values. */
export function appendHeader(headers: HeaderList, name: string, value: string): void {
  headers.push(name, value);
}
