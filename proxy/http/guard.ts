/**
 * The last line of defence on the data path: every socket and stream event handler runs inside
 * {@link guarded}, so a bug hit by one connection (an exception nobody anticipated) closes that
 * connection and is logged, instead of taking the whole proxy, and every other connection, down.
 */

type Reporter = (where: string, error: unknown) => void;

let reporter: Reporter = (where, error) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`crossmesh proxy: internal error in ${where} (connection closed): ${detail}\n`);
};

/** Routes internal-error reports to the proxy's log (set once at start-up). */
export function setInternalErrorReporter(fn: Reporter): void {
  reporter = fn;
}

/**
 * Reports an exception caught by a hot-path handler's own try/catch (one that avoids the two
 * closures a {@link guarded} call allocates per event).
 */
export function reportInternalError(where: string, error: unknown): void {
  reporter(where, error);
}

/** Runs `fn`; on an exception reports it and runs `recover` (which must not throw). */
export function guarded(where: string, fn: () => void, recover: () => void): void {
  try {
    fn();
  } catch (error) {
    reporter(where, error);
    try {
      recover();
    } catch {
      // Recovery is best effort (typically destroying a socket that may already be gone).
    }
  }
}
