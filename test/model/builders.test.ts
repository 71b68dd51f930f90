// The factories are pure; nothing is stood in.
import { describe, expect, test } from 'vitest';
import {
  allow,
  defineMesh,
  grpc,
  hashOn,
  header,
  healthCheck,
  lb,
  local,
  match,
  port,
  query,
  to,
} from '../../model/builders.js';
import { validate } from '../../model/validate.js';

describe('builders', () => {
  test('return the plain data the model describes', () => {
    // GIVEN / WHEN / THEN
    expect(match.prefix('/api')).toEqual({ kind: 'prefix', value: '/api' });
    expect(header.not(header.exact('x-canary', '1'))).toEqual({
      kind: 'exact',
      name: 'x-canary',
      value: '1',
      invert: true,
    });
    expect(header.range('x-n', 1, 5)).toEqual({ kind: 'range', name: 'x-n', start: 1, end: 5 });
    expect(query.present('debug')).toEqual({ kind: 'present', name: 'debug' });
    expect(grpc.method('shop.Payments', 'Charge')).toEqual({ service: 'shop.Payments', method: 'Charge' });
    expect(to('catalog', 'v2', 10)).toEqual({ service: 'catalog', version: 'v2', weight: 10 });
    expect(to('catalog')).toEqual({ service: 'catalog' });
    expect(port.grpc(9090, 'rpc')).toEqual({ port: 9090, protocol: 'grpc', name: 'rpc' });
    expect(healthCheck.http({ path: '/health' })).toEqual({ kind: 'http', path: '/health' });
    expect(healthCheck.tcp()).toEqual({ kind: 'tcp' });
    expect(lb.ringHash(hashOn.header('x-user'))).toEqual({
      kind: 'ring-hash',
      hashOn: { kind: 'header', name: 'x-user' },
    });
    expect(hashOn.cookie('sid', '1h')).toEqual({ kind: 'cookie', name: 'sid', ttl: '1h' });
    expect(local.endpoints({ host: '127.0.0.1', port: 9000 })).toEqual({
      kind: 'endpoints',
      endpoints: [{ host: '127.0.0.1', port: 9000 }],
    });
    expect(allow.only(allow.from('frontend', { methods: ['GET'] }))).toEqual({
      action: 'allow-listed',
      rules: [{ from: ['frontend'], methods: ['GET'] }],
    });
  });

  test('defineMesh sets apiVersion first and the result validates', () => {
    // GIVEN a mesh written with factories
    const mesh = defineMesh({
      name: 'demo',
      services: {
        api: {
          ports: [port.http(8080)],
          versions: { v1: { local: local.command(['node', 'api.mjs']) } },
          policy: { loadBalancing: lb.leastRequest(), healthCheck: healthCheck.grpc() },
        },
      },
    });
    // THEN
    expect(Object.keys(mesh)[0]).toBe('apiVersion');
    expect(() =>
      validate({ ...mesh, services: { api: { ...mesh.services.api, ports: [port.grpc(8080)] } } }),
    ).not.toThrow();
  });
});
