/**
 * Rendering through a target with the capability check: a mesh that uses a feature the target
 * cannot express fails with every such use listed, or, when the caller explicitly allows it,
 * renders and reports exactly what was dropped. Nothing is dropped silently.
 */
import { MeshError, type Problem } from '../errors/index.js';
import { detectFeatures } from './detect.js';
import { FEATURE_IDS, FEATURES, type FeatureUse } from './features.js';
import type { Capability, DroppedFeature, RenderResult, Target } from './target.js';
import type { Mesh } from './types.js';

/** Options of {@link renderWithTarget}. */
export interface RenderPolicy {
  /** Render even when features are unsupported, recording each dropped use. @default - false (fail) */
  readonly allowDrop?: boolean;
}

/** A feature use the target expresses only approximately (support `partial`). */
export interface ApproximatedFeature extends FeatureUse {
  /** The target's note on what is approximated. */
  readonly note: string;
}

/** What {@link renderWithTarget} returns: the result plus the approximations, for the CLI to print. */
export interface RenderOutcome<Output> extends RenderResult<Output> {
  /** Uses the target renders only approximately. */
  readonly approximated: readonly ApproximatedFeature[];
}

function capabilityOf(target: Target<unknown, never>, feature: FeatureUse['feature']): Capability {
  // A matrix is typed complete, but a JavaScript target could omit a feature: treat that as none.
  return target.capabilities[feature] ?? { support: 'none', note: 'not declared by the target' };
}

/** How a target would handle each feature use of a mesh: what it drops and what it approximates. */
export interface CapabilityReport {
  /** Uses the target cannot express. */
  readonly unsupported: readonly DroppedFeature[];
  /** Uses the target expresses only approximately. */
  readonly approximated: readonly ApproximatedFeature[];
}

/** Checks every feature use of a canonical mesh against a target's matrix. Pure; renders nothing. */
export function checkCapabilities(target: Target<unknown, never>, mesh: Mesh): CapabilityReport {
  const unsupported: DroppedFeature[] = [];
  const approximated: ApproximatedFeature[] = [];
  for (const use of detectFeatures(mesh)) {
    const capability = capabilityOf(target, use.feature);
    if (capability.support === 'none') {
      unsupported.push({ ...use, reason: capability.note ?? `${target.name} cannot express it` });
    } else if (capability.support === 'partial') {
      approximated.push({ ...use, note: capability.note ?? 'approximated' });
    }
  }
  return { unsupported, approximated };
}

/** The `TARGET_E_UNSUPPORTED` problems for uses a target cannot express (one per use). */
export function unsupportedProblems(
  target: Target<unknown, never>,
  uses: readonly DroppedFeature[],
): Problem[] {
  return uses.map((d) => ({
    code: 'TARGET_E_UNSUPPORTED',
    path: d.path,
    message: `${FEATURES[d.feature]} (${d.feature}) cannot be expressed on target ${target.name}: ${d.reason}`,
    value: d.feature,
    allowed: `features target ${target.name} supports (docs/targets/${target.name}.md)`,
  }));
}

/**
 * Renders a canonical mesh (the output of `canonicalize()`) with `target`. Throws one
 * `TARGET_E_UNSUPPORTED` MeshError listing every unsupported use (path, feature, the target's
 * note) unless `allowDrop` is set; then the uses are returned in `dropped`.
 */
export function renderWithTarget<Output, Options>(
  target: Target<Output, Options>,
  mesh: Mesh,
  options: Options,
  policy: RenderPolicy = {},
): RenderOutcome<Output> {
  const { unsupported, approximated } = checkCapabilities(target as Target<unknown, never>, mesh);
  if (unsupported.length > 0 && policy.allowDrop !== true) {
    const problems = unsupportedProblems(target as Target<unknown, never>, unsupported);
    throw MeshError.fromProblems(
      problems,
      `target ${target.name} cannot express ${unsupported.length} feature use${unsupported.length === 1 ? '' : 's'} of mesh ${mesh.name}` +
        ' (pass --allow-drop to render without them):\n' +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
    );
  }
  return { output: target.render(mesh, options), dropped: unsupported, approximated };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * The capability matrix of a target as a markdown page (`docs/targets/<name>.md`), generated from
 * the target's declaration so the published matrix cannot drift from the code.
 */
export function capabilityMatrixPage(target: Target<unknown, never>): string {
  const counts = { full: 0, partial: 0, none: 0 };
  const rows = FEATURE_IDS.map((feature) => {
    const c = capabilityOf(target, feature);
    counts[c.support]++;
    const mark = c.support === 'full' ? 'yes' : c.support === 'partial' ? 'partial' : 'no';
    return `| \`${feature}\` | ${cell(FEATURES[feature])} | ${mark} | ${cell(c.note ?? '')} |`;
  });
  return [
    `# Target \`${target.name}\``,
    '',
    `<!-- Generated from the target's capability matrix by \`npm run docs\`; do not edit by hand. -->`,
    '',
    target.title,
    '',
    `Supports ${counts.full} of ${FEATURE_IDS.length} model features fully, ${counts.partial} partially, and cannot express ${counts.none}.`,
    'Rendering a mesh that uses a feature marked `no` fails with `TARGET_E_UNSUPPORTED` and the list of',
    'every such use; `crossmesh render --allow-drop` renders without them and prints each dropped use.',
    '',
    '| feature | what | supported | note |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/**
 * One table of every feature against every target (`docs/capabilities.md`), generated from the
 * targets' declarations: the overview a user reads before choosing a target.
 */
export function capabilitiesOverviewPage(
  targets: readonly Target<unknown, never>[],
  /** Targets that have a `docs/targets/<name>.md` page to link to. @default - every target */
  withPage: (name: string) => boolean = () => true,
): string {
  const mark = (c: Capability): string =>
    c.support === 'full' ? 'yes' : c.support === 'partial' ? 'partial' : 'no';
  const title = (t: Target<unknown, never>): string =>
    withPage(t.name) ? `[${t.name}](targets/${t.name}.md)` : t.name;
  const header = `| feature | ${targets.map(title).join(' | ')} |`;
  const rule = `| --- | ${targets.map(() => '---').join(' | ')} |`;
  const rows = FEATURE_IDS.map(
    (feature) =>
      `| \`${feature}\`: ${cell(FEATURES[feature])} | ${targets.map((t) => mark(capabilityOf(t, feature))).join(' | ')} |`,
  );
  return [
    '# Capabilities of the targets',
    '',
    "<!-- Generated from each target's capability matrix by `npm run docs`; do not edit by hand. -->",
    '',
    'What each render target can express. `partial` means an approximation and `no` means the target',
    'cannot express the feature: rendering a mesh that uses it fails with `TARGET_E_UNSUPPORTED`',
    '(exit 3) listing every use, unless `--allow-drop` is given, which renders without it and prints',
    "each dropped use. Each target's page has the notes. How features are detected: [model.md](model.md).",
    '',
    header,
    rule,
    ...rows,
    '',
  ].join('\n');
}
