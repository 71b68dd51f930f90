/**
 * The proxy's Envoy v3 configuration: types of the supported subset (`envoy.ts`), the strict
 * loader (`load.ts`), the supported-subset allow-list (`supported.ts`) and value helpers.
 */
export * from './envoy.js';
export {
  type ConfigWarning,
  type LoadOptions,
  loadBootstrap,
  loadBootstrapFile,
  type ValidateOptions,
  validateEnvoyResource,
} from './load.js';
export { type FieldUse, SUPPORTED_FIELDS, SUPPORTED_TYPED_CONFIGS } from './supported.js';
export { parseDuration, parseInt64 } from './values.js';
