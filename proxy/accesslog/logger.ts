/**
 * Access logs: Envoy's `access_log` configs compiled into formatters and buffered sinks.
 *
 * A line is formatted when the request finishes and appended to an in-memory buffer; the buffer
 * goes to the file (or stdout/stderr) in one asynchronous write when it reaches 64 KiB or when
 * the flush timer fires (1 s, Envoy's default), so logging never blocks the event loop on disk.
 * A sink that cannot keep up drops lines beyond a 16 MiB backlog instead of growing without
 * bound (counted in `access_log_file.write_failed`-style stats when a store is given).
 */
import fs from 'node:fs';
import { MeshError } from '../../errors/index.js';
import type { AccessLog, DataSource, FileAccessLog, SubstitutionFormatString } from '../config/envoy.js';
import type { StatsStore } from '../stats/store.js';
import { compileLogFilter, type LogFilter } from './filters.js';
import {
  type CompiledFormat,
  compileFormat,
  type FormatContext,
  renderText,
  renderTyped,
} from './substitution.js';

/** Envoy's default access log format (a trailing newline included). */
export const DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** What the access log receives per finished request (the same shape header formatters read). */
export type AccessLogEntry = FormatContext;

const FILE_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const STDERR_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

const FLUSH_BYTES = 64 * 1024;
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;

/** Options for {@link compileAccessLog}. */
export interface AccessLogOptions {
  /** Config path of the `access_log` list, for errors. @default `access_log` */
  readonly path?: string;
  /** How often buffered lines are written. @default 1000 ms (Envoy's file_flush_interval) */
  readonly flushIntervalMs?: number;
  /** Where Envoy's `access_log_file.*` stats go. @default - no stats */
  readonly stats?: StatsStore;
  /** Random source for `runtime_filter` sampling. @default Math.random */
  readonly random?: () => number;
}

/** A destination for formatted lines. */
interface Sink {
  write(line: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Reopens the file (after log rotation); streams have nothing to reopen. */
  reopen(): Promise<void>;
}

interface SinkStats {
  readonly buffered: { inc(): void };
  readonly completed: { inc(): void };
  readonly failed: { inc(): void };
  readonly byTimer: { inc(): void };
}

const NO_STATS: SinkStats = {
  buffered: { inc: () => {} },
  completed: { inc: () => {} },
  failed: { inc: () => {} },
  byTimer: { inc: () => {} },
};

/** Buffers lines and writes them in batches, one write in flight at a time. */
class BufferedSink implements Sink {
  private pending: string[] = [];
  private pendingBytes = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly writeChunk: (chunk: string) => Promise<void>,
    private readonly onClose: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly stats: SinkStats,
    private readonly onReopen: () => void = () => {},
  ) {}

  /** Writes what is buffered to the old file, then switches to a freshly opened one. */
  async reopen(): Promise<void> {
    await this.flush();
    if (!this.closed) this.onReopen();
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.pendingBytes > MAX_BACKLOG_BYTES) {
      this.stats.failed.inc();
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.stats.buffered.inc();
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.stats.byTimer.inc();
        void this.flush();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far; resolves when it is written. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.inFlight !== undefined || this.pending.length > 0) {
      if (this.inFlight !== undefined) {
        await this.inFlight;
        continue;
      }
      const chunk = this.pending.join('');
      this.pending = [];
      this.pendingBytes = 0;
      this.inFlight = this.writeChunk(chunk).then(
        () => this.stats.completed.inc(),
        () => this.stats.failed.inc(),
      );
      await this.inFlight;
      this.inFlight = undefined;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.onClose();
  }
}

function streamSink(stream: NodeJS.WriteStream, intervalMs: number, stats: SinkStats): Sink {
  return new BufferedSink(
    (chunk) =>
      new Promise((resolve, reject) => {
        stream.write(chunk, (error) => (error ? reject(error) : resolve()));
      }),
    async () => {},
    intervalMs,
    stats,
  );
}

function fileSink(path: string, configPath: string, intervalMs: number, stats: SinkStats): Sink {
  if (path === '/dev/stdout') return streamSink(process.stdout, intervalMs, stats);
  if (path === '/dev/stderr') return streamSink(process.stderr, intervalMs, stats);
  let fd: number;
  try {
    // Opened at start-up, like Envoy: a log that cannot be opened stops the proxy from starting.
    fd = fs.openSync(path, 'a');
  } catch (error) {
    throw new MeshError('PROXY_E_INVALID', `cannot open access log ${path}: ${(error as Error).message}`, {
      path: configPath,
      value: path,
      allowed: 'a writable file path, /dev/stdout or /dev/stderr',
    });
  }
  return new BufferedSink(
    (chunk) =>
      new Promise((resolve, reject) => {
        fs.write(fd, chunk, null, 'utf8', (error) => (error ? reject(error) : resolve()));
      }),
    () => new Promise((resolve) => fs.close(fd, () => resolve())),
    intervalMs,
    stats,
    () => {
      // logrotate moved the file away: keep writing to the old one if the path cannot be opened.
      try {
        const next = fs.openSync(path, 'a');
        fs.close(fd, () => {});
        fd = next;
      } catch {
        stats.failed.inc();
      }
    },
  );
}

/** A compiled JSON format: constants and format strings in a tree, keys sorted. */
type JsonNode =
  | { readonly kind: 'format'; readonly format: CompiledFormat }
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'object'; readonly entries: ReadonlyArray<readonly [string, JsonNode]> };

function compileJson(value: unknown, path: string): JsonNode {
  if (typeof value === 'string') return { kind: 'format', format: compileFormat(value, path) };
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return { kind: 'const', value };
  if (Array.isArray(value)) {
    throw new MeshError(
      'PROXY_E_UNSUPPORTED',
      'lists inside json_format are not supported (Envoy rejects them too)',
      {
        path,
        value,
        allowed: 'strings, numbers, booleans and nested objects',
      },
    );
  }
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => [k, compileJson((value as Record<string, unknown>)[k], `${path}.${k}`)] as const);
    return { kind: 'object', entries };
  }
  throw new MeshError('PROXY_E_INVALID', 'json_format values must be strings, numbers, booleans or objects', {
    path,
    value,
  });
}

function renderJson(node: JsonNode, ctx: FormatContext, omitEmpty: boolean): unknown {
  switch (node.kind) {
    case 'format':
      return renderTyped(node.format, ctx);
    case 'const':
      return node.value;
    default: {
      const out: Record<string, unknown> = {};
      for (const [k, child] of node.entries) {
        const v = renderJson(child, ctx, omitEmpty);
        if (omitEmpty && (v === null || v === '')) continue;
        out[k] = v;
      }
      return out;
    }
  }
}

function readFormatSource(ds: DataSource, path: string): string {
  if (ds.inline_string !== undefined) return ds.inline_string;
  if (ds.inline_bytes !== undefined) return Buffer.from(ds.inline_bytes, 'base64').toString('utf8');
  if (ds.filename !== undefined) {
    try {
      return fs.readFileSync(ds.filename, 'utf8');
    } catch (error) {
      throw new MeshError('PROXY_E_INVALID', `cannot read ${ds.filename}: ${(error as Error).message}`, {
        path: `${path}.filename`,
        value: ds.filename,
      });
    }
  }
  throw new MeshError('PROXY_E_INVALID', 'text_format_source needs inline_string, inline_bytes or filename', {
    path,
    value: ds,
  });
}

/** Turns one SubstitutionFormatString (or the deprecated forms) into a line renderer. */
function compileLineFormat(
  logFormat: SubstitutionFormatString | undefined,
  legacyText: string | undefined,
  legacyJson: Readonly<Record<string, unknown>> | undefined,
  path: string,
): (ctx: FormatContext) => string {
  const text =
    logFormat?.text_format ??
    (logFormat?.text_format_source === undefined
      ? undefined
      : readFormatSource(logFormat.text_format_source, `${path}.log_format.text_format_source`)) ??
    legacyText;
  const json = logFormat?.json_format ?? legacyJson;
  if (text !== undefined && json !== undefined) {
    throw new MeshError('PROXY_E_INVALID', 'a log format is either text or JSON, not both', {
      path,
      allowed: 'one of text_format_source, json_format',
    });
  }
  if (json !== undefined) {
    const node = compileJson(json, `${path}.log_format.json_format`);
    const omit = logFormat?.omit_empty_values === true;
    return (ctx) => `${JSON.stringify(renderJson(node, ctx, omit))}\n`;
  }
  const format = compileFormat(text ?? DEFAULT_FORMAT, text === undefined ? `${path}` : `${path}.log_format`);
  return (ctx) => renderText(format, ctx);
}

/** One configured log: an optional filter, a line renderer and its sink. */
interface Output {
  readonly filter: LogFilter | undefined;
  readonly render: (ctx: FormatContext) => string;
  readonly sink: Sink;
}

/** The compiled access logs of one connection manager. */
export class AccessLogger {
  /** @internal */
  constructor(private readonly outputs: readonly Output[]) {}

  /** Formats and buffers one finished request for every configured log whose filter passes. Never throws. */
  log(entry: AccessLogEntry): void {
    for (const o of this.outputs) {
      let line: string;
      try {
        if (o.filter !== undefined && !o.filter(entry)) continue;
        line = o.render(entry);
      } catch {
        // A formatter bug must not take the proxy down; the line is lost, not the process.
        continue;
      }
      o.sink.write(line);
    }
  }

  /** Writes everything buffered. */
  async flush(): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.sink.flush()));
  }

  /** Flushes and closes the files. */
  async close(): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.sink.close()));
  }

  /** Reopens every file log at its path (Envoy's `/reopen_logs`, for log rotation). */
  async reopen(): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.sink.reopen()));
  }
}

/**
 * Compiles `access_log` entries. Supported: file (`envoy.access_loggers.file`, path may be
 * `/dev/stdout`), stdout and stderr loggers with the default format, `text_format_source`,
 * `json_format` (+ `omit_empty_values`), and filters (see filters.ts). Unknown loggers and
 * filters are start-up errors.
 * @throws MeshError naming the field at fault (files that were opened are closed again)
 */
export function compileAccessLog(
  configs: readonly AccessLog[],
  options: AccessLogOptions = {},
): AccessLogger {
  const path = options.path ?? 'access_log';
  const outputs: Output[] = [];
  try {
    for (const [i, c] of configs.entries()) outputs.push(compileOne(c, `${path}[${i}]`, options));
  } catch (error) {
    // Nothing half-applied: files opened for earlier entries are closed again.
    for (const o of outputs) void o.sink.close();
    throw error;
  }
  return new AccessLogger(outputs);
}

function sinkStats(store: StatsStore | undefined): SinkStats {
  if (store === undefined) return NO_STATS;
  return {
    buffered: store.counter('access_log_file.write_buffered'),
    completed: store.counter('access_log_file.write_completed'),
    failed: store.counter('access_log_file.write_failed'),
    byTimer: store.counter('access_log_file.flushed_by_timer'),
  };
}

function compileOne(c: AccessLog, p: string, options: AccessLogOptions): Output {
  const interval = options.flushIntervalMs ?? 1000;
  // Filter and format first: the file is opened only once everything else is valid.
  const filter =
    c.filter === undefined ? undefined : compileLogFilter(c.filter, `${p}.filter`, options.random);
  const typed = c.typed_config;
  const type = typed?.['@type'];
  const stats = sinkStats(options.stats);
  if (type === FILE_TYPE) {
    const f = typed as FileAccessLog;
    if (typeof f.path !== 'string' || f.path === '') {
      throw new MeshError('PROXY_E_INVALID', 'a file access log needs a path', {
        path: `${p}.typed_config.path`,
        value: f.path,
        allowed: 'a file path or /dev/stdout',
      });
    }
    const render = compileLineFormat(f.log_format, f.format, f.json_format, `${p}.typed_config`);
    return { filter, render, sink: fileSink(f.path, `${p}.typed_config.path`, interval, stats) };
  }
  if (type === STDOUT_TYPE || type === STDERR_TYPE) {
    const f = typed as { readonly log_format?: SubstitutionFormatString };
    const render = compileLineFormat(f.log_format, undefined, undefined, `${p}.typed_config`);
    return {
      filter,
      render,
      sink: streamSink(type === STDOUT_TYPE ? process.stdout : process.stderr, interval, stats),
    };
  }
  throw new MeshError(
    'PROXY_E_UNSUPPORTED',
    `access logger ${JSON.stringify(type ?? c.name)} is not supported by the bundled proxy`,
    {
      path: type === undefined ? `${p}.typed_config` : `${p}.typed_config.@type`,
      value: type ?? c.name,
      allowed: `${FILE_TYPE}, ${STDOUT_TYPE}, ${STDERR_TYPE}`,
    },
  );
}
