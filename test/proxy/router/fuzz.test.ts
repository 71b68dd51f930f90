// Property tests: hostile requests and hostile config strings never crash the router, the RE2
// translator or the format compiler; they route, or fail with a MeshError. Pure computation.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { compileFormat, renderText } from '../../../proxy/accesslog/substitution.js';
import type { RouteConfiguration } from '../../../proxy/config/envoy.js';
import { compileRe2, compileRouteConfiguration, type RouteRequest } from '../../../proxy/router/index.js';

const table = compileRouteConfiguration({
  name: 'fuzz',
  virtual_hosts: [
    {
      name: 'api',
      domains: ['api.example.com', '*.svc.local', 'api.*'],
      routes: [
        {
          match: { safe_regex: { regex: '/users/[0-9]+' } },
          route: {
            cluster: 'users',
            hash_policy: [
              { header: { header_name: 'x-user' } },
              { cookie: { name: 's', ttl: '10s' } },
              { query_parameter: { name: 'q' } },
              { connection_properties: { source_ip: true } },
            ],
          },
        },
        {
          match: { prefix: '/r', case_sensitive: false },
          redirect: { https_redirect: true, prefix_rewrite: '/x', strip_query: true },
        },
        { match: { path: '/direct' }, direct_response: { status: 200, body: { inline_string: 'ok' } } },
        {
          match: {
            prefix: '/',
            headers: [{ name: 'x-v', range_match: { start: '1', end: '9' } }],
            query_parameters: [{ name: 'a', present_match: true }],
          },
          route: { cluster: 'ranged' },
        },
        {
          match: { prefix: '/' },
          route: {
            weighted_clusters: {
              clusters: [
                { name: 'a', weight: 1 },
                { name: 'b', weight: 1 },
              ],
            },
            regex_rewrite: { pattern: { regex: '^/(.*)$' }, substitution: '/v1/\\1' },
          },
        },
      ],
    },
    { name: 'default', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'default' } }] },
  ],
} as RouteConfiguration);

const anyString = fc.string({ maxLength: 200, unit: 'binary' });
const headerList = fc
  .array(fc.tuple(fc.constantFrom('x-user', 'cookie', 'x-v', 'content-type', 'host', ':path'), anyString), {
    maxLength: 8,
  })
  .map((pairs) => pairs.flat());

describe('router under hostile input', () => {
  test('route, rewrite, header mutation and hashKey never throw', () => {
    fc.assert(
      fc.property(
        anyString,
        anyString,
        anyString,
        headerList,
        anyString,
        fc.constantFrom('http', 'https'),
        (authority, path, method, headers, source, scheme) => {
          // GIVEN a random request
          const req: RouteRequest = {
            authority,
            path,
            method,
            headers,
            sourceAddress: source,
            scheme: scheme as 'http' | 'https',
          };
          // WHEN
          const r = table.route(req);
          // THEN it routes somewhere and the route's operations work on it
          expect(['cluster', 'direct', 'redirect', 'none']).toContain(r.kind);
          if (r.kind === 'cluster') {
            r.route.rewritePath(path);
            r.route.applyRequestHeaders([...headers], { startTimeMs: 0 });
            const h = r.route.hashKey(req, {});
            if (h !== undefined) expect(Number.isSafeInteger(h)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('random RE2 patterns compile or fail with a MeshError', () => {
    fc.assert(
      fc.property(
        fc.string({
          maxLength: 40,
          unit: fc.constantFrom(
            'a',
            '(',
            ')',
            '[',
            ']',
            '\\',
            '?',
            '*',
            '+',
            '{',
            '}',
            '1',
            ',',
            ':',
            '^',
            '$',
            '|',
            'P',
            '<',
            '>',
            '=',
            '!',
            'x',
            'p',
            'Q',
            'E',
            '-',
            '.',
          ),
        }),
        (pattern) => {
          // GIVEN any pattern
          // WHEN / THEN
          try {
            const re = compileRe2(pattern, { path: 'p' });
            expect(re).toBeInstanceOf(RegExp);
          } catch (error) {
            expect(error).toBeInstanceOf(MeshError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('random format strings compile or fail with a MeshError, and render', () => {
    fc.assert(
      fc.property(
        fc.string({
          maxLength: 60,
          unit: fc.constantFrom(
            '%',
            'R',
            'E',
            'Q',
            '(',
            ')',
            ':',
            '1',
            'X',
            'S',
            'T',
            'A',
            '_',
            'START_TIME',
            'REQ',
            'PROTOCOL',
            ' ',
            '?',
          ),
        }),
        (format) => {
          // GIVEN any format text
          try {
            // WHEN
            const f = compileFormat(format, 'p');
            // THEN it renders
            expect(typeof renderText(f, { startTimeMs: 0 })).toBe('string');
          } catch (error) {
            expect(error).toBeInstanceOf(MeshError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
