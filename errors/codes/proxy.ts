import { type ErrorEntry, EXIT } from '../entry.js';

/** Codes raised by the bundled proxy and its configuration loader. */
export const PROXY_CODES = {
  PROXY_E_UNKNOWN_FIELD: {
    exit: EXIT.proxyConfig,
    title: 'The Envoy configuration has a field that Envoy itself does not know.',
    help: 'Fix the field name; Envoy rejects unknown fields in static configuration too.',
  },
  PROXY_E_UNSUPPORTED: {
    exit: EXIT.proxyConfig,
    title: 'The Envoy configuration uses a field the bundled proxy does not support.',
    help: 'See docs/proxy-compatibility.md for the supported subset, or run a real Envoy.',
  },
  PROXY_E_INVALID: {
    exit: EXIT.proxyConfig,
    title: 'An Envoy configuration value is invalid (type, enum, duration or constraint).',
    help: 'Fix the value at the named path.',
  },
  PROXY_E_FILE: {
    exit: EXIT.proxyConfig,
    title: 'The proxy configuration file cannot be read.',
    help: 'Check the path given to -c and its permissions.',
  },
  PROXY_E_PARSE: {
    exit: EXIT.proxyConfig,
    title: 'The configuration file is not valid YAML or JSON.',
    help: 'Fix the syntax at the reported line.',
  },
  PROXY_E_LISTEN: {
    exit: EXIT.proxyConfig,
    title: 'A listener could not bind its address.',
    help: 'Free the port or change the listener address.',
  },
} as const satisfies Record<string, ErrorEntry>;
