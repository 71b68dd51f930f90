// Shared helpers for the resilience tests: a bootstrap with one route (retry policy, filters,
// timeouts) in front of real node:http upstreams on loopback (port 0), and a keep-alive client.
// Nothing is stood in: the proxy, the upstreams and the client talk over real sockets.
import http from 'node:http';
import type { ProxyHandle } from '../../../proxy/main.js';
import { bootstrapJson, type Closer, ingressPort, startFromJson } from '../e2e/helpers.js';

/** What a resilience scenario configures. */
export interface Scenario {
  /** Upstream ports of the cluster `svc`. */
  readonly ports: readonly number[];
  /** Extra RouteAction fields (retry_policy, timeout...). */
  readonly routeAction?: Record<string, unknown>;
  /** Extra VirtualHost fields (include_request_attempt_count...). */
  readonly virtualHost?: Record<string, unknown>;
  /** Routes instead of the single catch-all one. */
  readonly routes?: readonly Record<string, unknown>[];
  /** Extra Cluster fields (outlier_detection, circuit_breakers, health_checks...). */
  readonly cluster?: Record<string, unknown>;
  /** HTTP filters before the router. */
  readonly filters?: readonly Record<string, unknown>[];
  /** Extra HttpConnectionManager fields. */
  readonly hcm?: Record<string, unknown>;
  /** Extra Listener fields. */
  readonly listener?: Record<string, unknown>;
}

/** Starts the proxy for `scenario`; returns its listener port, admin port and stats. */
export async function startScenario(closer: Closer, scenario: Scenario) {
  const json = bootstrapJson({
    admin: true,
    routeConfig: {
      virtual_hosts: [
        {
          name: 'all',
          domains: ['*'],
          ...scenario.virtualHost,
          routes: scenario.routes ?? [
            { match: { prefix: '/' }, route: { cluster: 'svc', ...scenario.routeAction } },
          ],
        },
      ],
    },
    clusters: [
      { name: 'svc', ports: scenario.ports, ...(scenario.cluster ? { extra: scenario.cluster } : {}) },
    ],
    ...(scenario.filters ? { httpFilters: scenario.filters } : {}),
    ...(scenario.hcm ? { hcm: scenario.hcm } : {}),
    ...(scenario.listener ? { listenerExtra: scenario.listener } : {}),
  });
  const proxy = await startFromJson(closer, json);
  return { port: ingressPort(proxy), admin: proxy.admin?.port ?? 0, proxy };
}

/** Reads a counter from the proxy's stats store. */
export function counter(proxy: ProxyHandle, name: string): number {
  return proxy.stats.counter(name).value;
}

/** Reads a gauge from the proxy's stats store. */
export function gauge(proxy: ProxyHandle, name: string): number {
  return proxy.stats.gauge(name).value;
}

/** A keep-alive agent (closed by the closer). */
export function keepAliveAgent(closer: Closer, maxSockets = 16): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  closer.add(() => agent.destroy());
  return agent;
}

/** One request; network errors become status 0 rather than throwing. */
export function get(
  port: number,
  options: {
    path?: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    agent?: http.Agent;
  } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', () => resolve({ status: 0, headers: {}, body }));
      },
    );
    req.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
    req.end(options.body);
  });
}
