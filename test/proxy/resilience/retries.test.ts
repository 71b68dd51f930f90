// Retries, per-try timeouts and the retry circuit breaker through the real proxy, against real
// node:http upstreams on loopback (port 0). Nothing is stood in.
import type http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { counter, get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** An upstream that answers `failures` times with `status`, then 200. */
async function flaky(name: string, failures: number, status = 503) {
  let left = failures;
  return httpUpstream(closer, name, (_req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    if (left > 0) {
      left--;
      res.statusCode = status;
      res.end('fail');
      return;
    }
    res.setHeader('x-upstream', name);
    res.end(`ok ${body}`);
  });
}

describe('retries', () => {
  test('a 503 is retried under retry_on 5xx and the retry succeeds', async () => {
    // GIVEN an upstream failing twice, and num_retries 2
    const up = await flaky('u0', 2);
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        retry_policy: { retry_on: '5xx', num_retries: 2, retry_back_off: { base_interval: '0.005s' } },
      },
    });
    // WHEN
    const res = await get(port, { method: 'POST', body: 'payload' });
    // THEN the third attempt answers, with the replayed body
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok payload');
    expect(up.seen.map((s) => s.body)).toEqual(['payload', 'payload', 'payload']);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBe(2);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry_success')).toBe(1);
    // every upstream response is counted, the retried 503s included
    expect(counter(proxy, 'cluster.svc.upstream_rq_503')).toBe(2);
    expect(counter(proxy, 'cluster.svc.upstream_rq_200')).toBe(1);
  });

  test('retries stop at num_retries: the last failure goes back with URX counted', async () => {
    // GIVEN an upstream that always fails
    const up = await flaky('u0', 100);
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        retry_policy: {
          retry_on: 'gateway-error',
          num_retries: 1,
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    // WHEN
    const res = await get(port);
    // THEN two attempts, the upstream's 503 returned, limit exceeded counted
    expect(res.status).toBe(503);
    expect(res.body).toBe('fail');
    expect(up.seen).toHaveLength(2);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry_limit_exceeded')).toBe(1);
  });

  test('a status outside retry_on is not retried; retriable-status-codes adds one', async () => {
    // GIVEN 409 twice; first route retries only 5xx
    const up = await flaky('u0', 1, 409);
    const plain = await startScenario(closer, {
      ports: [up.port],
      routeAction: { retry_policy: { retry_on: '5xx', num_retries: 3 } },
    });
    // WHEN / THEN
    expect((await get(plain.port)).status).toBe(409);
    // GIVEN a fresh failure and retriable-4xx (Envoy: 409 only)
    const up2 = await flaky('u1', 1, 409);
    const r4 = await startScenario(closer, {
      ports: [up2.port],
      routeAction: {
        retry_policy: {
          retry_on: 'retriable-4xx',
          num_retries: 3,
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    expect((await get(r4.port)).status).toBe(200);
    // AND retriable-status-codes with 418
    const up3 = await flaky('u2', 1, 418);
    const rs = await startScenario(closer, {
      ports: [up3.port],
      routeAction: {
        retry_policy: {
          retry_on: 'retriable-status-codes',
          retriable_status_codes: [418],
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    expect((await get(rs.port)).status).toBe(200);
  });

  test('connect-failure retries onto another host; previous_hosts avoids the dead one', async () => {
    // GIVEN one dead port (a server closed again) and one live upstream
    const dead = await httpUpstream(closer, 'dead');
    await closer.closeAll();
    const live = await httpUpstream(closer, 'live');
    const { port, proxy } = await startScenario(closer, {
      ports: [dead.port, live.port],
      routeAction: {
        retry_policy: {
          retry_on: 'connect-failure',
          num_retries: 2,
          retry_back_off: { base_interval: '0.005s' },
          retry_host_predicate: [
            {
              name: 'envoy.retry_host_predicates.previous_hosts',
              typed_config: {
                '@type':
                  'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
              },
            },
          ],
          host_selection_retry_max_attempts: '3',
        },
      },
    });
    // WHEN 20 requests (round robin sends half of the first attempts to the dead host)
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await get(port));
    // THEN every request succeeds on the live host
    expect(results.every((r) => r.status === 200 && r.headers['x-upstream'] === 'live')).toBe(true);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBeGreaterThanOrEqual(5);
  });

  test('x-envoy-retry-on and x-envoy-max-retries enable retries per request and are not forwarded', async () => {
    // GIVEN no retry policy on the route
    const up = await flaky('u0', 1);
    const { port } = await startScenario(closer, { ports: [up.port] });
    // WHEN the client asks for retries
    const res = await get(port, { headers: { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '1' } });
    // THEN
    expect(res.status).toBe(200);
    expect(up.seen).toHaveLength(2);
    expect(up.seen[1]?.headers['x-envoy-retry-on']).toBeUndefined();
    expect(up.seen[1]?.headers['x-envoy-max-retries']).toBeUndefined();
  });

  test('per_try_timeout cuts a slow attempt and the retry answers; the last one gives 504 UT', async () => {
    // GIVEN an upstream whose first answer takes 2 s
    let calls = 0;
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      calls++;
      if (calls === 1) setTimeout(() => res.end('late'), 2000);
      else res.end('fast');
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        retry_policy: {
          retry_on: '5xx',
          num_retries: 1,
          per_try_timeout: '0.1s',
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    // WHEN
    const res = await get(port);
    // THEN
    expect(res.body).toBe('fast');
    expect(counter(proxy, 'cluster.svc.upstream_rq_per_try_timeout')).toBe(1);
    // AND with x-envoy-upstream-rq-per-try-timeout-ms and no retry left, 504
    calls = 0;
    const timedOut = await get(port, {
      headers: { 'x-envoy-upstream-rq-per-try-timeout-ms': '50', 'x-envoy-max-retries': '0' },
    });
    expect(timedOut.status).toBe(504);
  });

  test('x-envoy-upstream-rq-timeout-ms overrides the route timeout', async () => {
    // GIVEN an upstream that takes 1.5 s, route timeout 15 s (default)
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late'), 1500);
    });
    const { port } = await startScenario(closer, { ports: [up.port] });
    // WHEN the client allows 100 ms
    const started = Date.now();
    const res = await get(port, { headers: { 'x-envoy-upstream-rq-timeout-ms': '100' } });
    // THEN 504 well before the upstream answers
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('max_retries 0 refuses every retry: upstream_rq_retry_overflow counts it', async () => {
    // GIVEN
    const up = await flaky('u0', 1);
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { retry_policy: { retry_on: '5xx', num_retries: 3 } },
      cluster: { circuit_breakers: { thresholds: [{ max_retries: 0 }] } },
    });
    // WHEN
    const res = await get(port);
    // THEN
    expect(res.status).toBe(503);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry_overflow')).toBe(1);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBe(0);
  });
});

describe('retry conditions over the wire', () => {
  test('reset: an upstream that drops the connection before answering is retried', async () => {
    // GIVEN an upstream that destroys the first request's socket
    let calls = 0;
    const up = await httpUpstream(closer, 'drop', (req, res) => {
      calls++;
      if (calls === 1) req.socket.destroy();
      else res.end('second');
    });
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        retry_policy: { retry_on: 'reset', num_retries: 1, retry_back_off: { base_interval: '0.005s' } },
      },
    });
    // WHEN / THEN
    expect((await get(port)).body).toBe('second');
  });

  test('retriable-headers: a response header the policy names triggers a retry', async () => {
    // GIVEN an upstream answering 200 with x-try-again once
    let calls = 0;
    const up = await httpUpstream(closer, 'hdr', (_req, res) => {
      calls++;
      if (calls === 1) res.setHeader('x-try-again', 'yes');
      res.end(`call ${calls}`);
    });
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        retry_policy: {
          retry_on: 'retriable-headers',
          retriable_headers: [{ name: 'x-try-again', string_match: { exact: 'yes' } }],
          retry_back_off: { base_interval: '0.005s' },
        },
      },
    });
    // WHEN / THEN
    expect((await get(port)).body).toBe('call 2');
  });
});

describe('route timeouts', () => {
  test('a route max_stream_duration ends a slow stream with 408 (DT) and counts it', async () => {
    // GIVEN an upstream taking 1 s and a 150 ms max_stream_duration on the route
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late'), 1000);
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { max_stream_duration: { max_stream_duration: '0.15s' } },
    });
    // WHEN
    const res = await get(port);
    // THEN
    expect(res.status).toBe(408);
    expect(res.body).toBe('downstream duration timeout');
    expect(counter(proxy, 'http.ingress_http.downstream_rq_max_duration_reached')).toBe(1);
  });

  test('the connection manager max_stream_duration applies when the route sets none', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late'), 1000);
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      hcm: { common_http_protocol_options: { max_stream_duration: '0.15s' } },
    });
    // WHEN / THEN
    expect((await get(port)).status).toBe(408);
    expect(counter(proxy, 'http.ingress_http.downstream_rq_max_duration_reached')).toBe(1);
  });

  test('a cluster max_stream_duration ends the upstream request with 408 (UMSDR)', async () => {
    // GIVEN the limit on the cluster's protocol options
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late'), 1000);
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: {
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            common_http_protocol_options: { max_stream_duration: '0.15s' },
            explicit_http_config: { http_protocol_options: {} },
          },
        },
      },
    });
    // WHEN
    const res = await get(port);
    // THEN
    expect(res.status).toBe(408);
    expect(res.body).toBe('upstream max stream duration reached');
    expect(counter(proxy, 'cluster.svc.upstream_rq_max_duration_reached')).toBe(1);
  });

  test("grpc_timeout_header_max: a gRPC request's grpc-timeout is its stream limit, capped and less the offset", async () => {
    // GIVEN an upstream taking 2 s, a route that takes grpc-timeout (capped at 300 ms, 50 ms offset)
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late'), 2000);
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        max_stream_duration: { grpc_timeout_header_max: '0.3s', grpc_timeout_header_offset: '0.05s' },
      },
    });
    const grpc = (timeout: string) =>
      get(port, {
        method: 'POST',
        headers: { 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': timeout },
        body: '',
      });
    // WHEN a call asks for 150 ms, another for 1 hour (capped), another for 20 ms (eaten by the offset)
    const started = Date.now();
    const [short, long, gone] = await Promise.all([grpc('150m'), grpc('1H'), grpc('20m')]);
    const elapsed = Date.now() - started;
    // THEN each ends with DEADLINE_EXCEEDED long before the upstream answers, counted as DT
    for (const res of [short, long, gone]) {
      expect(res.status).toBe(200);
      expect(res.headers['grpc-status']).toBe('4');
      expect(res.headers['grpc-message']).toBe('downstream%20duration%20timeout');
    }
    expect(elapsed).toBeLessThan(1900);
    expect(counter(proxy, 'http.ingress_http.downstream_rq_max_duration_reached')).toBe(3);
  });

  test('without a grpc-timeout header the route max_stream_duration still applies', async () => {
    // GIVEN grpc_timeout_header_max and a 150 ms max_stream_duration on the route
    const up = await httpUpstream(closer, 'slow', (_req, res) => {
      setTimeout(() => res.end('late'), 1000);
    });
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { max_stream_duration: { max_stream_duration: '0.15s', grpc_timeout_header_max: '0s' } },
    });
    // WHEN a plain request and a gRPC call without grpc-timeout are sent
    const plain = await get(port);
    const call = await get(port, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc' },
      body: '',
    });
    // THEN both hit the route's limit
    expect(plain.status).toBe(408);
    expect(call.headers['grpc-status']).toBe('4');
  });

  test('a route idle_timeout overrides the stream idle timeout', async () => {
    // GIVEN an upstream silent for 1 s and a 150 ms route idle_timeout
    const up = await httpUpstream(closer, 'silent', (_req, res) => {
      setTimeout(() => res.end('late'), 1000);
    });
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { idle_timeout: '0.15s' },
    });
    // WHEN
    const started = Date.now();
    const res = await get(port);
    // THEN the stream idle timeout answers (408) long before the upstream would
    expect(res.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(900);
  });
});

describe('request body replay limit', () => {
  test('a body beyond the buffer limit is sent once and not retried; a small one is replayed', async () => {
    // GIVEN an upstream that always fails, retries on 5xx, a 1 KiB listener buffer limit
    const up = await flaky('u0', 100);
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        retry_policy: { retry_on: '5xx', num_retries: 2, retry_back_off: { base_interval: '0.005s' } },
      },
      listener: { per_connection_buffer_limit_bytes: 1024 },
    });
    // WHEN a 16 KiB body goes up
    const big = await get(port, { method: 'POST', body: 'x'.repeat(16 * 1024) });
    // THEN one attempt, whole body, the failure returned
    expect(big.status).toBe(503);
    expect(up.seen).toHaveLength(1);
    expect(up.seen[0]?.body).toHaveLength(16 * 1024);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBe(0);
    // AND a 100-byte body is retried twice
    await get(port, { method: 'POST', body: 'y'.repeat(100) });
    expect(up.seen.slice(1).map((s) => s.body.length)).toEqual([100, 100, 100]);
  });
});

describe('per-try timeout span', () => {
  test('it covers the whole response: a body that stalls after the head is cut short', async () => {
    // GIVEN an upstream that sends its head and a first chunk, then stalls
    const up = await httpUpstream(closer, 'stall', (_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('abc');
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { retry_policy: { retry_on: '5xx', num_retries: 1, per_try_timeout: '0.2s' } },
    });
    // WHEN
    const res = await get(port);
    // THEN the client sees a truncated response (status 0 from the helper), not a retry
    expect(res.status).toBe(0);
    expect(counter(proxy, 'cluster.svc.upstream_rq_per_try_timeout')).toBe(1);
    expect(counter(proxy, 'cluster.svc.upstream_rq_retry')).toBe(0);
  });
});
