/**
 * The proxy's own diagnostic log (not the access log), with Envoy's `--log-level` names. Lines go
 * to stderr in Envoy's shape: `[2026-11-25 13:00:00.000][12][info][main] message`.
 */

/** Envoy's log levels, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;

/** One of {@link LOG_LEVELS} (`warn` is accepted as `warning`). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Parses a `--log-level` value; undefined when it is not a level. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.toLowerCase() === 'warn' ? 'warning' : value.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : undefined;
}

/** A leveled logger. */
export class ProxyLog {
  private readonly threshold: number;

  constructor(
    level: LogLevel,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  /** True when `level` would be written (lets callers skip building messages). */
  enabled(level: Exclude<LogLevel, 'off'>): boolean {
    return LOG_LEVELS.indexOf(level) >= this.threshold;
  }

  /** Writes `message` at `level` from `component`. */
  log(level: Exclude<LogLevel, 'off'>, component: string, message: string): void {
    if (!this.enabled(level)) return;
    const ts = new Date().toISOString().replace('T', ' ').replace('Z', '');
    this.write(`[${ts}][${process.pid}][${level}][${component}] ${message}\n`);
  }
}
