// Access log filters: pure predicates over finished-request contexts, plus one end-to-end check
// through a real file sink in a temp directory. Nothing is stood in.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import {
  compileAccessLog,
  compileLogFilter,
  type FormatContext,
  ResponseFlag,
} from '../../../proxy/accesslog/index.js';
import type { AccessLog } from '../../../proxy/config/envoy.js';
import { bootstrapJson } from '../e2e/helpers.js';

const ctx = (over: Partial<FormatContext> = {}): FormatContext => ({
  startTimeMs: 0,
  responseCode: 200,
  durationMs: 10,
  ...over,
});

describe('compileLogFilter', () => {
  test('status code comparisons (op defaults to EQ, as proto3 JSON omits it)', () => {
    // GIVEN
    const ge500 = compileLogFilter(
      { status_code_filter: { comparison: { op: 'GE', value: { default_value: 500, runtime_key: 'k' } } } },
      'f',
    );
    const eq404 = compileLogFilter(
      { status_code_filter: { comparison: { value: { default_value: 404, runtime_key: 'k' } } } },
      'f',
    );
    // WHEN / THEN
    expect(ge500(ctx({ responseCode: 503 }))).toBe(true);
    expect(ge500(ctx({ responseCode: 200 }))).toBe(false);
    expect(eq404(ctx({ responseCode: 404 }))).toBe(true);
  });

  test('duration, response flags, headers, and/or', () => {
    // GIVEN
    const slow = compileLogFilter(
      { duration_filter: { comparison: { op: 'GE', value: { default_value: 100, runtime_key: 'k' } } } },
      'f',
    );
    const anyFlag = compileLogFilter({ response_flag_filter: {} }, 'f');
    const ufOrUh = compileLogFilter({ response_flag_filter: { flags: ['UF', 'UH'] } }, 'f');
    const debug = compileLogFilter(
      { header_filter: { header: { name: 'x-debug', present_match: true } } },
      'f',
    );
    const both = compileLogFilter(
      {
        and_filter: {
          filters: [
            { response_flag_filter: {} },
            {
              duration_filter: { comparison: { op: 'GE', value: { default_value: 100, runtime_key: 'k' } } },
            },
          ],
        },
      },
      'f',
    );
    const either = compileLogFilter(
      {
        or_filter: {
          filters: [
            { response_flag_filter: {} },
            { header_filter: { header: { name: 'x-debug', present_match: true } } },
          ],
        },
      },
      'f',
    );
    // WHEN / THEN
    expect(slow(ctx({ durationMs: 150.2 }))).toBe(true);
    expect(anyFlag(ctx())).toBe(false);
    expect(anyFlag(ctx({ responseFlags: ResponseFlag.NoRouteFound }))).toBe(true);
    expect(ufOrUh(ctx({ responseFlags: ResponseFlag.NoRouteFound }))).toBe(false);
    expect(ufOrUh(ctx({ responseFlags: ResponseFlag.NoHealthyUpstream }))).toBe(true);
    expect(debug(ctx({ requestHeaders: ['x-debug', '1'] }))).toBe(true);
    expect(both(ctx({ responseFlags: ResponseFlag.UpstreamConnectionFailure, durationMs: 5 }))).toBe(false);
    expect(either(ctx({ requestHeaders: ['x-debug', '1'] }))).toBe(true);
  });

  test('runtime_filter samples its default percentage; not_health_check_filter passes everything', () => {
    // GIVEN
    let r = 0.3;
    const sample = compileLogFilter(
      { runtime_filter: { runtime_key: 'k', percent_sampled: { numerator: 25 } } },
      'f',
      () => r,
    );
    const notHc = compileLogFilter({ not_health_check_filter: {} }, 'f');
    // WHEN / THEN
    expect(sample(ctx())).toBe(false);
    r = 0.2;
    expect(sample(ctx())).toBe(true);
    expect(notHc(ctx())).toBe(true);
  });

  test.each([
    [{ response_flag_filter: { flags: ['XX'] } }, 'f.response_flag_filter.flags[0]', 'PROXY_E_INVALID'],
    [
      { and_filter: { filters: [{ not_health_check_filter: {} }] } },
      'f.and_filter.filters',
      'PROXY_E_INVALID',
    ],
    [{ grpc_status_filter: { statuses: ['OK'] } }, 'f.grpc_status_filter', 'PROXY_E_UNSUPPORTED'],
    [{}, 'f', 'PROXY_E_INVALID'],
  ])('rejects %j', (filter, path, code) => {
    // GIVEN / WHEN / THEN
    expect(() => compileLogFilter(filter, 'f')).toThrow(expect.objectContaining({ path, code }));
  });
});

describe('filtered access log', () => {
  test('only requests passing the filter are written', async () => {
    // GIVEN a file log of errors only
    const path = join(mkdtempSync(join(tmpdir(), 'alog-')), 'errors.log');
    const logger = compileAccessLog([
      {
        filter: {
          status_code_filter: { comparison: { op: 'GE', value: { default_value: 500, runtime_key: 'k' } } },
        },
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
          path,
          log_format: { text_format_source: { inline_string: '%RESPONSE_CODE%\n' } },
        },
      } as AccessLog,
    ]);
    // WHEN
    for (const code of [200, 503, 404, 500]) logger.log(ctx({ responseCode: code }));
    await logger.close();
    // THEN
    expect(readFileSync(path, 'utf8')).toBe('503\n500\n');
  });
});

describe('filters from a loaded config', () => {
  test('the strict loader canonical form compiles (op omitted when EQ, enums in capitals)', async () => {
    // GIVEN a YAML access log with filters, loaded by the real strict loader
    const { loadBootstrap } = await import('../../../proxy/config/load.js');
    const yaml = stringify(
      bootstrapJson({
        hcm: {
          access_log: [
            {
              name: 'envoy.access_loggers.stdout',
              filter: {
                or_filter: {
                  filters: [
                    {
                      status_code_filter: {
                        comparison: { op: 'ge', value: { default_value: 500, runtime_key: 'a' } },
                      },
                    },
                    {
                      status_code_filter: { comparison: { value: { default_value: 404, runtime_key: 'b' } } },
                    },
                  ],
                },
              },
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
              },
            },
          ],
        },
        routeConfig: {
          virtual_hosts: [
            {
              name: 'v',
              domains: ['*'],
              routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }],
            },
          ],
        },
        clusters: [],
      }),
    );
    const bootstrap = loadBootstrap(yaml);
    const hcm = bootstrap.static_resources?.listeners?.[0]?.filter_chains?.[0]?.filters?.[0]
      ?.typed_config as unknown as { access_log: AccessLog[] };
    // WHEN
    const filter = compileLogFilter(hcm.access_log[0]?.filter, 'f');
    // THEN
    expect([200, 404, 500, 503].map((responseCode) => filter(ctx({ responseCode })))).toEqual([
      false,
      true,
      true,
      true,
    ]);
  });
});
