/**
 * Binding a server to an Envoy `Address`: a socket address, or a `pipe` (Unix domain socket) the
 * way Envoy binds one: a stale file at the path is removed first, `mode` is applied with chmod
 * after the bind, and `@name` is a Linux abstract socket (no file, no mode). Shared by the
 * listeners and the admin interface.
 */
import cluster from 'node:cluster';
import { chmodSync, lstatSync, renameSync, statSync, unlinkSync } from 'node:fs';
import type net from 'node:net';
import { MeshError } from '../../errors/index.js';
import type { Bootstrap, Pipe } from '../config/envoy.js';
import { pipeSocketPath } from '../http/connect.js';

/** Where a server ended up: `address:port`, or the pipe path (then `address` is the path too, port 0). */
export interface BoundAddress {
  readonly address: string;
  readonly port: number;
  /** The Unix socket path as configured (Envoy's form, `@name` for an abstract socket). @default - TCP */
  readonly pipe?: string;
}

function listenError(what: string, path: string, value: string, message: string, cause?: unknown): MeshError {
  return new MeshError('PROXY_E_LISTEN', `${what}: cannot bind ${value}: ${message}`, {
    path,
    value,
    allowed: 'a path where a Unix socket can be created',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Removes what a previous process left at a socket path, as Envoy does before its bind (it
 * unlinks whatever is there). Only a socket is removed: a regular file or directory at a socket
 * path is far more likely a configuration mistake than a leftover, so the bind fails on it instead,
 * naming the path. A `node:cluster` worker leaves the file alone: its bind goes to the primary,
 * which may already serve that socket for a sibling worker.
 */
function removeStaleSocket(pipe: Pipe, what: string, path: string): void {
  if (cluster.isWorker) return;
  let kind: 'socket' | 'other' | 'none';
  try {
    kind = lstatSync(pipe.path).isSocket() ? 'socket' : 'other';
  } catch {
    kind = 'none';
  }
  if (kind === 'other')
    throw listenError(
      what,
      path,
      pipe.path,
      'the path exists and is not a socket (remove it, or pick another path)',
    );
  if (kind === 'socket') {
    try {
      unlinkSync(pipe.path);
    } catch (error) {
      throw listenError(what, path, pipe.path, (error as Error).message, error);
    }
  }
}

/**
 * Removes the stale socket files at every pipe a static bootstrap binds (its listeners and the
 * admin). A `node:cluster` primary calls this once before forking: its workers leave those paths
 * alone (see {@link removeStaleSocket}), so a file left by a crashed proxy would fail their binds.
 * @throws MeshError PROXY_E_LISTEN when something other than a socket is at a path
 */
export function removeStaleSocketFiles(bootstrap: Bootstrap): void {
  const pipes: { pipe: Pipe; what: string; path: string }[] = [];
  (bootstrap.static_resources?.listeners ?? []).forEach((listener, i) => {
    const pipe = listener.address.pipe;
    if (pipe !== undefined)
      pipes.push({
        pipe,
        what: `listener ${listener.name ?? i}`,
        path: `static_resources.listeners[${i}].address.pipe.path`,
      });
  });
  const admin = bootstrap.admin?.address?.pipe;
  if (admin !== undefined) pipes.push({ pipe: admin, what: 'admin', path: 'admin.address.pipe.path' });
  for (const { pipe, what, path } of pipes)
    if (!pipe.path.startsWith('@')) removeStaleSocket(pipe, what, path);
}

/** Socket files this process bound, by server: the path and the inode the bind created. */
const BOUND_FILES = new WeakMap<net.Server, { readonly path: string; readonly ino: number }>();

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Stops `server` accepting (like `server.close`), without taking a newer socket file with it.
 * libuv unlinks a pipe server's path when the server closes; when a replacement (an xDS listener
 * update, a restarted admin) has already bound a new socket at that path, that unlink would remove
 * the replacement's file and leave it unreachable. So the newer file is moved aside for the
 * synchronous close and put back at once.
 */
export function closeServer(server: net.Server, done?: () => void): void {
  const bound = BOUND_FILES.get(server);
  const current = bound === undefined ? undefined : inodeOf(bound.path);
  if (bound === undefined || current === undefined || current === bound.ino || !server.listening) {
    server.close(done);
    return;
  }
  const aside = `${bound.path}.${process.pid}.closing`;
  try {
    renameSync(bound.path, aside);
  } catch {
    server.close(done);
    return;
  }
  try {
    server.close(done);
  } finally {
    renameSync(aside, bound.path);
  }
}

/**
 * Binds `server` to the pipe at `path` (the config path of the `Pipe`, for errors).
 * @throws MeshError PROXY_E_LISTEN when the socket cannot be created or its mode set
 */
export function listenPipe(
  server: net.Server,
  pipe: Pipe,
  path: string,
  what: string,
): Promise<BoundAddress> {
  const abstract = pipe.path.startsWith('@');
  return new Promise((resolve, reject) => {
    if (abstract && process.platform !== 'linux') {
      reject(
        listenError(what, `${path}.path`, pipe.path, 'abstract Unix sockets (@name) exist only on Linux'),
      );
      return;
    }
    if (!abstract) {
      try {
        removeStaleSocket(pipe, what, `${path}.path`);
      } catch (error) {
        reject(error);
        return;
      }
    }
    const onError = (error: NodeJS.ErrnoException) =>
      reject(listenError(what, `${path}.path`, pipe.path, error.code ?? error.message, error));
    server.once('error', onError);
    server.listen({ path: pipeSocketPath(pipe.path) }, () => {
      server.removeListener('error', onError);
      if (!abstract && pipe.mode !== undefined && pipe.mode !== 0) {
        try {
          chmodSync(pipe.path, pipe.mode);
        } catch (error) {
          // Nothing half-applied: a socket without the asked-for permissions does not serve.
          server.close();
          reject(listenError(what, `${path}.mode`, pipe.path, (error as Error).message, error));
          return;
        }
      }
      const ino = abstract ? undefined : inodeOf(pipe.path);
      if (ino !== undefined) BOUND_FILES.set(server, { path: pipe.path, ino });
      resolve({ address: pipe.path, port: 0, pipe: pipe.path });
    });
  });
}

/** `/listeners` and log text for a bound address: `ip:port` (IPv6 in brackets) or the pipe path. */
export function boundAddressText(a: BoundAddress): string {
  if (a.pipe !== undefined) return a.pipe;
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
