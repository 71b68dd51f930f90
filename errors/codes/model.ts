import { type ErrorEntry, EXIT } from '../entry.js';

/** Codes raised while loading and validating a mesh model. */
export const MODEL_CODES = {
  MESH_E_REQUIRED: {
    exit: EXIT.invalid,
    title: 'A required field is missing.',
    help: 'Add the field named in the path.',
  },
  MESH_E_TYPE: {
    exit: EXIT.invalid,
    title: 'A field has the wrong type.',
    help: 'Give a value of the type the message names.',
  },
  MESH_E_UNKNOWN_FIELD: {
    exit: EXIT.invalid,
    title: 'A field is not part of the model.',
    help: 'Remove it or fix its spelling; the message lists the allowed fields.',
  },
  MESH_E_ENUM: {
    exit: EXIT.invalid,
    title: 'A field has a value outside its allowed set.',
    help: 'Use one of the values the message lists.',
  },
  MESH_E_RANGE: {
    exit: EXIT.invalid,
    title: 'A number is out of its allowed range.',
    help: 'Use a value inside the range the message names.',
  },
  MESH_E_NAME: {
    exit: EXIT.invalid,
    title: 'A name is not a valid DNS label.',
    help: 'Use 1-63 lowercase letters, digits and hyphens, starting with a letter.',
  },
  MESH_E_DURATION: {
    exit: EXIT.invalid,
    title: 'A duration cannot be parsed or is out of range.',
    help: 'Write durations as a number and a unit: 250ms, 2s, 1m, 1h.',
  },
  MESH_E_PATTERN: {
    exit: EXIT.invalid,
    title: 'A string does not have the required form (regex, path, hostname, header name).',
    help: 'Fix the value to the form the message describes.',
  },
  MESH_E_REF: {
    exit: EXIT.invalid,
    title: 'A reference names a service, version or gateway that does not exist.',
    help: 'Declare the target or fix the name; the message lists the names that exist.',
  },
  MESH_E_WEIGHTS_SUM: {
    exit: EXIT.invalid,
    title: 'Route destination weights do not add up to a positive total.',
    help: 'Give every destination a weight from 0 to 1000 and make at least one weight positive.',
  },
  MESH_E_DUPLICATE: {
    exit: EXIT.invalid,
    title: 'A name or port is declared twice where it must be unique.',
    help: 'Rename or remove one of the duplicates.',
  },
  MESH_E_CONFLICT: {
    exit: EXIT.invalid,
    title: 'Two fields that cannot be used together are both set.',
    help: 'Keep only one of the fields the message names.',
  },
  MESH_E_REQUIRES: {
    exit: EXIT.invalid,
    title: 'A field needs another field or setting that is not there.',
    help: 'Add what the message names (e.g. a prefix path match for a prefix rewrite), or remove the field.',
  },
  MESH_E_PROTOCOL: {
    exit: EXIT.invalid,
    title: 'A feature is used with a protocol that does not support it.',
    help: 'Use the feature only on the protocols the message names.',
  },
  MESH_E_LOAD: {
    exit: EXIT.invalid,
    title: 'A mesh file could not be loaded.',
    help: 'A TypeScript mesh file must default-export a mesh (or export `mesh`); JSON and YAML must hold one mesh object.',
  },
} as const satisfies Record<string, ErrorEntry>;
