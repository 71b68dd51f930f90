/**
 * Access logging: Envoy's default format and format strings, response flags, buffered file and
 * stdout/stderr sinks. The engine calls `compileAccessLog(configs, path)` at config load and
 * `logger.log(entry)` when a request finishes; `flush()`/`close()` on shutdown.
 */

export type { LogFilter } from './filters.js';
export { compileLogFilter } from './filters.js';
export type { ResponseFlagName } from './flags.js';
export { FLAG_BITS, formatResponseFlags, formatResponseFlagsLong, ResponseFlag } from './flags.js';
export type { AccessLogEntry, AccessLogOptions } from './logger.js';
export { AccessLogger, compileAccessLog, DEFAULT_FORMAT } from './logger.js';
export type { CompiledFormat, FormatContext } from './substitution.js';
export {
  compileFormat,
  renderHeaderValue,
  renderText,
  renderTyped,
  SUPPORTED_COMMANDS,
} from './substitution.js';
