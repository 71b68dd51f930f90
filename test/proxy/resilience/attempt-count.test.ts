// x-envoy-attempt-count (the virtual host's include_request_attempt_count and
// include_attempt_count_in_response) through the real proxy and its retry loop, against real
// node:http upstreams on loopback (port 0). Nothing is stood in.
import type http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** An upstream that answers 503 `failures` times, then 200. */
function flaky(failures: number) {
  let left = failures;
  return httpUpstream(closer, 'u0', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.statusCode = left-- > 0 ? 503 : 200;
    res.end();
  });
}

const RETRY = {
  retry_policy: { retry_on: '5xx', num_retries: 3, retry_back_off: { base_interval: '0.005s' } },
};

describe('x-envoy-attempt-count', () => {
  test('the upstream sees 1, 2, 3 across retries and the response carries the count', async () => {
    // GIVEN two failures, retries, and both virtual host flags
    const up = await flaky(2);
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: RETRY,
      virtualHost: { include_request_attempt_count: true, include_attempt_count_in_response: true },
    });
    // WHEN a client that claims an attempt count of its own sends a request
    const res = await get(port, { headers: { 'x-envoy-attempt-count': '7' } });
    // THEN each try carried its own number (the client's value replaced), the response the last
    expect(res.status).toBe(200);
    expect(up.seen.map((s) => s.headers['x-envoy-attempt-count'])).toEqual(['1', '2', '3']);
    expect(res.headers['x-envoy-attempt-count']).toBe('3');
  });

  test('a request without retries carries 1; a failed last try reports the tries made', async () => {
    // GIVEN an upstream that always fails; the route retries once
    const up = await flaky(100);
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routes: [
        { match: { prefix: '/plain' }, route: { cluster: 'svc' } },
        {
          match: { prefix: '/' },
          route: { cluster: 'svc', retry_policy: { retry_on: '5xx', num_retries: 1 } },
        },
      ],
      virtualHost: { include_request_attempt_count: true, include_attempt_count_in_response: true },
    });
    // WHEN
    const plain = await get(port, { path: '/plain' });
    const retried = await get(port, { path: '/retried' });
    // THEN
    expect(plain.headers['x-envoy-attempt-count']).toBe('1');
    expect(retried.status).toBe(503);
    expect(retried.headers['x-envoy-attempt-count']).toBe('2');
    expect(up.seen.map((s) => s.headers['x-envoy-attempt-count'])).toEqual(['1', '1', '2']);
  });

  test('a local reply after a failed connection carries the count too; no flag, no header', async () => {
    // GIVEN a port nothing listens on (connection refused, retried under connect-failure), response
    // count only; and a second proxy without the flags in front of a working upstream
    const dead = await httpUpstream(closer, 'dead');
    await closer.closeAll();
    const { port } = await startScenario(closer, {
      ports: [dead.port],
      routeAction: {
        retry_policy: {
          retry_on: 'connect-failure',
          num_retries: 1,
          retry_back_off: { base_interval: '0.005s' },
        },
      },
      virtualHost: { include_attempt_count_in_response: true },
    });
    const up = await flaky(0);
    const plain = await startScenario(closer, { ports: [up.port], routeAction: RETRY });
    // WHEN
    const refused = await get(port);
    const ok = await get(plain.port, { headers: { 'x-envoy-attempt-count': '5' } });
    // THEN the 503 UF says two tries were made; without the flags nothing is added or replaced
    expect(refused.status).toBe(503);
    expect(refused.headers['x-envoy-attempt-count']).toBe('2');
    expect(ok.headers['x-envoy-attempt-count']).toBeUndefined();
    expect(up.seen[0]?.headers['x-envoy-attempt-count']).toBe('5');
  });
});
