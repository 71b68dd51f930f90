/**
 * How the constructs report what a target could not express, so `cdk synth` says it (never
 * silently): each dropped feature use is a warning (acknowledgeable by its id), and features a
 * target only approximates are one info line per feature, listing where they are used; one line
 * per use would drown the warnings.
 */
import { Annotations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ApproximatedFeature } from '../../model/render.js';
import type { DroppedFeature } from '../../model/target.js';

/** Records `dropped` as warnings and `approximated` as info on `scope`; `target` names the cloud in the text. */
export function annotateRender(
  scope: IConstruct,
  target: string,
  dropped: readonly DroppedFeature[],
  approximated: readonly ApproximatedFeature[],
): void {
  const byFeature = new Map<string, { note: string; paths: string[] }>();
  for (const use of approximated) {
    const entry = byFeature.get(use.feature) ?? { note: use.note, paths: [] };
    entry.paths.push(use.path);
    byFeature.set(use.feature, entry);
  }
  for (const [feature, { note, paths }] of [...byFeature].sort(([a], [b]) => (a < b ? -1 : 1))) {
    Annotations.of(scope).addInfo(`${feature} is approximated on ${target} (${paths.join(', ')}): ${note}`);
  }
  for (const drop of dropped) {
    Annotations.of(scope).addWarningV2(
      `crossmesh:dropped:${drop.feature}:${drop.path}`,
      `${drop.path}: ${drop.feature} dropped (${target} cannot express it: ${drop.reason})`,
    );
  }
}
