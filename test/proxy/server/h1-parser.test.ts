// The HTTP/1 parser on its own: pure byte input, no sockets (nothing stood in).
import { describe, expect, test } from 'vitest';
import {
  type H1Handler,
  type H1ParseError,
  H1Parser,
  type H1RequestHead,
  type H1ResponseHead,
} from '../../../proxy/http/h1-parser.js';

interface Collected<H> {
  heads: H[];
  bodies: string[];
  trailers: string[][];
  completes: number;
}

function collector<H extends H1RequestHead | H1ResponseHead>(): {
  handler: H1Handler<H>;
  out: Collected<H>;
} {
  const out: Collected<H> = { heads: [], bodies: [], trailers: [], completes: 0 };
  const handler: H1Handler<H> = {
    onHead: (h) => {
      out.heads.push(h);
      out.bodies.push('');
    },
    onBody: (c) => {
      out.bodies[out.bodies.length - 1] += c.toString('latin1');
    },
    onTrailers: (t) => out.trailers.push(t),
    onComplete: () => {
      out.completes++;
    },
  };
  return { handler, out };
}

function parseRequest(
  wire: string,
  split = 0,
): { out: Collected<H1RequestHead>; error: H1ParseError | undefined } {
  const { handler, out } = collector<H1RequestHead>();
  const parser = new H1Parser<H1RequestHead>('request', handler);
  const bytes = Buffer.from(wire, 'latin1');
  let error: H1ParseError | undefined;
  const step = split > 0 ? split : bytes.length;
  for (let i = 0; i < bytes.length && error === undefined; i += step) {
    error = parser.execute(bytes.subarray(i, i + step));
    while (
      error === undefined &&
      out.completes > 0 &&
      !parser.idle &&
      !parser.inBody &&
      parser.error === undefined
    ) {
      const before = out.completes;
      error = parser.resume();
      if (out.completes === before) break;
    }
  }
  return { out, error };
}

describe('H1Parser requests', () => {
  test('parses a simple GET with lowercase header names', () => {
    // GIVEN
    const wire = 'GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v \r\n\r\n';
    // WHEN
    const { out, error } = parseRequest(wire);
    // THEN
    expect(error).toBeUndefined();
    expect(out.heads[0]).toMatchObject({
      method: 'GET',
      path: '/a?b=1',
      authority: 'example.com',
      keepAlive: true,
      bodyKind: 'none',
      headers: ['host', 'example.com', 'x-thing', 'v'],
    });
    expect(out.completes).toBe(1);
  });

  test('streams a chunked body byte by byte and reports trailers', () => {
    // GIVEN
    const wire =
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-t: 1\r\n\r\n';
    // WHEN
    const { out, error } = parseRequest(wire, 1);
    // THEN
    expect(error).toBeUndefined();
    expect(out.bodies[0]).toBe('hello world');
    expect(out.trailers[0]).toEqual(['x-t', '1']);
    expect(out.completes).toBe(1);
  });

  test('handles pipelined requests one at a time', () => {
    // GIVEN
    const wire =
      'POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: h\r\n\r\n';
    const { handler, out } = collector<H1RequestHead>();
    const parser = new H1Parser<H1RequestHead>('request', handler);
    // WHEN
    parser.execute(Buffer.from(wire, 'latin1'));
    // THEN: only the first is delivered until resume()
    expect(out.heads.map((h) => h.path)).toEqual(['/1']);
    expect(out.bodies[0]).toBe('abc');
    parser.resume();
    expect(out.heads.map((h) => h.path)).toEqual(['/1', '/2']);
  });

  test.each([
    [
      'CL and TE together',
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
    ],
    ['duplicate CL', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 400],
    ['non-numeric CL', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n', 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 400],
    ['bare LF', 'GET / HTTP/1.1\nHost: h\n\n', 400],
    ['bare LF inside head', 'GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n', 400],
    ['NUL in value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n', 400],
    ['TE gzip', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['bad chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    [
      'chunk size overflow',
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
      400,
    ],
    [
      'missing CRLF after chunk',
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX',
      400,
    ],
    ['missing host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['garbage request line', 'GARBAGE\r\n\r\n', 400],
    ['HTTP/2.0 version', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505],
  ])('rejects %s', (_name, wire, status) => {
    // GIVEN a malformed request / WHEN parsed
    const { error } = parseRequest(wire);
    // THEN
    expect(error?.status).toBe(status);
  });

  test('answers 431 when the head exceeds 60 KiB', () => {
    // GIVEN
    const wire = `GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(61 * 1024)}`;
    // WHEN
    const { error } = parseRequest(wire, 4096);
    // THEN
    expect(error?.status).toBe(431);
  });

  test('HTTP/1.0 closes by default and keeps alive on request', () => {
    // GIVEN / WHEN
    const a = parseRequest('GET / HTTP/1.0\r\n\r\n');
    const b = parseRequest('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    // THEN
    expect(a.out.heads[0]?.keepAlive).toBe(false);
    expect(b.out.heads[0]?.keepAlive).toBe(true);
  });

  test('reads absolute-form targets, upgrades and 100-continue', () => {
    // GIVEN / WHEN
    const { out } = parseRequest(
      'GET http://a.example:8080/x?y HTTP/1.1\r\nHost: ignored\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nExpect: 100-continue\r\n\r\n',
    );
    // THEN
    expect(out.heads[0]).toMatchObject({
      authority: 'a.example:8080',
      path: '/x?y',
      upgrade: 'websocket',
      expectContinue: true,
    });
  });
});

describe('H1Parser responses', () => {
  function parseResponse(
    wire: string,
    head = false,
  ): { out: Collected<H1ResponseHead>; parser: H1Parser<H1ResponseHead> } {
    const { handler, out } = collector<H1ResponseHead>();
    const parser = new H1Parser<H1ResponseHead>('response', handler);
    parser.expectNoBody = head;
    parser.execute(Buffer.from(wire, 'latin1'));
    return { out, parser };
  }

  test('skips 100 Continue and reads the final response', () => {
    // GIVEN / WHEN
    const { out } = parseResponse(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    // THEN
    expect(out.heads.map((h) => h.status)).toEqual([100, 200]);
    expect(out.bodies[1]).toBe('ok');
    expect(out.completes).toBe(1);
  });

  test('close-delimited body ends on finish()', () => {
    // GIVEN
    const { out, parser } = parseResponse('HTTP/1.1 200 OK\r\n\r\npart');
    // WHEN
    const error = parser.finish();
    // THEN
    expect(error).toBeUndefined();
    expect(out.heads[0]?.keepAlive).toBe(false);
    expect(out.bodies[0]).toBe('part');
    expect(out.completes).toBe(1);
  });

  test('HEAD, 204 and 304 responses have no body whatever their headers say', () => {
    // GIVEN / WHEN
    const head = parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', true);
    const noContent = parseResponse('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n');
    // THEN
    expect(head.out.completes).toBe(1);
    expect(noContent.out.completes).toBe(1);
  });

  test('a truncated body is an error at finish()', () => {
    // GIVEN
    const { parser } = parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    // WHEN / THEN
    expect(parser.finish()?.status).toBe(400);
  });
});
