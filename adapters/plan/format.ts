/** Human and machine renderings of a {@link Plan}. Pure. */
import type { Change, Json, Plan } from './types.js';

const SYMBOL: Readonly<Record<Change['action'], string>> = { create: '+', update: '~', delete: '-' };

function short(value: Json | undefined): string {
  if (value === undefined) return '(none)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Counts of each action. */
export function planSummary(plan: Plan): {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
} {
  const count = (action: Change['action']) => plan.changes.filter((c) => c.action === action).length;
  return {
    create: count('create'),
    update: count('update'),
    delete: count('delete'),
    unchanged: plan.unchanged.length,
  };
}

/**
 * A readable table: one row per change in execution order, with field-level differences under
 * each update.
 */
export function formatPlanTable(plan: Plan): string {
  const s = planSummary(plan);
  const head = `Plan for mesh "${plan.mesh}" on ${plan.target}: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged.`;
  if (plan.changes.length === 0) return `${head}\nNo changes: live state matches the mesh.\n`;
  const kindWidth = Math.max(4, ...plan.changes.map((c) => c.kind.length));
  const lines = [head, '', `  ${'  '}${'KIND'.padEnd(kindWidth)}  NAME`];
  for (const change of plan.changes) {
    lines.push(`  ${SYMBOL[change.action]} ${change.kind.padEnd(kindWidth)}  ${change.name}`);
    if (change.action === 'update') {
      for (const field of change.fields) {
        lines.push(`      ${field.path}: ${short(field.from)} -> ${short(field.to)}`);
      }
    }
  }
  lines.push('', '  + create   ~ update   - delete', '');
  return lines.join('\n');
}

/** The plan as JSON for `--json`: actions, ids and field differences (not provider handles). */
export function planToJson(plan: Plan): Json {
  return {
    target: plan.target,
    mesh: plan.mesh,
    summary: planSummary(plan),
    changes: plan.changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      id: c.id,
      name: c.name,
      fields: c.fields.map((f) => ({
        path: f.path,
        ...(f.from === undefined ? {} : { from: f.from }),
        ...(f.to === undefined ? {} : { to: f.to }),
      })),
    })),
    unchanged: [...plan.unchanged],
  };
}
