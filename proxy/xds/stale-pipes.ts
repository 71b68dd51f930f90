/**
 * Stale socket files at the pipes of xDS-pushed listeners under `crossmesh proxy --concurrency N`.
 *
 * A single proxy removes a stale socket file itself before its bind (proxy/server/bind.ts), and
 * for a static bootstrap the `node:cluster` primary removes them once before forking. A pushed
 * listener is known only to the workers, whose binds go to the primary, which may already serve
 * that path for a sibling worker: a worker must not unlink it. So a worker asks the primary before
 * a runtime binds ({@link XdsProxyOptions.beforeBind}), and the primary removes a socket file at
 * such a path only when nothing accepts on it (a connection attempt is refused), one path at a
 * time, so a sibling's fresh bind is never taken for a leftover. A live socket of another process
 * is left alone: the bind then fails and the state is NACKed naming the path, where a single proxy
 * (as Envoy) would have removed it.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Bootstrap } from '../config/envoy.js';

/** A worker's request to the primary: clear stale socket files at these paths. */
export interface StalePipesRequest {
  readonly type: typeof STALE_PIPES;
  readonly id: number;
  readonly paths: readonly string[];
}

/** The primary's answer once it has looked at every path of request `id`. */
export interface StalePipesDone {
  readonly type: typeof STALE_PIPES_DONE;
  readonly id: number;
}

/** Message type of {@link StalePipesRequest}. */
export const STALE_PIPES = 'crossmesh:stale-pipes';
/** Message type of {@link StalePipesDone}. */
export const STALE_PIPES_DONE = 'crossmesh:stale-pipes-done';

/** Whether an IPC message is a {@link StalePipesRequest}. */
export function isStalePipesRequest(m: unknown): m is StalePipesRequest {
  const r = m as Partial<StalePipesRequest> | null;
  return (
    typeof m === 'object' &&
    r !== null &&
    r.type === STALE_PIPES &&
    typeof r.id === 'number' &&
    Array.isArray(r.paths) &&
    r.paths.every((p) => typeof p === 'string')
  );
}

/** Whether an IPC message is a {@link StalePipesDone}. */
export function isStalePipesDone(m: unknown): m is StalePipesDone {
  const r = m as Partial<StalePipesDone> | null;
  return typeof m === 'object' && r !== null && r.type === STALE_PIPES_DONE && typeof r.id === 'number';
}

/** The file paths of the pipe listeners of a (compiled, static) bootstrap; abstract sockets have none. */
export function listenerPipePaths(bootstrap: Bootstrap): string[] {
  const paths: string[] = [];
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    const path = listener.address?.pipe?.path;
    if (path !== undefined && !path.startsWith('@')) paths.push(path);
  }
  return paths;
}

/** Longest wait for a connection attempt to a socket file (a live server answers at once). */
const PROBE_MS = 1000;

/** Resolves true when something accepts connections on the socket at `path`. */
function accepting(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    let settled = false;
    const settle = (live: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(live);
    };
    // A server too busy to accept within the wait is alive all the same.
    const timer = setTimeout(() => {
      settle(true);
      socket.destroy();
    }, PROBE_MS);
    socket.once('connect', () => {
      settle(true);
      // Leave politely (read what it says, then FIN): a reset could upset the server's owner.
      socket.resume();
      socket.end();
      socket.setTimeout(PROBE_MS, () => socket.destroy());
    });
    socket.on('error', (error: NodeJS.ErrnoException) => settle(error.code !== 'ECONNREFUSED'));
  });
}

/**
 * Removes the socket file at `path` when nothing accepts on it. Anything else (no file, a file
 * that is not a socket, a live socket, an unlink that fails) is left for the bind to report.
 */
export async function removeIfStale(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return;
  }
  if (await accepting(path)) return;
  try {
    unlinkSync(path);
  } catch {
    // The bind that follows names the path and the reason.
  }
}

/**
 * The primary's side: answers each request after looking at its paths, one request after the
 * other (a path cleared for one worker is bound before the next request is looked at only if that
 * worker was quicker, and then it accepts, so it is left alone).
 */
export class StalePipeJanitor {
  #queue: Promise<void> = Promise.resolve();

  /** Looks at the paths of `request`, then calls `reply` with the answer. */
  handle(request: StalePipesRequest, reply: (done: StalePipesDone) => void): void {
    this.#queue = this.#queue.then(async () => {
      for (const path of request.paths) await removeIfStale(path);
      reply({ type: STALE_PIPES_DONE, id: request.id });
    });
  }
}
