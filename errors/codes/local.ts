import { type ErrorEntry, EXIT } from '../entry.js';

/** Codes raised by the local mesh: the xDS control plane, `crossmesh up`, `status` and `compose`. */
export const LOCAL_CODES = {
  CP_E_SNAPSHOT: {
    exit: EXIT.invalid,
    title: 'An xDS snapshot has a resource without a name, or two resources of one type with the same name.',
    help: 'Give every resource a unique name per type; rendered meshes always do, so this points at hand-built snapshots.',
  },
  CP_E_INCONSISTENT: {
    exit: EXIT.invalid,
    title: 'An xDS snapshot references a resource it does not contain, or contains one nothing references.',
    help: 'Every EDS name a cluster uses and every route configuration a listener names must be in the same snapshot.',
  },
  CP_E_ENCODE: {
    exit: EXIT.proxyConfig,
    title: 'A resource is not valid Envoy v3 configuration and cannot be encoded for xDS.',
    help: 'Fix the field at the named path; the control plane never sends a resource Envoy would reject.',
  },
  LOCAL_E_START: {
    exit: EXIT.invalid,
    title:
      'A process of the local mesh (control plane, proxy or service) could not be started or exited early.',
    help: 'Read the service log under .crossmesh/logs/ named in the message; check the command and its working directory.',
  },
  LOCAL_E_NOT_RUNNING: {
    exit: EXIT.invalid,
    title: 'No local mesh is running in this directory.',
    help: 'Start one with `crossmesh up <mesh>`; `crossmesh status` reads .crossmesh/state.json that it writes.',
  },
} as const satisfies Record<string, ErrorEntry>;
