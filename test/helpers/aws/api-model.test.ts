/**
 * The botocore request validator that guards every moto-backed test. Nothing stood in: these are
 * the official models from ../shared/api-models/aws/ and hand-built HTTP requests, to show the
 * validator catches each kind of violation (so an empty violation list in other tests means
 * something) and accepts a valid request.
 */
import { describe, expect, test } from 'vitest';
import { loadModel, validateRequest } from './api-model.js';

const appmesh = loadModel('appmesh-2019-01-25.json');
const cloudMap = loadModel('servicediscovery-2017-03-14.json');

const node = (spec: unknown) => ({
  method: 'PUT',
  url: '/v20190125/meshes/shop/virtualNodes',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ virtualNodeName: 'web-v1', spec }),
});

const validSpec = {
  listeners: [{ portMapping: { port: 8080, protocol: 'http' } }],
  serviceDiscovery: { dns: { hostname: 'v1.web.shop.local' } },
};

describe('validateRequest', () => {
  test('a valid CreateVirtualNode decodes its URI label and body and has no violations', () => {
    // GIVEN / WHEN
    const decoded = validateRequest(appmesh, node(validSpec));
    // THEN
    expect(decoded.operation).toBe('CreateVirtualNode');
    expect(decoded.input['meshName']).toBe('shop');
    expect(decoded.violations).toEqual([]);
  });

  test.each([
    [
      'an enum value',
      { ...validSpec, listeners: [{ portMapping: { port: 8080, protocol: 'HTTP' } }] },
      'PortProtocol must be one of',
    ],
    [
      'a range',
      { ...validSpec, listeners: [{ portMapping: { port: 0, protocol: 'http' } }] },
      'PortNumber must be >= 1',
    ],
    [
      'a required member',
      { ...validSpec, listeners: [{ portMapping: { port: 80 } }] },
      'PortMapping.protocol is required',
    ],
    ['an unknown member', { ...validSpec, colour: 'blue' }, 'VirtualNodeSpec has no member "colour"'],
    [
      'a union with two members',
      {
        ...validSpec,
        serviceDiscovery: { dns: { hostname: 'a' }, awsCloudMap: { namespaceName: 'n', serviceName: 's' } },
      },
      'ServiceDiscovery is a union',
    ],
    [
      'a type',
      { ...validSpec, listeners: { portMapping: { port: 80, protocol: 'http' } } },
      'Listeners must be a list',
    ],
    [
      'a pattern',
      {
        ...validSpec,
        serviceDiscovery: {
          awsCloudMap: { namespaceName: 'n', serviceName: 's', attributes: [{ key: 'bad key', value: 'v' }] },
        },
      },
      'AwsCloudMapInstanceAttributeKey must match',
    ],
  ])('catches %s', (_what, spec, message) => {
    // GIVEN a request breaking one rule / WHEN validated
    const decoded = validateRequest(appmesh, node(spec));
    // THEN exactly that rule is reported
    expect(decoded.violations.map((v) => v.message).join('\n')).toContain(message);
  });

  test('validates query-string members and unknown operations', () => {
    // GIVEN a ListTagsForResource with a limit out of range, and a path no operation has
    const tags = validateRequest(appmesh, {
      method: 'GET',
      url: '/v20190125/tags?resourceArn=arn&limit=0',
      headers: {},
      body: '',
    });
    const unknown = validateRequest(appmesh, {
      method: 'GET',
      url: '/v20190125/nothing',
      headers: {},
      body: '',
    });
    // THEN both are violations
    expect(tags.violations.map((v) => v.path)).toEqual(['limit']);
    expect(unknown.operation).toBeUndefined();
    expect(unknown.violations).toHaveLength(1);
  });

  test('validates Cloud Map JSON 1.1 requests by X-Amz-Target', () => {
    // GIVEN a CreateHttpNamespace missing its name and one that is valid
    const target = { 'x-amz-target': 'Route53AutoNaming_v20170314.CreateHttpNamespace' };
    const bad = validateRequest(cloudMap, {
      method: 'POST',
      url: '/',
      headers: target,
      body: '{"Description":"d"}',
    });
    const good = validateRequest(cloudMap, {
      method: 'POST',
      url: '/',
      headers: target,
      body: '{"Name":"shop.local"}',
    });
    // THEN
    expect(bad.violations.map((v) => v.message)).toEqual(['CreateHttpNamespaceRequest.Name is required']);
    expect(good.violations).toEqual([]);
  });
});
