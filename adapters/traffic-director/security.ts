/**
 * Server-side policy: networksecurity v1 ServerTlsPolicy / ClientTlsPolicy (mTLS with the
 * Cloud Service Mesh certificate provider `google_cloud_private_spiffe`), AuthorizationPolicy
 * for the model's authorization rules, and the networkservices EndpointPolicy that binds them to
 * a service's endpoints. Pure.
 *
 * Endpoints are selected by xDS node metadata: a sidecar of service S must present the label
 * `crossmesh-service: S` in its bootstrap (documented in docs/targets/traffic-director-notes.md).
 */
import type { AuthorizationRule, PathMatch, Service } from '../../model/types.js';
import type { Json } from '../plan/types.js';
import { clientTlsPolicyName } from './compute.js';
import { identityOf, type RenderContext, trustDomainOf } from './context.js';
import type { JsonObject } from './json.js';
import { ref, resourceName } from './names.js';

/** A networksecurity/EndpointPolicy resource before labels and pruning. */
export interface SecurityResource {
  readonly kind: 'ServerTlsPolicy' | 'ClientTlsPolicy' | 'AuthorizationPolicy' | 'EndpointPolicy';
  readonly name: string;
  readonly body: JsonObject;
  readonly dependsOn: readonly string[];
}

/** Node-metadata label that identifies a service's sidecars to EndpointPolicy. */
export const SERVICE_METADATA_LABEL = 'crossmesh-service';

const SPIFFE_PROVIDER = { certificateProviderInstance: { pluginInstance: 'google_cloud_private_spiffe' } };

/** The mesh-wide TLS policies, when mTLS is on. */
export function tlsPolicies(ctx: RenderContext): SecurityResource[] {
  const mtls = ctx.mesh.security?.mtls ?? 'off';
  if (mtls === 'off') return [];
  const name = clientTlsPolicyName(ctx);
  return [
    {
      kind: 'ServerTlsPolicy',
      name,
      body: {
        // Permissive: sidecars also accept plain text.
        allowOpen: mtls === 'permissive',
        serverCertificate: SPIFFE_PROVIDER,
        mtlsPolicy: { clientValidationCa: [SPIFFE_PROVIDER] },
      },
      dependsOn: [],
    },
    {
      kind: 'ClientTlsPolicy',
      name,
      body: { clientCertificate: SPIFFE_PROVIDER, serverValidationCa: [SPIFFE_PROVIDER] },
      dependsOn: [],
    },
  ];
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One regular expression over `:path` (which carries the query string) for a list of path matches. */
export function pathRegex(paths: readonly PathMatch[]): string {
  const alternatives = paths.map((p) => {
    if (p.kind === 'exact') return `${escapeRegex(p.value)}(\\?.*)?`;
    if (p.kind === 'prefix') return `${escapeRegex(p.value)}.*`;
    return `(${p.value})(\\?.*)?`;
  });
  return alternatives.length === 1 ? `^${alternatives[0]}$` : `^(${alternatives.join('|')})$`;
}

function authorizationRule(ctx: RenderContext, service: Service, rule: AuthorizationRule): JsonObject {
  const principals = rule.from.includes('*')
    ? [`spiffe://${trustDomainOf(ctx.mesh)}/*`]
    : [...new Set(rule.from.map((caller) => identityOf(ctx.mesh, caller)))].sort();
  const destination: Record<string, Json> = {
    hosts: ['*'],
    ports: service.ports.map((p) => p.port),
  };
  if (rule.methods !== undefined && rule.methods.length > 0) destination.methods = [...rule.methods];
  if (rule.paths !== undefined && rule.paths.length > 0) {
    destination.httpHeaderMatch = { headerName: ':path', regexMatch: pathRegex(rule.paths) };
  }
  return { sources: [{ principals }], destinations: [destination] };
}

/** Name of the per-service AuthorizationPolicy and EndpointPolicy. */
export function servicePolicyName(ctx: RenderContext, service: string): string {
  return resourceName(ctx.mesh.name, service);
}

/** The service's AuthorizationPolicy and EndpointPolicy, when it has server-side policy. */
export function serviceSecurity(
  ctx: RenderContext,
  serviceName: string,
  service: Service,
): SecurityResource[] {
  const mtls = ctx.mesh.security?.mtls ?? 'off';
  const listed = service.authorization?.action === 'allow-listed';
  if (mtls === 'off' && !listed) return [];
  const name = servicePolicyName(ctx, serviceName);
  const out: SecurityResource[] = [];
  const endpoint: Record<string, Json> = {
    type: 'SIDECAR_PROXY',
    endpointMatcher: {
      metadataLabelMatcher: {
        metadataLabelMatchCriteria: 'MATCH_ALL',
        metadataLabels: [{ labelName: SERVICE_METADATA_LABEL, labelValue: serviceName }],
      },
    },
    trafficPortSelector: { ports: service.ports.map((p) => String(p.port)) },
  };
  const dependsOn: string[] = [];
  if (listed) {
    const rules = service.authorization?.rules ?? [];
    if (mtls === 'off' && rules.length > 0) {
      ctx.warnings.push(
        `service ${serviceName} allows callers by identity, but mTLS is off: sidecars cannot verify principals, so its AuthorizationPolicy admits nobody until security.mtls is strict or permissive`,
      );
    }
    out.push({
      kind: 'AuthorizationPolicy',
      name,
      // With no rules an ALLOW policy allows everything; "allow-listed with no rules" denies all.
      body:
        rules.length === 0
          ? { action: 'DENY' }
          : { action: 'ALLOW', rules: rules.map((r) => authorizationRule(ctx, service, r)) },
      dependsOn: [],
    });
    endpoint.authorizationPolicy = ref.global(ctx.project, 'authorizationPolicies', name);
    dependsOn.push(`AuthorizationPolicy/${name}`);
  }
  if (mtls !== 'off') {
    const tls = clientTlsPolicyName(ctx);
    endpoint.serverTlsPolicy = ref.global(ctx.project, 'serverTlsPolicies', tls);
    dependsOn.push(`ServerTlsPolicy/${tls}`);
  }
  out.push({ kind: 'EndpointPolicy', name, body: endpoint, dependsOn: dependsOn.sort() });
  return out;
}
