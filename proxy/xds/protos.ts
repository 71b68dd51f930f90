/**
 * The ADS service definition for the proxy's xDS client, loaded with `@grpc/proto-loader` from
 * the Envoy protos `@grpc/grpc-js-xds` vendors. The control plane serves the same definition from
 * here (it may depend on the proxy; the proxy depends on nothing outside `proxy/` and `errors/`),
 * so both ends of the stream agree on the wire.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

let service: ServiceDefinition | undefined;

/** `envoy.service.discovery.v3.AggregatedDiscoveryService` (loaded once per process). */
export function adsServiceDefinition(): ServiceDefinition {
  if (service !== undefined) return service;
  const deps = join(
    dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json')),
    'deps',
  );
  const definition = loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)),
  });
  const root = loadPackageDefinition(definition) as Record<string, unknown>;
  const ads = ['envoy', 'service', 'discovery', 'v3', 'AggregatedDiscoveryService'].reduce<unknown>(
    (node, key) => (node as Record<string, unknown> | undefined)?.[key],
    root,
  ) as { service: ServiceDefinition } | undefined;
  if (ads === undefined) throw new Error('AggregatedDiscoveryService missing from ads.proto');
  service = ads.service;
  return service;
}
