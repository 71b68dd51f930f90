/** `crossmesh status`: the topology `crossmesh up` runs, with health (controlplane/up/status.ts). */
import { parseArgs } from 'node:util';
import { readState } from '../../controlplane/up/state.js';
import { formatStatus, gatherStatus } from '../../controlplane/up/status.js';
import { EXIT } from '../../errors/entry.js';
import type { Command } from '../command.js';
import { parseStrict } from './args.js';

/** `crossmesh status`. */
export const command: Command = {
  summary: 'Show the local mesh crossmesh up runs, with health',
  help: `Usage: crossmesh status [--state-dir <dir>] [--json]

Reads .crossmesh/state.json (written by crossmesh up in the same directory), then asks the control
plane which proxies are connected, whether each has ACKed the current configuration and its last
NACK, and asks each proxy's admin /clusters how many upstream hosts are healthy.

Options:
  --state-dir <dir>   where crossmesh up runs (default: the current directory)
  --json              the report as JSON

Exit codes: 0 every instance running and in sync, 1 no local mesh here or something is unhealthy.`,
  async run(argv, io) {
    const { values } = parseStrict('status', ['--state-dir', '--json'], () =>
      parseArgs({ args: [...argv], options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' } } }),
    );
    const report = await gatherStatus(await readState(values['state-dir'] ?? process.cwd()));
    io.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
    const healthy = report.rows.every(
      (r) => r.process === 'running' && r.xds?.connected === true && r.xds.inSync,
    );
    return healthy ? EXIT.ok : EXIT.invalid;
  },
};
