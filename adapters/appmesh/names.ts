/**
 * Resource names and the App Mesh / Cloud Map naming rules they must meet. The rules are the
 * constraints of the botocore models (`appmesh-2019-01-25`: `ResourceName` 1-255 characters;
 * `servicediscovery-2017-03-14`: `ServiceName` and `NamespaceNameHttp` patterns), so a render
 * never produces a name the API would refuse.
 */

/** `ResourceName` (mesh, virtual node/router/gateway, routes): 1-255 characters. */
export const RESOURCE_NAME_MAX = 255;

/** Cloud Map `ServiceName` pattern (servicediscovery-2017-03-14). */
export const CLOUD_MAP_SERVICE_NAME =
  /((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\.$)/;

/** Cloud Map `NamespaceNameHttp` pattern. */
export const CLOUD_MAP_HTTP_NAMESPACE = /^(?!arn:)[!-~]{1,1024}$/;

/** Cloud Map instance attribute key and value patterns (`AwsCloudMapInstanceAttributeKey`/`Value`). */
export const CLOUD_MAP_ATTRIBUTE_KEY = /^[a-zA-Z0-9!-~]+$/;
/** See {@link CLOUD_MAP_ATTRIBUTE_KEY}. */
export const CLOUD_MAP_ATTRIBUTE_VALUE = /^([a-zA-Z0-9!-~][ a-zA-Z0-9!-~]*){0,1}[a-zA-Z0-9!-~]{0,1}$/;

/** The virtual node of one version: `<service>-<version>`. */
export function virtualNodeName(service: string, version: string): string {
  return `${service}-${version}`;
}

/** The virtual router of a service: the service name. */
export function virtualRouterName(service: string): string {
  return service;
}

/** A route of a service's router: `<service>-<route>` (route names are unique per router). */
export function routeName(service: string, route: string): string {
  return `${service}-${route}`;
}

/** The virtual service of a service: its mesh hostname `<service>.<domain>`, as App Mesh expects. */
export function virtualServiceName(service: string, domain: string): string {
  return `${service}.${domain}`;
}

/**
 * A gateway route: `<gateway>-<route>`, plus `-<port>` when the gateway has several listeners and
 * `-h<n>` (the host's position in the gateway's `hosts`) when the route is copied per host.
 */
export function gatewayRouteName(gateway: string, route: string, port?: number, host?: number): string {
  return [
    gateway,
    route,
    ...(port === undefined ? [] : [String(port)]),
    ...(host === undefined ? [] : [`h${host}`]),
  ].join('-');
}

/** The DNS name of one version when discovery is DNS: `<version>.<service>.<domain>`. */
export function versionHostname(service: string, version: string, domain: string): string {
  return `${version}.${service}.${domain}`;
}

/** True when `name` is a valid App Mesh `ResourceName`. */
export function isResourceName(name: string): boolean {
  return name.length >= 1 && name.length <= RESOURCE_NAME_MAX;
}
