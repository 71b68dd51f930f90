/**
 * `CrossmeshTrafficDirectorManifest`: the same crossmesh model, for Google Cloud Traffic Director,
 * from a CDK app. CloudFormation cannot create GCP resources, so the construct puts the rendered
 * Traffic Director manifest into the cloud assembly (`cdk.out/`) at synth time, next to the
 * stack's template, and `crossmesh apply --target traffic-director` deploys it:
 *
 *   cdk.out/<stack>.crossmesh-traffic-director.json        the rendered manifest (review, diff in PRs)
 *   cdk.out/<stack>.crossmesh-mesh.json                     the canonical mesh `crossmesh apply` loads
 *   cdk.out/<stack>.crossmesh-traffic-director.negs.json    NEG inputs, when given
 *
 *   CROSSMESH_TD_NEGS=@cdk.out/<stack>.crossmesh-traffic-director.negs.json \
 *     crossmesh apply --target traffic-director --project P cdk.out/<stack>.crossmesh-mesh.json
 *
 * Why the mesh file beside the manifest: `crossmesh apply` takes a mesh and renders it itself
 * (its plan is a diff against that render). Rendering is pure, so with the same project and NEGs
 * it produces exactly the manifest written here; test/cdk checks that the two agree.
 * SEAM(apply-manifest): once the CLI accepts a rendered manifest as input, point it at
 * `<stack>.crossmesh-traffic-director.json` and drop the mesh file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, attachCustomSynthesis, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { trafficDirectorTarget } from '../adapters/traffic-director/index.js';
import type { TrafficDirectorManifest } from '../adapters/traffic-director/types.js';
import { MeshError } from '../errors/index.js';
import { canonicalize, toCanonicalJson } from '../model/canonical.js';
import { type RenderOutcome, renderWithTarget } from '../model/render.js';
import type { DroppedFeature } from '../model/target.js';
import type { Mesh, MeshInput } from '../model/types.js';
import { annotateRender } from './private/annotations.js';

/** Metadata type on the construct naming the files it adds (visible in the assembly's manifest.json). */
export const TRAFFIC_DIRECTOR_METADATA = 'crossmesh:traffic-director-manifest';

/** Props of {@link CrossmeshTrafficDirectorManifest}. */
export interface CrossmeshTrafficDirectorManifestProps {
  /** The mesh, as written or canonical; validated and canonicalized here. */
  readonly mesh: MeshInput | Mesh;
  /** GCP project id the resources are created in (the `--project` of `crossmesh apply`). */
  readonly project: string;
  /**
   * Network endpoint groups per service version, keyed `<service>/<version>` (NEG references).
   * Written as `<stack>.crossmesh-traffic-director.negs.json` for `CROSSMESH_TD_NEGS`.
   * @default - no NEGs: backend services route nowhere until NEGs are attached (a synth warning says so)
   */
  readonly negs?: Readonly<Record<string, readonly string[]>>;
  /**
   * Render without features Traffic Director cannot express; each becomes a synth warning.
   * `crossmesh apply` then needs `--allow-drop` too.
   * @default false - unsupported features fail with TARGET_E_UNSUPPORTED
   */
  readonly allowDrop?: boolean;
}

/**
 * Adds the Traffic Director manifest of a mesh to the cloud assembly (one per stack). Rendering
 * happens at construction, so model errors surface where the construct is created; the files are
 * written during synthesis.
 */
export class CrossmeshTrafficDirectorManifest extends Construct {
  /** The canonical model. */
  readonly model: Mesh;
  /** The rendered manifest, exactly as written to the assembly. */
  readonly manifest: TrafficDirectorManifest;
  /** Features left out under `allowDrop` (each also a synth warning). */
  readonly dropped: readonly DroppedFeature[];
  /** File name of the manifest inside the assembly directory. */
  readonly manifestFile: string;
  /** File name of the canonical mesh inside the assembly directory (the input of `crossmesh apply`). */
  readonly meshFile: string;
  /** File name of the NEG inputs, when NEGs were given. */
  readonly negsFile?: string;

  constructor(scope: Construct, id: string, props: CrossmeshTrafficDirectorManifestProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const other = stack.node
      .findAll()
      .find((c) => c !== this && c instanceof CrossmeshTrafficDirectorManifest);
    if (other !== undefined) {
      throw new MeshError(
        'TARGET_E_OPTION',
        `${this.node.path}: stack ${stack.stackName} already has a Traffic Director manifest (${other.node.path}); put each mesh in its own stack`,
        { path: 'scope', value: stack.node.path, allowed: 'one CrossmeshTrafficDirectorManifest per stack' },
      );
    }

    let outcome: RenderOutcome<TrafficDirectorManifest>;
    try {
      this.model = canonicalize(props.mesh);
      outcome = renderWithTarget(
        trafficDirectorTarget,
        this.model,
        { project: props.project, ...(props.negs === undefined ? {} : { negs: props.negs }) },
        { allowDrop: props.allowDrop === true },
      );
    } catch (error) {
      if (!(error instanceof MeshError)) throw error;
      throw new MeshError(error.code, `${this.node.path}: ${error.message}`, {
        path: error.path,
        problems: error.problems,
        cause: error,
        ...(error.value === undefined ? {} : { value: error.value }),
        ...(error.allowed === undefined ? {} : { allowed: error.allowed }),
      });
    }
    this.manifest = outcome.output;
    this.dropped = outcome.dropped;
    annotateRender(this, 'Traffic Director', this.dropped, outcome.approximated);
    for (const [i, warning] of this.manifest.warnings.entries()) {
      Annotations.of(this).addWarningV2(`crossmesh:traffic-director:${i}`, warning);
    }

    const base = stack.artifactId;
    this.manifestFile = `${base}.crossmesh-traffic-director.json`;
    this.meshFile = `${base}.crossmesh-mesh.json`;
    if (props.negs !== undefined) this.negsFile = `${base}.crossmesh-traffic-director.negs.json`;
    const files = new Map<string, string>([
      [this.manifestFile, `${JSON.stringify(this.manifest, null, 2)}\n`],
      [this.meshFile, toCanonicalJson(this.model)],
    ]);
    if (this.negsFile !== undefined)
      files.set(this.negsFile, `${JSON.stringify(sortedNegs(props.negs ?? {}), null, 2)}\n`);

    this.node.addMetadata(TRAFFIC_DIRECTOR_METADATA, {
      manifest: this.manifestFile,
      mesh: this.meshFile,
      ...(this.negsFile === undefined ? {} : { negs: this.negsFile }),
      project: props.project,
    });
    // aws-cdk-lib's hook for constructs that add their own files to the cloud assembly.
    attachCustomSynthesis(this, {
      onSynthesize: (session) => {
        for (const [name, content] of files) writeFileSync(join(session.outdir, name), content);
      },
    });
  }
}

function sortedNegs(negs: Readonly<Record<string, readonly string[]>>): Record<string, readonly string[]> {
  return Object.fromEntries(
    Object.keys(negs)
      .sort()
      .map((key) => [key, negs[key] ?? []]),
  );
}
