/**
 * The Traffic Director renderer: canonical mesh → request bodies for networkservices v1,
 * networksecurity v1 and compute v1 (see types.ts). Pure and deterministic: no I/O, sorted keys,
 * resources in dependency order; rendering twice gives identical JSON.
 */
import { MeshError, type Problem } from '../../errors/index.js';
import type { Mesh } from '../../model/types.js';
import type { Json } from '../plan/types.js';
import { backendService, healthCheck } from './compute.js';
import type { RenderContext } from './context.js';
import { isObject, type JsonObject, pruneDefaults, sortKeys } from './json.js';
import { meshLabels, resourceName } from './names.js';
import { gatewayName, gatewayRoutes, serviceRoutes } from './routes.js';
import { serviceSecurity, tlsPolicies } from './security.js';
import {
  TD_COLLECTIONS,
  TD_KINDS,
  type TdKind,
  type TdResource,
  type TrafficDirectorManifest,
  type TrafficDirectorOptions,
} from './types.js';

/** GCP project ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter. */
const PROJECT_RE = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** Whether a string is a well-formed GCP project id. */
export function isProjectId(value: unknown): value is string {
  return typeof value === 'string' && PROJECT_RE.test(value);
}

const OPTION_KEYS = ['drainingTimeoutSec', 'maxRatePerEndpoint', 'negs', 'project'];

function checkOptions(mesh: Mesh, options: TrafficDirectorOptions): void {
  const problems: Problem[] = [];
  for (const key of Object.keys(options ?? {})) {
    if (!OPTION_KEYS.includes(key)) {
      problems.push({
        code: 'TARGET_E_OPTION',
        path: `options.${key}`,
        message: `is not an option of the traffic-director target`,
        value: key,
        allowed: OPTION_KEYS.join(', '),
      });
    }
  }
  if (!isProjectId(options?.project)) {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.project',
      message: `must be a GCP project id, got ${JSON.stringify(options?.project)}`,
      value: options?.project,
      allowed:
        '6-30 lowercase letters, digits or hyphens, starting with a letter (e.g. --project my-project)',
    });
  }
  for (const [key, groups] of Object.entries(options.negs ?? {})) {
    const [service, version, extra] = key.split('/');
    const known =
      service !== undefined &&
      version !== undefined &&
      extra === undefined &&
      mesh.services[service]?.versions[version] !== undefined;
    if (!known) {
      problems.push({
        code: 'TARGET_E_OPTION',
        path: `options.negs.${key}`,
        message: `names no service version of mesh ${JSON.stringify(mesh.name)}`,
        value: key,
        allowed: `<service>/<version>, one of ${Object.entries(mesh.services)
          .flatMap(([s, svc]) => Object.keys(svc.versions).map((v) => `${s}/${v}`))
          .join(', ')}`,
      });
    }
    for (const [i, group] of groups.entries()) {
      if (!/(^|\/)projects\/[^/]+\/zones\/[^/]+\/networkEndpointGroups\/[^/]+$/.test(group)) {
        problems.push({
          code: 'TARGET_E_OPTION',
          path: `options.negs.${key}[${i}]`,
          message: `must be a zonal network endpoint group reference, got ${JSON.stringify(group)}`,
          value: group,
          allowed: 'projects/P/zones/Z/networkEndpointGroups/N (or its https:// URL)',
        });
      }
    }
  }
  for (const [field, value, min] of [
    ['maxRatePerEndpoint', options.maxRatePerEndpoint, 1],
    ['drainingTimeoutSec', options.drainingTimeoutSec, 0],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > 3600 * 24 * 365)) {
      problems.push({
        code: 'TARGET_E_OPTION',
        path: `options.${field}`,
        message: `must be a whole number from ${min}, got ${JSON.stringify(value)}`,
        value,
        allowed: `an integer >= ${min}`,
      });
    }
  }
  if (problems.length > 0) throw MeshError.fromProblems(problems);
}

/** Renders a canonical mesh for Traffic Director. Throws TARGET_E_OPTION for bad options. */
export function renderTrafficDirector(mesh: Mesh, options: TrafficDirectorOptions): TrafficDirectorManifest {
  checkOptions(mesh, options);
  const ctx: RenderContext = { mesh, project: options.project, warnings: [] };
  const labels = meshLabels(mesh.name);
  type Raw = { kind: TdKind; name: string; body: JsonObject; dependsOn: readonly string[] };
  const raw: Raw[] = [];
  // Where each resource comes from in the model, to name both sides of a name collision.
  const sources = new Map<string, string>();
  const problems: Problem[] = [];
  const add = (path: string, ...resources: readonly Raw[]) => {
    for (const r of resources) {
      const id = `${r.kind}/${r.name}`;
      const first = sources.get(id);
      if (first === undefined) {
        sources.set(id, path);
        raw.push(r);
      } else {
        problems.push({
          code: 'TARGET_E_UNSUPPORTED',
          path,
          message: `${r.kind} name ${JSON.stringify(r.name)} is generated twice (also by ${first}); Traffic Director names must be unique per project`,
          value: r.name,
          allowed: 'service, version and gateway names whose hyphenated combinations do not collide',
        });
      }
    }
  };

  add('name', { kind: 'Mesh', name: mesh.name, body: {}, dependsOn: [] });
  add('security', ...tlsPolicies(ctx));
  for (const [serviceName, service] of Object.entries(mesh.services)) {
    const hc = healthCheck(ctx, options, serviceName, service);
    if (hc !== undefined) add(`services.${serviceName}.policy.healthCheck`, hc);
    for (const version of Object.keys(service.versions)) {
      add(
        `services.${serviceName}.versions.${version}`,
        backendService(ctx, options, serviceName, service, version),
      );
    }
    add(`services.${serviceName}.ports`, ...serviceRoutes(ctx, serviceName, service));
    add(`services.${serviceName}.authorization`, ...serviceSecurity(ctx, serviceName, service));
  }
  for (const [key, gateway] of Object.entries(mesh.gateways ?? {})) {
    const ports = [...new Set(gateway.listeners.map((l) => l.port))].sort((a, b) => a - b);
    add(`gateways.${key}`, {
      kind: 'Gateway',
      name: gatewayName(ctx, key),
      body: { type: 'OPEN_MESH', ports, scope: resourceName(mesh.name, key) },
      dependsOn: [],
    });
    add(`gateways.${key}.routes`, ...gatewayRoutes(ctx, key, gateway));
  }
  if (problems.length > 0) throw MeshError.fromProblems(problems);

  const order = new Map<string, number>(TD_KINDS.map((kind, i) => [kind, i]));
  const resources: TdResource[] = raw
    .map((r) => {
      const compute = TD_COLLECTIONS[r.kind].api === 'compute';
      // proto3 APIs never echo default values, so they are not sent either; compute echoes them.
      const body = compute ? sortKeys(r.body) : pruneDefaults({ ...r.body, labels } as Json);
      return {
        kind: r.kind,
        name: r.name,
        body: (isObject(body) ? body : {}) as JsonObject,
        dependsOn: [...r.dependsOn].sort(),
      };
    })
    .sort((a, b) => (order.get(a.kind) ?? 0) - (order.get(b.kind) ?? 0) || a.name.localeCompare(b.name));
  return {
    apiVersion: 'crossmesh.traffic-director/v1',
    project: options.project,
    mesh: mesh.name,
    resources,
    warnings: [...new Set(ctx.warnings)].sort(),
  };
}

/** Alias used by the CDK construct: the manifest `crossmesh apply` consumes from a cloud assembly. */
export const renderTrafficDirectorManifest = renderTrafficDirector;
