import { type ErrorEntry, EXIT } from '../entry.js';

/** Codes raised by targets: renderers, plan/apply and cloud APIs. */
export const TARGET_CODES = {
  TARGET_E_UNKNOWN: {
    exit: EXIT.usage,
    title: 'The named target does not exist.',
    help: 'Use one of the targets the message lists.',
  },
  TARGET_E_UNSUPPORTED: {
    exit: EXIT.unsupported,
    title: 'The mesh uses features the target cannot express.',
    help: 'Remove the listed features, or pass --allow-drop to render without them (each dropped feature is reported).',
  },
  TARGET_E_OPTION: {
    exit: EXIT.usage,
    title: 'A target option is missing or invalid.',
    help: 'Give the option the message names (see the target page in docs/targets).',
  },
  TARGET_E_API: {
    exit: EXIT.remote,
    title: 'A cloud API call failed after retries.',
    help: 'Read the API error in the message; re-running apply is safe and converges.',
  },
  TARGET_E_NOT_MANAGED: {
    exit: EXIT.remote,
    title: 'A resource with the same name exists but is not managed by crossmesh for this mesh.',
    help: 'crossmesh never touches resources it does not manage: rename the resource or remove it yourself.',
  },
  TARGET_E_TIMEOUT: {
    exit: EXIT.remote,
    title: 'A long-running cloud operation did not finish in time.',
    help: 'Re-run the command: apply is idempotent and resumes where it stopped.',
  },
} as const satisfies Record<string, ErrorEntry>;
