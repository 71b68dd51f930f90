/**
 * Validation: one pass over `unknown` input that collects every problem, structural (types,
 * required and unknown fields, enums, ranges, names, durations, regexes; driven by the shape in
 * model/schema/mesh-shape.ts) and semantic (references, weights, uniqueness, protocol rules;
 * model/semantic.ts), then throws one {@link MeshError} listing them all.
 */
import { MeshError, type Problem } from '../errors/index.js';
import { checkShape } from './schema/check.js';
import { MESH_SHAPE } from './schema/mesh-shape.js';
import { checkSemantics } from './semantic.js';
import type { MeshInput } from './types.js';

/** Every problem in `input`, in document order (structural first, then cross-field). Never throws. */
export function findProblems(input: unknown): Problem[] {
  const problems: Problem[] = [];
  const clean = checkShape(MESH_SHAPE, input, '', problems);
  if (clean !== undefined) checkSemantics(clean as Parameters<typeof checkSemantics>[0], problems);
  return problems;
}

/**
 * Validates `input` and returns a clean plain-data copy of it (no getters, proxies or class
 * instances survive). Throws one `MeshError` carrying every problem in `error.problems`; the
 * leading code is the first problem's.
 */
export function validate(input: unknown): MeshInput {
  const problems: Problem[] = [];
  const clean = checkShape(MESH_SHAPE, input, '', problems);
  if (clean !== undefined) checkSemantics(clean as Parameters<typeof checkSemantics>[0], problems);
  if (problems.length > 0) throw MeshError.fromProblems(problems);
  return clean as MeshInput;
}
