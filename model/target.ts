/**
 * What a render target is, and how a target declares what it can express.
 * Targets live in `adapters/<name>/`; the model only knows this interface.
 */
import type { FeatureId, FeatureUse } from './features.js';
import type { Mesh } from './types.js';

/** How well a target expresses a feature. */
export type Support = 'full' | 'partial' | 'none';

/** A target's support for one feature, with a note on approximations or the reason it is missing. */
export interface Capability {
  /** Level of support. */
  readonly support: Support;
  /** What is approximated (`partial`) or why it is missing (`none`). @default - no note */
  readonly note?: string;
}

/** Support for every feature of the model. */
export type CapabilityMatrix = Readonly<Record<FeatureId, Capability>>;

/** A render target: a pure function from a canonical mesh to plain objects. */
export interface Target<Output = unknown, Options = Readonly<Record<string, unknown>>> {
  /** Target name used on the command line (`--target <name>`). */
  readonly name: string;
  /** One-line description. */
  readonly title: string;
  /** What the target can express. */
  readonly capabilities: CapabilityMatrix;
  /** A notice the CLI prints whenever the target is used (e.g. a discontinued service). @default - none */
  readonly notice?: string;
  /**
   * Renders a canonical (validated, defaults filled) mesh. Pure: no I/O, deterministic output.
   * Features with support `none` are never rendered; `renderWithTarget` has already failed or
   * recorded them as dropped before calling this.
   */
  render(mesh: Mesh, options: Options): Output;
  /**
   * Writes the rendered output as files: path (relative to the output directory) to content.
   * Pure: the CLI does the writing.
   */
  files(output: Output): ReadonlyMap<string, string>;
}

/** A feature use that was dropped because the target cannot express it. */
export interface DroppedFeature extends FeatureUse {
  /** The target's note on why. */
  readonly reason: string;
}

/** The result of rendering through a target. */
export interface RenderResult<Output> {
  /** The target's output. */
  readonly output: Output;
  /** Every feature use that was dropped (empty unless `allowDrop` was set). */
  readonly dropped: readonly DroppedFeature[];
}
