// Fuzzing the HTTP/1 request parser with fast-check: random and mutated byte streams, split at
// random points. Pure byte input; nothing stood in.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { H1ParseError, H1Parser, type H1RequestHead } from '../../../proxy/http/h1-parser.js';

interface Seen {
  heads: H1RequestHead[];
  bodies: Buffer[][];
  completes: number;
}

/** Feeds `chunks` and resumes after each message, as the downstream connection does. */
function run(chunks: readonly Uint8Array[]): { seen: Seen; error: H1ParseError | undefined } {
  const seen: Seen = { heads: [], bodies: [], completes: 0 };
  const parser = new H1Parser<H1RequestHead>('request', {
    onHead: (h) => {
      seen.heads.push(h);
      seen.bodies.push([]);
    },
    onBody: (b) => seen.bodies[seen.bodies.length - 1]?.push(Buffer.from(b)),
    onTrailers: () => undefined,
    onComplete: () => {
      seen.completes++;
    },
  });
  let error: H1ParseError | undefined;
  for (const c of chunks) {
    error = parser.execute(Buffer.from(c));
    let guard = 0;
    while (error === undefined && seen.completes === seen.heads.length && !parser.idle && guard++ < 1000) {
      const before = seen.heads.length;
      error = parser.resume();
      if (seen.heads.length === before) break;
    }
    if (error !== undefined) break;
  }
  return { seen, error };
}

const VALID_REQUESTS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'GET /x?y=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
];

/** Splits bytes at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

describe('H1Parser fuzzing', () => {
  test('random bytes never throw anything but a parse error result', () => {
    // GIVEN arbitrary byte streams in arbitrary chunks
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        // WHEN parsed / THEN no exception escapes, and errors carry an HTTP status
        const { error } = run(chunks);
        if (error !== undefined) {
          expect(error).toBeInstanceOf(H1ParseError);
          expect([400, 408, 413, 426, 431, 501, 505]).toContain(error.status);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('mutated valid requests either parse to the same message count or fail cleanly', () => {
    // GIVEN a pipeline of valid requests with one byte replaced, split at random points
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...VALID_REQUESTS), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (reqs, at, byte, cuts) => {
          const bytes = Buffer.from(reqs.join(''), 'latin1');
          bytes[at % bytes.length] = byte;
          // WHEN
          const { seen, error } = run(split(bytes, cuts));
          // THEN never more messages than were sent (nothing conjured from a body)
          expect(seen.heads.length).toBeLessThanOrEqual(reqs.length + 1);
          if (error === undefined) expect(seen.completes).toBeLessThanOrEqual(seen.heads.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a request hidden in a body is never parsed as a request, whatever the chunking', () => {
    // GIVEN a POST whose body is itself an HTTP request, followed by a real second request
    const hidden = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n';
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (chunked, cuts) => {
        const body = chunked ? `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n` : hidden;
        const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${hidden.length}`;
        const wire = `POST /upload HTTP/1.1\r\nHost: a\r\n${framing}\r\n\r\n${body}GET /next HTTP/1.1\r\nHost: a\r\n\r\n`;
        // WHEN
        const { seen, error } = run(split(Buffer.from(wire, 'latin1'), cuts));
        // THEN exactly two requests, the hidden one only as body bytes
        expect(error).toBeUndefined();
        expect(seen.heads.map((h) => h.path)).toEqual(['/upload', '/next']);
        expect(Buffer.concat(seen.bodies[0] ?? []).toString('latin1')).toBe(hidden);
      }),
      { numRuns: 300 },
    );
  });

  test('classic smuggling framings are rejected, never reinterpreted', () => {
    // GIVEN the CL.TE / TE.CL / TE.TE shapes with varied spellings
    const shapes = fc.constantFrom(
      'Content-Length: 4\r\nTransfer-Encoding: chunked',
      'Transfer-Encoding: chunked\r\nContent-Length: 4',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity',
      'Transfer-Encoding: xchunked',
      'Transfer-Encoding : chunked',
      'Transfer-Encoding:\tchunked, identity',
      'Content-Length: 4\r\nContent-Length: 5',
      'Content-Length: 4, 4',
      'Content-Length:\r\n 4',
    );
    fc.assert(
      fc.property(shapes, (framing) => {
        const wire = `POST / HTTP/1.1\r\nHost: a\r\n${framing}\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`;
        // WHEN
        const { seen, error } = run([Buffer.from(wire, 'latin1')]);
        // THEN the head is refused and /smuggled never appears
        expect(error).toBeDefined();
        expect(seen.heads.map((h) => h.path)).not.toContain('/smuggled');
      }),
    );
  });

  test('a CONNECT head ends the HTTP part: what follows is tunnel bytes, whatever the chunking', () => {
    // GIVEN a CONNECT followed by arbitrary bytes (a would-be smuggled request among them)
    fc.assert(
      fc.property(
        fc.oneof(fc.constant('GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'), fc.string({ maxLength: 200 })),
        fc.array(fc.nat(), { maxLength: 6 }),
        (tail, cuts) => {
          const head = 'CONNECT a.internal:443 HTTP/1.1\r\nHost: a.internal:443\r\n\r\n';
          const tailBytes = Buffer.from(tail, 'latin1');
          const heads: H1RequestHead[] = [];
          const parser = new H1Parser<H1RequestHead>('request', {
            onHead: (h) => heads.push(h),
            onBody: () => undefined,
            onTrailers: () => undefined,
            onComplete: () => undefined,
          });
          // WHEN fed in random chunks, never resumed (the downstream closes or tunnels after it)
          for (const c of split(Buffer.concat([Buffer.from(head, 'latin1'), tailBytes]), cuts)) {
            expect(parser.execute(Buffer.from(c))).toBeUndefined();
          }
          // THEN one head that never keeps the connection, and the tail intact as tunnel bytes
          expect(heads).toHaveLength(1);
          expect(heads[0]).toMatchObject({
            method: 'CONNECT',
            authority: 'a.internal:443',
            path: '',
            upgrade: 'connect',
            keepAlive: false,
          });
          expect(Buffer.from(parser.takeUpgradeBytes()).equals(tailBytes)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
