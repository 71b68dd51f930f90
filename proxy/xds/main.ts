/**
 * A sidecar process for xDS bootstraps: `node dist/proxy/xds/main.js -c bootstrap.json` runs the
 * bundled proxy fed by a control plane (`dynamic_resources.ads_config`), as one process per proxy
 * (the `crossmesh compose` sidecar image runs this; `crossmesh up` and `crossmesh proxy -c` with a
 * dynamic bootstrap run the same code in process). The bootstrap is read by the strict loader:
 * `.yaml`/`.yml` as YAML, any other name as JSON, as Envoy does.
 * SIGTERM or SIGINT drains and exits 0; a bootstrap or configuration problem exits with its
 * MeshError's code (5 for proxy configuration).
 */
import { pathToFileURL } from 'node:url';
import { formatProblem, MeshError } from '../../errors/index.js';
import { loadBootstrapFile } from '../config/load.js';
import { parseLogLevel } from '../server/log.js';
import { startDynamicProxy } from './dynamic.js';

const USAGE = 'usage: main.js -c <bootstrap.json|yaml> [--log-level <level>]';

/** Runs the proxy until a signal; resolves to the process exit code. */
export async function runXdsProxyMain(argv: readonly string[], out: (line: string) => void): Promise<number> {
  let file: string | undefined;
  let level = parseLogLevel('info');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-c' || arg === '--config-path') file = argv[++i];
    else if (arg === '-l' || arg === '--log-level') level = parseLogLevel(argv[++i] ?? '');
    else {
      out(`unknown option ${JSON.stringify(arg)}; ${USAGE}`);
      return 2;
    }
  }
  if (file === undefined || level === undefined) {
    out(USAGE);
    return 2;
  }
  try {
    // The strict loader, as `crossmesh proxy -c` uses: both accept and refuse the same bootstraps.
    const bootstrap = loadBootstrapFile(file, {
      onWarning: (warning) => out(`${warning.code}: ${warning.message}`),
    });
    const handle = await startDynamicProxy(bootstrap, { logLevel: level, log: out });
    const admin = handle.admin();
    out(`xds proxy ready${admin === undefined ? '' : `; admin on ${admin.address}:${admin.port}`}`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await handle.close();
    return 0;
  } catch (error) {
    if (error instanceof MeshError) {
      for (const problem of error.problems) out(formatProblem(problem));
      return error.exitCode;
    }
    out(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 70;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Exit explicitly: the gRPC channel's reconnect timers must not keep a stopped sidecar alive.
  process.exit(await runXdsProxyMain(process.argv.slice(2), (line) => process.stderr.write(`${line}\n`)));
}
