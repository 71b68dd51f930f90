/**
 * A bundled proxy fed by xDS (`dynamic_resources.ads_config`): the xDS client assembles coherent
 * states, each is turned into a static bootstrap (inline.ts), checked by the same strict loader
 * as a hand-written config (with the bundled proxy's supported subset), and run.
 *
 * Applying a new state replaces the runtime: the old one stops accepting and drains (in-flight
 * requests finish, idle keep-alive connections close), the new one binds the same ports right
 * after. The runtime has no in-place route or cluster swap yet, so a connection attempt inside
 * that window (a few milliseconds) can be refused; a state whose static form is unchanged (an
 * ACK round trip, a re-push) does not touch the runtime. The first runtime binds the configured
 * admin port; later ones bind an ephemeral admin port while the previous one drains, reported by
 * {@link XdsProxyHandle.admin}.
 */
import { MeshError } from '../../errors/index.js';
import {
  type BoundAddress,
  type ProxyHandle,
  type ProxyOptions,
  startProxy,
  validateProxyConfig,
} from '../main.js';
import { asObject, loadState, readDynamicBootstrap } from './bootstrap.js';
import { type Resource, XdsClient } from './client.js';
import { staticBootstrap } from './inline.js';

/** A running xDS-fed proxy. */
export interface XdsProxyHandle {
  /** The xDS client (applied state, NACKs sent). */
  readonly client: XdsClient;
  /** The runtime in force. */
  readonly runtime: () => ProxyHandle | undefined;
  /** The admin address in force. */
  readonly admin: () => BoundAddress | undefined;
  /** Number of runtime replacements so far. */
  readonly swaps: () => number;
  /** Stops the client and drains the runtime. */
  close(): Promise<void>;
}

/**
 * Starts a proxy from a dynamic bootstrap; resolves once the first state is running.
 * @throws MeshError PROXY_E_INVALID when no runnable state arrives within `readyTimeoutMs`
 *   (the message carries the NACKs the client sent, which name the fields at fault)
 */
export async function startXdsProxy(
  json: unknown,
  options: ProxyOptions & { log?: (line: string) => void; readyTimeoutMs?: number } = {},
): Promise<XdsProxyHandle> {
  const { base, server, node } = readDynamicBootstrap(json);
  let runtime: ProxyHandle | undefined;
  let appliedKey = '';
  let swaps = 0;
  const draining = new Set<Promise<void>>();
  const client = new XdsClient({
    server,
    node,
    ...(options.log === undefined ? {} : { log: options.log }),
    apply: async (state) => {
      // Compare without the admin block: only a change in listeners, routes or clusters swaps.
      const key = JSON.stringify(staticBootstrap({ ...base, admin: undefined }, state));
      if (key === appliedKey) return;
      const first = runtime === undefined;
      const { bootstrap } = loadState(first ? base : { ...base, admin: ephemeralAdmin(base.admin) }, state);
      // Compile everything before touching the running proxy: a config the runtime refuses is NACKed.
      validateProxyConfig(bootstrap);
      const previous = runtime;
      if (previous !== undefined) {
        const done = previous.drain();
        draining.add(done);
        void done.finally(() => draining.delete(done));
      }
      runtime = await startProxy(bootstrap, options);
      if (!first) swaps += 1;
      appliedKey = key;
    },
  });
  client.start();
  const timeoutMs = options.readyTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    client.ready().then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!ready) {
    client.close();
    const nacks = client.nacks.map((n) => `${n.type}: ${n.message}`);
    throw new MeshError(
      'PROXY_E_INVALID',
      `${node.id}: no configuration it can run arrived from ${server} within ${timeoutMs} ms${nacks.length === 0 ? '' : `; rejected: ${nacks.join(' | ')}`}`,
      { path: node.id },
    );
  }
  return {
    client,
    runtime: () => runtime,
    admin: () => runtime?.admin,
    swaps: () => swaps,
    async close() {
      client.close();
      await runtime?.drain();
      await Promise.all(draining);
    },
  };
}

/** The admin block with port 0, so a replacement runtime can start while the previous admin drains. */
function ephemeralAdmin(admin: Resource | undefined): Resource | undefined {
  const socket = asObject(asObject(admin?.address)?.socket_address);
  if (admin === undefined || socket === undefined) return admin;
  return { ...admin, address: { socket_address: { ...socket, port_value: 0 } } };
}
