// The address commands on Unix socket (pipe) addresses, which Envoy prints as their path with no
// port: pure formatting over the real compiled formats, no sockets needed.
import { describe, expect, test } from 'vitest';
import { compileFormat, renderText } from '../../../proxy/accesslog/index.js';

const FORMAT = compileFormat(
  '%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_REMOTE_PORT%|%UPSTREAM_HOST%|%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
  'test',
);

describe('address commands', () => {
  test('a pipe path, even one with a colon, prints whole and has no port', () => {
    // GIVEN a pipe peer and a pipe upstream whose path holds a colon
    const ctx = { startTimeMs: 0, downstreamRemoteAddress: '/run/app:1/in.sock', upstreamHost: '@mesh:xds' };
    // WHEN rendered
    const line = renderText(FORMAT, ctx);
    // THEN the paths are printed as they are and the port is absent (-)
    expect(line).toBe('/run/app:1/in.sock|/run/app:1/in.sock|-|@mesh:xds|@mesh:xds');
  });

  test('IP addresses keep their ports split as before', () => {
    // GIVEN an IPv4 peer and an IPv6 upstream
    const ctx = { startTimeMs: 0, downstreamRemoteAddress: '10.0.0.1:5555', upstreamHost: '[::1]:8080' };
    // WHEN rendered
    const line = renderText(FORMAT, ctx);
    // THEN
    expect(line).toBe('10.0.0.1:5555|10.0.0.1|5555|[::1]:8080|::1');
  });
});
