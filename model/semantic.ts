/**
 * Checks that relate several fields: references resolve, weights add up, names and ports are
 * unique, features fit the protocol they are used on, fields that need or exclude each other.
 * Runs on the structurally checked copy (model/schema/check.ts), in which anything that failed
 * is missing, so every check here is defensive and reports in the same pass.
 */
import type { Problem } from '../errors/index.js';
import { toMs } from './duration.js';
import { childPath, indexPath, type Loose, suggestion } from './schema/check.js';
import type {
  Authorization,
  Fault,
  Gateway,
  MeshInput,
  PathMatch,
  Protocol,
  Retries,
  Route,
  RoutePolicy,
  Service,
  ServicePolicy,
} from './types.js';

type LooseMesh = Loose<MeshInput>;
type LooseService = Loose<Service>;

const GRPC_EVENTS = new Set([
  'cancelled',
  'deadline-exceeded',
  'resource-exhausted',
  'unavailable',
  'internal',
]);

/** What the semantic pass knows about a service. */
interface ServiceInfo {
  /** Declared versions; `undefined` when they failed their own check (then nothing is checked against them). */
  readonly versions: ReadonlySet<string> | undefined;
  /** Port number → protocol. */
  readonly ports: ReadonlyMap<number, Protocol>;
  readonly primary: Protocol | undefined;
  /** Every port passed its own check, so port references can be checked. */
  readonly portsKnown: boolean;
}

function entries<T>(value: Readonly<Record<string, T | undefined>> | undefined): [string, T][] {
  if (value === undefined) return [];
  return Object.entries(value).filter((e): e is [string, T] => e[1] !== undefined);
}

function list(names: Iterable<string>): string {
  const all = [...names];
  if (all.length === 0) return 'none are declared';
  const shown = all.slice(0, 20).map((n) => JSON.stringify(n));
  return `one of ${shown.join(', ')}${all.length > 20 ? `, ... (${all.length} in all)` : ''}`;
}

/** Whether a gateway answering for `hosts` ever sees requests for `host` (either may be a `*.suffix` wildcard). */
function hostCovered(host: string, hosts: readonly (string | undefined)[]): boolean {
  return hosts.some((h) => {
    if (h === undefined || h === '*' || h === host) return true;
    return h.startsWith('*.') && host.endsWith(h.slice(1));
  });
}

/** Runs every cross-field check, appending to `problems`. */
export function checkSemantics(mesh: LooseMesh, problems: Problem[]): void {
  const add = (
    code: Problem['code'],
    path: string,
    message: string,
    value?: unknown,
    allowed?: string,
  ): void => {
    problems.push({
      code,
      path,
      message,
      ...(value === undefined ? {} : { value }),
      ...(allowed === undefined ? {} : { allowed }),
    });
  };

  // Every declared service name, even one whose declaration failed its own checks: references
  // to it resolve, and only what is known about it is checked against.
  const services = new Map<string, ServiceInfo>();
  for (const name of Object.keys(mesh.services ?? {})) {
    const service = mesh.services?.[name];
    const ports = new Map<number, Protocol>();
    for (const p of service?.ports ?? []) {
      if (p?.port !== undefined && p.protocol !== undefined && !ports.has(p.port))
        ports.set(p.port, p.protocol);
    }
    const first = service?.ports?.[0];
    services.set(name, {
      versions: service?.versions === undefined ? undefined : new Set(Object.keys(service.versions)),
      ports,
      primary: first?.protocol,
      portsKnown: service?.ports?.every((p) => p?.port !== undefined) === true,
    });
  }

  const serviceRef = (path: string, name: string | undefined): ServiceInfo | undefined => {
    if (name === undefined) return undefined;
    const info = services.get(name);
    if (info === undefined)
      add(
        'MESH_E_REF',
        path,
        `names no service${suggestion(name, services.keys())}; must be ${list(services.keys())}`,
        name,
        'a declared service',
      );
    return info;
  };
  const versionRef = (
    path: string,
    service: string,
    info: ServiceInfo,
    version: string | undefined,
  ): void => {
    if (version !== undefined && info.versions !== undefined && !info.versions.has(version)) {
      add(
        'MESH_E_REF',
        path,
        `service ${JSON.stringify(service)} has no version ${JSON.stringify(version)}${suggestion(version, info.versions)}; must be ${list(info.versions)}`,
        version,
        `a version of ${service}`,
      );
    }
  };

  const retriesCheck = (
    path: string,
    retries: Loose<Retries> | undefined,
    grpcAllowed: boolean,
    inheritedBy: string | undefined,
  ): void => {
    if (retries === undefined) return;
    const note = inheritedBy === undefined ? '' : ` (inherited by service ${JSON.stringify(inheritedBy)})`;
    if (!grpcAllowed) {
      (retries.on ?? []).forEach((event, i) => {
        if (event !== undefined && GRPC_EVENTS.has(event)) {
          add(
            'MESH_E_PROTOCOL',
            indexPath(childPath(path, 'on'), i),
            `retry event ${JSON.stringify(event)} is a gRPC status; it needs a grpc port${note}`,
            event,
            'HTTP retry events on non-gRPC ports',
          );
        }
      });
    }
    const { base, max } = retries.backoff ?? {};
    // Checked where the policy is written, not again for each service that inherits it.
    if (inheritedBy === undefined && base !== undefined && max !== undefined && toMs(max) < toMs(base)) {
      add(
        'MESH_E_RANGE',
        `${path}.backoff.max`,
        `must be at least backoff.base (${base}), got ${max}`,
        max,
        `at least ${base}`,
      );
    }
  };

  const policyCheck = (
    path: string,
    policy: Loose<ServicePolicy> | Loose<RoutePolicy> | undefined,
    owner: { readonly name: string; readonly info: ServiceInfo } | undefined,
    protocols: ReadonlySet<Protocol>,
    inheritedBy?: string,
  ): void => {
    if (policy === undefined) return;
    const note = inheritedBy === undefined ? '' : ` (inherited by service ${JSON.stringify(inheritedBy)})`;
    retriesCheck(`${path}.retries`, policy.retries, protocols.has('grpc'), inheritedBy);
    if (!('healthCheck' in policy || 'loadBalancing' in policy)) return;
    const servicePolicy = policy as Loose<ServicePolicy>;
    const check = servicePolicy.healthCheck;
    if (check !== undefined) {
      if (check.port !== undefined && owner?.info.portsKnown === true && !owner.info.ports.has(check.port)) {
        add(
          'MESH_E_REF',
          `${path}.healthCheck.port`,
          `service ${JSON.stringify(owner.name)} has no port ${check.port}; must be ${list([...owner.info.ports.keys()].map(String))}${note}`,
          check.port,
          'a declared port of the service',
        );
      }
      if (check.kind === 'http' && inheritedBy === undefined) {
        (check.expectedStatuses ?? []).forEach((range, i) => {
          const [start, end] = range ?? [];
          if (start !== undefined && end !== undefined && start >= end) {
            add(
              'MESH_E_RANGE',
              `${path}.healthCheck.expectedStatuses[${i}]`,
              `must be [start, end) with start < end, got [${start}, ${end}]`,
              [start, end],
              'start < end',
            );
          }
        });
      }
      if (check.kind === 'grpc' && owner !== undefined && !protocols.has('grpc') && !protocols.has('http2')) {
        add(
          'MESH_E_PROTOCOL',
          `${path}.healthCheck.kind`,
          `a grpc health check needs a grpc or http2 port${note}`,
          'grpc',
          'http or tcp for this service',
        );
      }
    }
    const lb = servicePolicy.loadBalancing;
    if (
      lb?.kind === 'ring-hash' &&
      (lb.hashOn?.kind === 'header' || lb.hashOn?.kind === 'cookie') &&
      protocols.size > 0 &&
      [...protocols].every((p) => p === 'tcp')
    ) {
      add(
        'MESH_E_PROTOCOL',
        `${path}.loadBalancing.hashOn.kind`,
        `hashing on a ${lb.hashOn.kind} needs an HTTP port; this service only has tcp ports${note}`,
        lb.hashOn.kind,
        'source-ip',
      );
    }
  };

  const pathPrefix = (match: Loose<PathMatch> | undefined): boolean => match?.kind === 'prefix';

  const routeCheck = (path: string, serviceName: string, info: ServiceInfo, route: Loose<Route>): void => {
    let protocol = info.primary;
    if (route.port !== undefined) {
      const p = info.ports.get(route.port);
      if (p !== undefined) {
        protocol = p;
      } else if (info.portsKnown) {
        add(
          'MESH_E_REF',
          `${path}.port`,
          `service ${JSON.stringify(serviceName)} has no port ${route.port}; must be ${list([...info.ports.keys()].map(String))}`,
          route.port,
          'a declared port of the service',
        );
      }
    }
    const match = route.match;
    if (protocol === 'tcp') {
      for (const field of ['path', 'headers', 'query', 'method', 'grpc'] as const) {
        if (match?.[field] !== undefined) {
          add(
            'MESH_E_PROTOCOL',
            `${path}.match.${field}`,
            `a tcp route cannot match on ${field}; tcp routes only forward`,
            undefined,
            'no match conditions on tcp ports',
          );
        }
      }
      for (const field of ['redirect', 'rewrite', 'headers', 'fault', 'mirror'] as const) {
        if (route[field] !== undefined) {
          add(
            'MESH_E_PROTOCOL',
            `${path}.${field}`,
            `a tcp route cannot use ${field}; it needs an http, http2 or grpc port`,
            undefined,
            'destinations only on tcp ports',
          );
        }
      }
      if (route.policy?.retries !== undefined) {
        add(
          'MESH_E_PROTOCOL',
          `${path}.policy.retries`,
          'a tcp route cannot retry requests',
          undefined,
          'no retries on tcp ports',
        );
      }
    } else if (match?.grpc !== undefined && protocol !== 'grpc' && protocol !== undefined) {
      add(
        'MESH_E_PROTOCOL',
        `${path}.match.grpc`,
        `a gRPC match needs a grpc port; the route's port speaks ${protocol}`,
        undefined,
        'grpc ports',
      );
    }
    if (match?.grpc?.method !== undefined && match.grpc.service === undefined) {
      add(
        'MESH_E_REQUIRES',
        `${path}.match.grpc.method`,
        'a gRPC method match needs match.grpc.service',
        match.grpc.method,
        'service and method together',
      );
    }
    (match?.headers ?? []).forEach((h, i) => {
      if (h?.kind === 'range' && h.start !== undefined && h.end !== undefined && h.start >= h.end) {
        add(
          'MESH_E_RANGE',
          `${path}.match.headers[${i}].end`,
          `must be greater than start (${h.start}), got ${h.end}`,
          h.end,
          `greater than ${h.start}`,
        );
      }
    });

    const hasDestinations = route.destinations !== undefined;
    if (hasDestinations && route.redirect !== undefined) {
      add(
        'MESH_E_CONFLICT',
        path,
        'sets both destinations and redirect; a route either forwards or redirects',
        undefined,
        'exactly one of destinations, redirect',
      );
    } else if (
      !hasDestinations &&
      route.redirect === undefined &&
      !('destinations' in route && route.destinations === undefined)
    ) {
      add(
        'MESH_E_REQUIRED',
        `${path}.destinations`,
        'is required: a route needs destinations (or a redirect)',
        undefined,
        'exactly one of destinations, redirect',
      );
    }
    if (route.redirect !== undefined) {
      for (const field of ['rewrite', 'mirror', 'fault'] as const) {
        if (route[field] !== undefined)
          add(
            'MESH_E_CONFLICT',
            `${path}.${field}`,
            `has no effect on a redirect route; remove ${field} or the redirect`,
            undefined,
            'no forwarding options on a redirect',
          );
      }
      const r = route.redirect;
      if (r.path !== undefined && r.prefix !== undefined) {
        add(
          'MESH_E_CONFLICT',
          `${path}.redirect.prefix`,
          'redirect sets both path and prefix',
          r.prefix,
          'one of path, prefix',
        );
      }
      if (r.prefix !== undefined && !pathPrefix(match?.path)) {
        add(
          'MESH_E_REQUIRES',
          `${path}.redirect.prefix`,
          'a prefix redirect needs a prefix path match (match.path.kind "prefix")',
          r.prefix,
          'a route with a prefix path match',
        );
      }
    }
    if (route.rewrite !== undefined) {
      const r = route.rewrite;
      if (r.path !== undefined && r.prefix !== undefined) {
        add(
          'MESH_E_CONFLICT',
          `${path}.rewrite.prefix`,
          'rewrite sets both path and prefix',
          r.prefix,
          'one of path, prefix',
        );
      }
      if (r.prefix !== undefined && !pathPrefix(match?.path)) {
        add(
          'MESH_E_REQUIRES',
          `${path}.rewrite.prefix`,
          'a prefix rewrite needs a prefix path match (match.path.kind "prefix")',
          r.prefix,
          'a route with a prefix path match',
        );
      }
    }

    const seen = new Set<string>();
    let total = 0;
    let weightsKnown = true;
    (route.destinations ?? []).forEach((d, j) => {
      if (d === undefined) {
        weightsKnown = false;
        return;
      }
      const dPath = `${path}.destinations[${j}]`;
      const target = d.service ?? serviceName;
      const targetInfo = serviceRef(`${dPath}.service`, target);
      if (targetInfo !== undefined) versionRef(`${dPath}.version`, target, targetInfo, d.version);
      const key = `${target}/${d.version ?? '*'}`;
      if (seen.has(key)) {
        add(
          'MESH_E_DUPLICATE',
          dPath,
          `repeats destination ${key}; merge the weights into one destination`,
          key,
          'each service/version once',
        );
      }
      seen.add(key);
      if ('weight' in d && d.weight === undefined) weightsKnown = false;
      total += d.weight ?? 1;
    });
    if (route.destinations !== undefined && weightsKnown && route.destinations.length > 0 && total <= 0) {
      add(
        'MESH_E_WEIGHTS_SUM',
        `${path}.destinations`,
        'weights add up to 0; at least one destination needs a positive weight',
        total,
        'a positive total',
      );
    }

    if (route.mirror !== undefined) {
      const m = route.mirror;
      const info2 = serviceRef(`${path}.mirror.service`, m.service);
      if (info2 !== undefined && m.service !== undefined)
        versionRef(`${path}.mirror.version`, m.service, info2, m.version);
    }
    faultCheck(`${path}.fault`, route.fault, protocol);
    policyCheck(`${path}.policy`, route.policy, undefined, new Set(protocol === undefined ? [] : [protocol]));
  };

  const faultCheck = (
    path: string,
    fault: Loose<Fault> | undefined,
    protocol: Protocol | undefined,
  ): void => {
    const abort = fault?.abort;
    if (abort === undefined) return;
    if (abort.httpStatus !== undefined && abort.grpcStatus !== undefined) {
      add(
        'MESH_E_CONFLICT',
        `${path}.abort`,
        'sets both httpStatus and grpcStatus',
        undefined,
        'exactly one of httpStatus, grpcStatus',
      );
    } else if (
      abort.httpStatus === undefined &&
      abort.grpcStatus === undefined &&
      !('httpStatus' in abort || 'grpcStatus' in abort)
    ) {
      add(
        'MESH_E_REQUIRED',
        `${path}.abort.httpStatus`,
        'is required: an abort needs httpStatus (or grpcStatus on grpc ports)',
        undefined,
        'exactly one of httpStatus, grpcStatus',
      );
    }
    if (abort.grpcStatus !== undefined && protocol !== 'grpc' && protocol !== undefined) {
      add(
        'MESH_E_PROTOCOL',
        `${path}.abort.grpcStatus`,
        `a gRPC status needs a grpc port; the route's port speaks ${protocol}`,
        abort.grpcStatus,
        'httpStatus on non-gRPC ports',
      );
    }
  };

  const authorizationCheck = (
    path: string,
    auth: Loose<Authorization> | undefined,
    protocols: ReadonlySet<Protocol>,
  ): void => {
    if (auth === undefined) return;
    if (auth.action === 'allow-all' && (auth.rules?.length ?? 0) > 0) {
      add(
        'MESH_E_CONFLICT',
        `${path}.rules`,
        'rules only apply with action "allow-listed"; with "allow-all" they would be ignored',
        undefined,
        'action allow-listed, or no rules',
      );
    }
    const httpCapable = [...protocols].some((p) => p !== 'tcp');
    (auth.rules ?? []).forEach((rule, k) => {
      if (rule === undefined) return;
      (rule.from ?? []).forEach((from, m) => {
        if (from !== undefined && from !== '*') serviceRef(`${path}.rules[${k}].from[${m}]`, from);
      });
      if (!httpCapable && protocols.size > 0) {
        for (const field of ['paths', 'methods'] as const) {
          if (rule[field] !== undefined) {
            add(
              'MESH_E_PROTOCOL',
              `${path}.rules[${k}].${field}`,
              `authorization by ${field} needs an HTTP port; this service only has tcp ports`,
              undefined,
              'from only, on tcp services',
            );
          }
        }
      }
    });
  };

  const trustDomain = mesh.security?.trustDomain ?? 'cluster.local';
  const identities = new Map<string, string>();

  for (const [serviceName, service] of entries(mesh.services)) {
    const sPath = childPath('services', serviceName);
    const info = services.get(serviceName);
    if (info === undefined) continue;
    const protocols = new Set(info.ports.values());
    serviceCheck(serviceName, sPath, service, info, protocols);
  }

  function serviceCheck(
    serviceName: string,
    sPath: string,
    service: LooseService,
    info: ServiceInfo,
    protocols: ReadonlySet<Protocol>,
  ): void {
    const numbers = new Map<number, number>();
    const portNames = new Map<string, number>();
    (service.ports ?? []).forEach((p, i) => {
      if (p === undefined) return;
      if (p.port !== undefined) {
        const before = numbers.get(p.port);
        if (before !== undefined)
          add(
            'MESH_E_DUPLICATE',
            `${sPath}.ports[${i}].port`,
            `repeats port ${p.port} (already ports[${before}])`,
            p.port,
            'each port number once',
          );
        else numbers.set(p.port, i);
      }
      const portName =
        p.name ?? (p.port !== undefined && p.protocol !== undefined ? `${p.protocol}-${p.port}` : undefined);
      if (portName !== undefined) {
        const before = portNames.get(portName);
        if (before !== undefined)
          add(
            'MESH_E_DUPLICATE',
            `${sPath}.ports[${i}]${p.name === undefined ? '' : '.name'}`,
            `repeats port name ${JSON.stringify(portName)} (already ports[${before}])`,
            portName,
            'each port name once',
          );
        else portNames.set(portName, i);
      }
    });

    const labelSets = new Map<string, string>();
    for (const [versionName, version] of entries(service.versions ?? {})) {
      const labels = version.labels ?? { version: versionName };
      const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const before = labelSets.get(key);
      if (before !== undefined) {
        add(
          'MESH_E_DUPLICATE',
          `${childPath(`${sPath}.versions`, versionName)}.labels`,
          `has the same labels as version ${JSON.stringify(before)}; instances of the two could not be told apart`,
          undefined,
          'distinct labels per version',
        );
      } else {
        labelSets.set(key, versionName);
      }
    }

    const backends = new Set<string>();
    (service.backends ?? []).forEach((b, i) => {
      if (b === undefined) return;
      if (backends.has(b))
        add(
          'MESH_E_DUPLICATE',
          `${sPath}.backends[${i}]`,
          `repeats backend ${JSON.stringify(b)}`,
          b,
          'each backend once',
        );
      backends.add(b);
      serviceRef(`${sPath}.backends[${i}]`, b);
    });

    const routeNames = new Map<string, number>();
    (service.routes ?? []).forEach((route, i) => {
      if (route === undefined) return;
      const rPath = `${sPath}.routes[${i}]`;
      if (route.name !== undefined) {
        const before = routeNames.get(route.name);
        if (before !== undefined)
          add(
            'MESH_E_DUPLICATE',
            `${rPath}.name`,
            `repeats route name ${JSON.stringify(route.name)} (already routes[${before}])`,
            route.name,
            'each route name once per service',
          );
        else routeNames.set(route.name, i);
      }
      routeCheck(rPath, serviceName, info, route);
    });

    policyCheck(`${sPath}.policy`, service.policy, { name: serviceName, info }, protocols);
    // What the service inherits from the mesh defaults must suit it too: checked here, reported
    // at the defaults with the service named, so the canonical (merged) form is valid as well.
    const defaults = mesh.defaults;
    if (defaults !== undefined) {
      const own = service.policy;
      const inherited: { -readonly [K in keyof Loose<ServicePolicy>]: Loose<ServicePolicy>[K] } = {};
      if (own?.retries === undefined && defaults.retries !== undefined) inherited.retries = defaults.retries;
      if (own?.healthCheck === undefined && defaults.healthCheck !== undefined)
        inherited.healthCheck = defaults.healthCheck;
      if (own?.loadBalancing === undefined && defaults.loadBalancing !== undefined) {
        inherited.loadBalancing = defaults.loadBalancing;
      }
      policyCheck('defaults', inherited, { name: serviceName, info }, protocols, serviceName);
    }
    authorizationCheck(`${sPath}.authorization`, service.authorization, protocols);

    const identity = service.identity ?? `spiffe://${trustDomain}/ns/${mesh.name ?? ''}/sa/${serviceName}`;
    if (service.identity !== undefined && !service.identity.startsWith(`spiffe://${trustDomain}/`)) {
      add(
        'MESH_E_PATTERN',
        `${sPath}.identity`,
        `must be in the mesh trust domain ${JSON.stringify(trustDomain)} (spiffe://${trustDomain}/...), got ${JSON.stringify(service.identity)}`,
        service.identity,
        `spiffe://${trustDomain}/<path>`,
      );
    }
    const owner = identities.get(identity);
    if (owner !== undefined) {
      add(
        'MESH_E_DUPLICATE',
        `${sPath}.identity`,
        `is also the identity of service ${JSON.stringify(owner)}; authorization could not tell them apart`,
        identity,
        'one identity per service',
      );
    }
    identities.set(identity, serviceName);
  }

  if (mesh.defaults !== undefined) {
    // Here only what holds whatever the service (backoff order, status ranges): the protocol
    // rules are checked for each service that inherits the defaults, above.
    policyCheck('defaults', mesh.defaults, undefined, new Set<Protocol>(['http', 'grpc']));
  }

  for (const [gatewayName, gateway] of entries(mesh.gateways)) {
    gatewayCheck(childPath('gateways', gatewayName), gateway);
  }

  function gatewayCheck(gPath: string, gateway: Loose<Gateway>): void {
    const ports = new Map<number, number>();
    let grpcListener = false;
    (gateway.listeners ?? []).forEach((l, i) => {
      if (l === undefined) return;
      if (l.protocol === 'grpc') grpcListener = true;
      if (l.port === undefined) return;
      const before = ports.get(l.port);
      if (before !== undefined)
        add(
          'MESH_E_DUPLICATE',
          `${gPath}.listeners[${i}].port`,
          `repeats port ${l.port} (already listeners[${before}])`,
          l.port,
          'each port once per gateway',
        );
      else ports.set(l.port, i);
    });
    const names = new Map<string, number>();
    (gateway.routes ?? []).forEach((r, i) => {
      if (r === undefined) return;
      const rPath = `${gPath}.routes[${i}]`;
      if (r.name !== undefined) {
        const before = names.get(r.name);
        if (before !== undefined)
          add(
            'MESH_E_DUPLICATE',
            `${rPath}.name`,
            `repeats route name ${JSON.stringify(r.name)} (already routes[${before}])`,
            r.name,
            'each route name once per gateway',
          );
        else names.set(r.name, i);
      }
      const target = serviceRef(`${rPath}.service`, r.service);
      if (
        target !== undefined &&
        target.ports.size > 0 &&
        [...target.ports.values()].every((p) => p === 'tcp')
      ) {
        add(
          'MESH_E_PROTOCOL',
          `${rPath}.service`,
          `service ${JSON.stringify(r.service)} only has tcp ports; gateways route HTTP, HTTP/2 and gRPC`,
          r.service,
          'a service with an http, http2 or grpc port',
        );
      }
      const match = r.match;
      if (
        match?.host !== undefined &&
        gateway.hosts !== undefined &&
        !hostCovered(match.host, gateway.hosts)
      ) {
        add(
          'MESH_E_CONFLICT',
          `${rPath}.match.host`,
          `host ${JSON.stringify(match.host)} is not one the gateway answers for, so the route never matches; gateway hosts: ${gateway.hosts.join(', ')}`,
          match.host,
          `a host within ${gateway.hosts.join(', ')}`,
        );
      }
      if (match?.grpcService !== undefined) {
        if (!grpcListener)
          add(
            'MESH_E_PROTOCOL',
            `${rPath}.match.grpcService`,
            'a gRPC service match needs a grpc listener on the gateway',
            match.grpcService,
            'gateways with a grpc listener',
          );
        if (match.path !== undefined)
          add(
            'MESH_E_CONFLICT',
            `${rPath}.match.path`,
            'sets both path and grpcService',
            undefined,
            'one of path, grpcService',
          );
      }
      if (r.rewrite?.prefix !== undefined && !pathPrefix(match?.path)) {
        add(
          'MESH_E_REQUIRES',
          `${rPath}.rewrite.prefix`,
          'a prefix rewrite needs a prefix path match (match.path.kind "prefix")',
          r.rewrite.prefix,
          'a route with a prefix path match',
        );
      }
      (match?.headers ?? []).forEach((h, k) => {
        if (h?.kind === 'range' && h.start !== undefined && h.end !== undefined && h.start >= h.end) {
          add(
            'MESH_E_RANGE',
            `${rPath}.match.headers[${k}].end`,
            `must be greater than start (${h.start}), got ${h.end}`,
            h.end,
            `greater than ${h.start}`,
          );
        }
      });
    });
  }

  if (mesh.egress?.mode === 'allow-all' && (mesh.egress.hosts?.length ?? 0) > 0) {
    add(
      'MESH_E_CONFLICT',
      'egress.hosts',
      'hosts only apply with mode "deny-unknown"; with "allow-all" every host is allowed already',
      undefined,
      'mode deny-unknown, or no hosts',
    );
  }
}
