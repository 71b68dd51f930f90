/**
 * The compute v1 request schema for the stand-in, derived at test time from googleapis' own
 * TypeScript types (`node_modules/googleapis/build/src/apis/compute/v1.d.ts`), because
 * ../shared/api-models/ has no compute discovery document.
 *
 * The d.ts gives every property and its JSON type (and marks output-only fields in JSDoc:
 * "[Output Only]"); it does not type enums, whose values only appear in the JSDoc prose. So the
 * enum values of the fields crossmesh sends are listed in {@link COMPUTE_ENUMS}, and
 * test/adapters/traffic-director/standin.test.ts checks that each listed value is named in the
 * d.ts (in the field's JSDoc where the prose lists values, else elsewhere in the compute types).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DiscoverySchema } from './discovery.js';

/** Enum values of the compute fields crossmesh sends, as `Schema.property`. */
export const COMPUTE_ENUMS: Readonly<Record<string, readonly string[]>> = {
  'BackendService.protocol': ['HTTP', 'HTTPS', 'HTTP2', 'H2C', 'TCP', 'SSL', 'UDP', 'GRPC', 'UNSPECIFIED'],
  'BackendService.loadBalancingScheme': [
    'EXTERNAL',
    'EXTERNAL_MANAGED',
    'INTERNAL',
    'INTERNAL_MANAGED',
    'INTERNAL_SELF_MANAGED',
  ],
  'BackendService.localityLbPolicy': [
    'ROUND_ROBIN',
    'LEAST_REQUEST',
    'RING_HASH',
    'RANDOM',
    'ORIGINAL_DESTINATION',
    'MAGLEV',
  ],
  'BackendService.sessionAffinity': [
    'NONE',
    'CLIENT_IP',
    'CLIENT_IP_PROTO',
    'GENERATED_COOKIE',
    'HEADER_FIELD',
    'HTTP_COOKIE',
  ],
  'Backend.balancingMode': ['RATE', 'CONNECTION'],
  'HealthCheck.type': ['TCP', 'SSL', 'HTTP', 'HTTPS', 'HTTP2', 'GRPC'],
  'HTTPHealthCheck.proxyHeader': ['NONE', 'PROXY_V1'],
  'HTTP2HealthCheck.proxyHeader': ['NONE', 'PROXY_V1'],
  'TCPHealthCheck.proxyHeader': ['NONE', 'PROXY_V1'],
};

/** The text of googleapis' compute v1 type declarations. */
export function readComputeTypes(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('googleapis');
  const file = entry.replace(/build[/\\]src[/\\]index\.js$/, 'build/src/apis/compute/v1.d.ts');
  return readFileSync(file, 'utf8');
}

/** The text of `export interface Schema$<name> { ... }`, or undefined. */
function interfaceBody(source: string, name: string): string | undefined {
  const start = source.indexOf(`export interface Schema$${name} {`);
  if (start === -1) return undefined;
  const end = source.indexOf('\n    }\n', start);
  return source.slice(source.indexOf('{', start) + 1, end);
}

interface ParsedProperty {
  readonly name: string;
  readonly type: string;
  readonly doc: string;
}

/** Properties at the interface's top level (8-space indent), with their JSDoc. */
function properties(body: string): ParsedProperty[] {
  const out: ParsedProperty[] = [];
  const lines = body.split('\n');
  let doc = '';
  let inDoc = false;
  for (const line of lines) {
    if (/^ {8}\/\*\*/.test(line)) {
      inDoc = true;
      doc = '';
    }
    if (inDoc) {
      doc += `${line.replace(/^\s*\/?\*+\/?/, '').trim()} `;
      if (line.includes('*/')) inDoc = false;
      continue;
    }
    const match = /^ {8}([A-Za-z0-9_]+)\?: (.+)$/.exec(line);
    if (match !== null) {
      out.push({ name: match[1] as string, type: (match[2] as string).replace(/;$/, ''), doc: doc.trim() });
      doc = '';
    }
  }
  return out;
}

function toSchema(type: string, pending: string[]): DiscoverySchema {
  const t = type.replace(/ \| null$/, '').trim();
  if (t === 'string') return { type: 'string' };
  if (t === 'number') return { type: 'number' };
  if (t === 'boolean') return { type: 'boolean' };
  if (t === 'string[]') return { type: 'array', items: { type: 'string' } };
  if (t === 'number[]') return { type: 'array', items: { type: 'number' } };
  const ref = /^Schema\$([A-Za-z0-9_]+)(\[\])?$/.exec(t);
  if (ref !== null) {
    pending.push(ref[1] as string);
    return ref[2] === undefined
      ? { $ref: ref[1] as string }
      : { type: 'array', items: { $ref: ref[1] as string } };
  }
  // Inline object types (maps, Array<{...}>) are not sent by crossmesh; accept any value there.
  return { type: 'any' };
}

/**
 * Builds discovery-style schemas for `roots` and everything they reference, straight from the
 * googleapis compute v1 types, with {@link COMPUTE_ENUMS} overlaid. Also returns each field's JSDoc.
 */
export function buildComputeSchemas(roots: readonly string[]): {
  readonly schemas: Record<string, DiscoverySchema>;
  readonly docs: Record<string, string>;
} {
  const source = readComputeTypes();
  const schemas: Record<string, DiscoverySchema> = {};
  const docs: Record<string, string> = {};
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (schemas[name] !== undefined) continue;
    const body = interfaceBody(source, name);
    if (body === undefined) throw new Error(`compute v1 types have no Schema$${name}`);
    const props: Record<string, DiscoverySchema> = {};
    for (const p of properties(body)) {
      const base = toSchema(p.type, pending);
      const enumValues = COMPUTE_ENUMS[`${name}.${p.name}`];
      props[p.name] = {
        ...base,
        description: p.doc,
        ...(p.doc.startsWith('[Output Only]') ? { readOnly: true } : {}),
        ...(enumValues === undefined ? {} : { enum: enumValues }),
      };
      docs[`${name}.${p.name}`] = p.doc;
    }
    schemas[name] = { id: name, type: 'object', properties: props };
  }
  return { schemas, docs };
}
