/**
 * What a cloud target plugs into `crossmesh plan|apply|destroy`: its pure desired-state function
 * and a factory for its provider (the API edge). Registered in adapters/providers.ts.
 */
import type { Mesh } from '../../model/types.js';
import type { DesiredResource, Provider } from './types.js';

/** Options from the command line that providers understand. */
export interface CloudOptions {
  /** Stand-in endpoint (`--endpoint`), e.g. a moto server or the GCP stand-in. @default - the real cloud */
  readonly endpoint?: string;
  /** AWS region (`--region`). @default - the standard AWS chain (AWS_REGION, profile) */
  readonly region?: string;
  /** GCP project (`--project`). @default - none; Traffic Director requires it */
  readonly project?: string;
  /** Print progress lines (long-running operations, retries). @default - no progress output */
  readonly progress?: (line: string) => void;
  /** Report a warning, e.g. one line per feature dropped under `--allow-drop`. @default - warnings are discarded */
  readonly warn?: (line: string) => void;
}

/** A cloud target as the plan/apply commands see it. */
export interface CloudTarget {
  /** Target name, as in `--target`. */
  readonly name: string;
  /** A notice printed on every plan/apply/destroy (e.g. App Mesh's discontinuation). @default - none */
  readonly notice?: string;
  /** Pure: the resources the mesh needs. Throws MeshError (TARGET_E_UNSUPPORTED / TARGET_E_OPTION). */
  desired(mesh: Mesh, options: CloudOptions & { readonly allowDrop: boolean }): readonly DesiredResource[];
  /** Builds the provider (I/O edge). */
  provider(mesh: Mesh, options: CloudOptions): Provider;
}
