// Access log tests: formatting is pure; the file sink writes a real file in a temp directory.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import {
  compileAccessLog,
  compileFormat,
  DEFAULT_FORMAT,
  type FormatContext,
  formatResponseFlags,
  ResponseFlag,
  renderText,
} from '../../../proxy/accesslog/index.js';
import type { AccessLog } from '../../../proxy/config/envoy.js';
import { StatsStore } from '../../../proxy/stats/store.js';

const FILE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

const entry: FormatContext = {
  startTimeMs: Date.UTC(2026, 10, 25, 13, 50, 19, 123),
  method: 'GET',
  path: '/api/users?x=1',
  authority: 'shop.local:8080',
  protocol: 'HTTP/1.1',
  requestHeaders: ['user-agent', 'curl/8.5.0', 'x-request-id', 'abc-123', 'x-forwarded-for', '10.0.0.9'],
  responseHeaders: ['x-envoy-upstream-service-time', '7', 'content-type', 'application/json'],
  responseCode: 200,
  responseFlags: 0,
  bytesReceived: 0,
  bytesSent: 42,
  durationMs: 12.7,
  upstreamHost: '127.0.0.1:9000',
  upstreamCluster: 'users',
  downstreamRemoteAddress: '10.0.0.9:51234',
  downstreamLocalAddress: '127.0.0.1:8080',
};

function tmpFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'alog-')), 'access.log');
}

describe('formats', () => {
  test('the default format matches Envoy byte for byte', () => {
    // GIVEN / WHEN
    const line = renderText(compileFormat(DEFAULT_FORMAT, 'x'), entry);
    // THEN
    expect(line).toBe(
      '[2026-11-25T13:50:19.123Z] "GET /api/users?x=1 HTTP/1.1" 200 - 0 42 12 7 "10.0.0.9" "curl/8.5.0" "abc-123" "shop.local:8080" "127.0.0.1:9000"\n',
    );
  });

  test('the original path wins over the rewritten one, missing values print as -', () => {
    // GIVEN a rewritten request with no upstream and no user agent
    const ctx: FormatContext = {
      startTimeMs: 0,
      method: 'POST',
      path: '/v2/x',
      protocol: 'HTTP/2',
      requestHeaders: ['x-envoy-original-path', '/v1/x'],
      responseCode: 404,
      responseFlags: ResponseFlag.NoRouteFound,
    };
    // WHEN
    const line = renderText(compileFormat(DEFAULT_FORMAT, 'x'), ctx);
    // THEN
    expect(line).toBe('[1970-01-01T00:00:00.000Z] "POST /v1/x HTTP/2" 404 NR 0 0 - - "-" "-" "-" "-" "-"\n');
  });

  test('response flags print in Envoy order', () => {
    // GIVEN / WHEN / THEN
    expect(formatResponseFlags(0)).toBe('-');
    expect(
      formatResponseFlags(ResponseFlag.UpstreamRetryLimitExceeded | ResponseFlag.UpstreamConnectionFailure),
    ).toBe('UF,URX');
    expect(
      formatResponseFlags(
        ResponseFlag.NoHealthyUpstream |
          ResponseFlag.UpstreamRequestTimeout |
          ResponseFlag.DownstreamConnectionTermination,
      ),
    ).toBe('UH,UT,DC');
  });

  test('commands with arguments, truncation and START_TIME formats', () => {
    // GIVEN
    const f = compileFormat(
      '%REQ(USER-AGENT):4% %RESP(CONTENT-TYPE)% %START_TIME(%Y/%m/%d %H:%M:%S.%3f)% %START_TIME(%s)% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_PORT% %UPSTREAM_CLUSTER% 100%%',
      'p',
    );
    // WHEN / THEN
    expect(renderText(f, entry)).toBe(
      'curl application/json 2026/11/25 13:50:19.123 1795614619 10.0.0.9 8080 users 100%',
    );
  });

  test.each([
    ['%NOPE%', /unknown command %NOPE%/],
    ['%REQ()%', /needs a header name/],
    ['%PROTOCOL(x)%', /takes no argument/],
    ['50% off', /does not start a %COMMAND%/],
    ['%START_TIME(%Q)%', /unsupported specifier/],
  ])('rejects %s', (format, why) => {
    // GIVEN / WHEN / THEN
    expect(() => compileFormat(format, 'a.b')).toThrow(why);
  });
});

describe('compileAccessLog', () => {
  test('writes the default format to a file, buffered until flush', async () => {
    // GIVEN
    const path = tmpFile();
    const store = new StatsStore();
    const logger = compileAccessLog(
      [{ name: 'envoy.access_loggers.file', typed_config: { '@type': FILE, path } } as AccessLog],
      { stats: store, flushIntervalMs: 60_000 },
    );
    // WHEN
    logger.log(entry);
    logger.log({ ...entry, responseCode: 503, responseFlags: ResponseFlag.UpstreamConnectionFailure });
    const before = readFileSync(path, 'utf8');
    await logger.flush();
    // THEN
    expect(before).toBe('');
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('" 503 UF 0 42 12 ');
    expect(store.counter('access_log_file.write_buffered').value).toBe(2);
    expect(store.counter('access_log_file.write_completed').value).toBe(1);
    await logger.close();
  });

  test('the flush timer writes without an explicit flush', async () => {
    // GIVEN
    const path = tmpFile();
    const logger = compileAccessLog(
      [
        {
          typed_config: {
            '@type': FILE,
            path,
            log_format: { text_format_source: { inline_string: '%RESPONSE_CODE% %PROTOCOL%\n' } },
          },
        } as AccessLog,
      ],
      { flushIntervalMs: 10 },
    );
    // WHEN
    logger.log(entry);
    // THEN the line arrives with no flush call (polled: a loaded machine may take longer than a
    // fixed sleep to run the timer and the write)
    await vi.waitFor(() => expect(readFileSync(path, 'utf8')).toBe('200 HTTP/1.1\n'), {
      timeout: 5000,
      interval: 10,
    });
    await logger.close();
  });

  test('reopen switches to a new file at the same path (log rotation)', async () => {
    // GIVEN a log with one line written, then rotated away
    const path = tmpFile();
    const logger = compileAccessLog([
      {
        typed_config: {
          '@type': FILE,
          path,
          log_format: { text_format_source: { inline_string: '%RESPONSE_CODE%\n' } },
        },
      } as AccessLog,
    ]);
    logger.log(entry);
    await logger.flush();
    const { renameSync } = await import('node:fs');
    renameSync(path, `${path}.1`);
    // WHEN reopened and logging continues
    logger.log({ ...entry, responseCode: 404 });
    await logger.reopen();
    logger.log({ ...entry, responseCode: 503 });
    await logger.close();
    // THEN lines before the reopen went to the rotated file, later ones to the new file
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('200\n404\n');
    expect(readFileSync(path, 'utf8')).toBe('503\n');
  });

  test('json_format keeps types, sorts keys, and can omit empty values', async () => {
    // GIVEN
    const path = tmpFile();
    const json_format = {
      status: '%RESPONSE_CODE%',
      method: '%REQ(:METHOD)%',
      ua: '%REQ(X-MISSING)%',
      nested: { host: '%UPSTREAM_HOST%', label: 'fixed', n: 3 },
      mixed: 'code=%RESPONSE_CODE%',
    };
    const logger = compileAccessLog([
      { typed_config: { '@type': FILE, path, log_format: { json_format } } } as AccessLog,
      {
        typed_config: { '@type': FILE, path, log_format: { json_format, omit_empty_values: true } },
      } as AccessLog,
    ]);
    // WHEN
    logger.log(entry);
    await logger.flush();
    // THEN
    const [a, b] = readFileSync(path, 'utf8').trim().split('\n');
    expect(a).toBe(
      '{"method":"GET","mixed":"code=200","nested":{"host":"127.0.0.1:9000","label":"fixed","n":3},"status":200,"ua":null}',
    );
    expect(JSON.parse(b as string)).not.toHaveProperty('ua');
    await logger.close();
  });

  test('a log entry that breaks a formatter is dropped, never thrown', () => {
    // GIVEN a hand-built entry with wrong types (hostile input must not crash the proxy)
    const logger = compileAccessLog([{ typed_config: { '@type': FILE, path: tmpFile() } } as AccessLog]);
    // WHEN / THEN
    expect(() => logger.log({ startTimeMs: Number.NaN } as FormatContext)).not.toThrow();
    void logger.close();
  });

  test.each([
    [
      { typed_config: { '@type': FILE, path: '/nonexistent-dir/x.log' } },
      'access_log[0].typed_config.path',
      'PROXY_E_INVALID',
    ],
    [
      {
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig',
        },
      },
      'access_log[0].typed_config.@type',
      'PROXY_E_UNSUPPORTED',
    ],
    [
      { filter: { metadata_filter: {} }, typed_config: { '@type': FILE, path: '/tmp/x' } },
      'access_log[0].filter.metadata_filter',
      'PROXY_E_UNSUPPORTED',
    ],
    [
      {
        typed_config: {
          '@type': FILE,
          path: '/tmp/x',
          log_format: { text_format_source: { inline_string: '%BAD%' } },
        },
      },
      'access_log[0].typed_config.log_format',
      'PROXY_E_INVALID',
    ],
  ])('rejects %j', (config, path, code) => {
    // GIVEN / WHEN / THEN
    expect(() => compileAccessLog([config as unknown as AccessLog])).toThrow(
      expect.objectContaining({ path, code }),
    );
  });
});
