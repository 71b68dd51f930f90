// Envoy's response flags for resilience outcomes in a real access log file: RL (rate limited),
// FI (fault abort), DI (fault delay), URX (retry limit exceeded). Real proxy, real node:http
// upstream on loopback (port 0), a temp file for the log. Nothing is stood in.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const RATELIMIT = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

describe('response flags of resilience outcomes', () => {
  test('RL, FI, DI and URX appear in %RESPONSE_FLAGS%', async () => {
    // GIVEN an upstream failing on /fail, and routes with a 1-token limit, an abort, a delay, retries
    const up = await httpUpstream(closer, 'u0', (req, res) => {
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end();
    });
    const logPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'crossmesh-resilience-log-')), 'access.log');
    const perRoute = (name: string, config: Record<string, unknown>) => ({ [name]: config });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routes: [
        {
          match: { prefix: '/rl' },
          route: { cluster: 'svc' },
          typed_per_filter_config: perRoute('envoy.filters.http.local_ratelimit', {
            '@type': RATELIMIT,
            stat_prefix: 'rl',
            token_bucket: { max_tokens: 1, fill_interval: '10s' },
            filter_enabled: { default_value: { numerator: 100 } },
            filter_enforced: { default_value: { numerator: 100 } },
          }),
        },
        {
          match: { prefix: '/abort' },
          route: { cluster: 'svc' },
          typed_per_filter_config: perRoute('envoy.filters.http.fault', {
            '@type': FAULT,
            abort: { http_status: 500, percentage: { numerator: 100 } },
          }),
        },
        {
          match: { prefix: '/delay' },
          route: { cluster: 'svc' },
          typed_per_filter_config: perRoute('envoy.filters.http.fault', {
            '@type': FAULT,
            delay: { fixed_delay: '0.01s', percentage: { numerator: 100 } },
          }),
        },
        {
          match: { prefix: '/fail' },
          route: {
            cluster: 'svc',
            retry_policy: { retry_on: '5xx', num_retries: 1, retry_back_off: { base_interval: '0.005s' } },
          },
        },
      ],
      filters: [
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: {
            '@type': RATELIMIT,
            stat_prefix: 'base',
            token_bucket: { max_tokens: 1000, fill_interval: '1s' },
          },
        },
        { name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT } },
      ],
      hcm: {
        access_log: [
          {
            name: 'envoy.access_loggers.file',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
              path: logPath,
              log_format: {
                text_format_source: { inline_string: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' },
              },
            },
          },
        ],
      },
    });
    // WHEN
    for (const p of ['/rl', '/rl', '/abort', '/delay', '/fail']) await get(port, { path: p });
    await proxy.close();
    // THEN
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(lines).toEqual(['/rl 200 -', '/rl 429 RL', '/abort 500 FI', '/delay 200 DI', '/fail 503 URX']);
  });
});
