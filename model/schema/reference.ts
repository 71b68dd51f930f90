/**
 * The field-by-field model reference (`docs/model-reference.md`), generated from the shape
 * description, so every field, type, default and allowed value in it is what validation checks.
 */
import { MESH_SHAPE } from './mesh-shape.js';
import type { Field, ObjectShape, Shape } from './shape.js';

function anchor(name: string): string {
  return name.toLowerCase();
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Builds the reference page. Deterministic. */
export function modelReferencePage(): string {
  const sections: string[] = [];
  const seen = new Set<string>();
  const queue: Shape[] = [MESH_SHAPE];

  const typeOf = (shape: Shape): string => {
    if (shape.name !== undefined) {
      if (!seen.has(shape.name)) {
        seen.add(shape.name);
        queue.push(shape);
      }
      return `[${shape.name}](#${anchor(shape.name)})`;
    }
    switch (shape.type) {
      case 'string':
        return shape.format === undefined ? 'string' : `string (${shape.format.name})`;
      case 'number': {
        const base = shape.integer ? 'integer' : 'number';
        if (shape.min !== undefined && shape.max !== undefined) return `${base} ${shape.min}-${shape.max}`;
        if (shape.min !== undefined) return `${base} ≥ ${shape.min}`;
        return base;
      }
      case 'boolean':
        return 'boolean';
      case 'enum':
        return shape.values.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
      case 'array':
        return `list of ${typeOf(shape.items)}${shape.minItems ? ` (at least ${shape.minItems})` : ''}`;
      case 'tuple':
        return `[${shape.items.map(typeOf).join(', ')}]`;
      case 'record':
        return `map of ${shape.key.name} → ${typeOf(shape.values)}`;
      case 'object':
        return `object { ${Object.keys(shape.fields).join(', ')} }`;
      case 'union':
        return `one of kind ${Object.keys(shape.variants)
          .map((k) => `\`${k}\``)
          .join(', ')}`;
    }
  };

  const table = (fields: Readonly<Record<string, Field>>, kind?: string): string[] => {
    const rows = Object.entries(fields).map(
      ([name, f]) =>
        `| \`${name}\` | ${typeOf(f.shape)} | ${f.required === true ? 'yes' : 'no'} | ${cell(f.default ?? '')} | ${cell(f.doc)} |`,
    );
    const kindRow = kind === undefined ? [] : [`| \`kind\` | \`"${kind}"\` | yes |  | Discriminant. |`];
    return [
      '| field | type | required | default | description |',
      '| --- | --- | --- | --- | --- |',
      ...kindRow,
      ...rows,
    ];
  };

  const describe = (shape: Shape): string[] => {
    const title = [`## ${shape.name}`, '', shape.doc ?? '', ''];
    switch (shape.type) {
      case 'object':
        return [...title, ...table(shape.fields), ''];
      case 'union':
        return [
          ...title,
          ...Object.entries(shape.variants).flatMap(([kind, variant]: [string, ObjectShape]) => [
            `### kind \`${kind}\``,
            '',
            ...table(variant.fields, kind),
            '',
          ]),
        ];
      case 'enum':
        return [
          ...title,
          '| value | meaning |',
          '| --- | --- |',
          ...shape.values.map((v, i) => `| \`${JSON.stringify(v)}\` | ${cell(shape.docs[i] ?? '')} |`),
          '',
        ];
      case 'string':
        return [...title, `A string: ${shape.format?.allowed ?? 'any text'}.`, ''];
      default:
        return [...title, `Type: ${typeOf({ ...shape, name: undefined } as Shape)}.`, ''];
    }
  };

  seen.add(MESH_SHAPE.name ?? 'Mesh');
  for (let i = 0; i < queue.length; i++) {
    const shape = queue[i];
    if (shape !== undefined) sections.push(...describe(shape));
  }
  return [
    '# Mesh model reference',
    '',
    '<!-- Generated from model/schema/mesh-shape.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every field of a mesh, its type, whether it is required, and what an omitted field means. The',
    'same description drives `crossmesh validate` and [`mesh.schema.json`](mesh.schema.json). The',
    'concepts (why data and factories, durations, the canonical form) are in [model.md](model.md).',
    '',
    ...sections,
  ].join('\n');
}
