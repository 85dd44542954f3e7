// The composition root of `hanfs watch`: loads the configuration, finds this client's networks, builds the
// listener and the route table, wires them to the controller, serves the status on a control socket, and stops on
// SIGTERM or SIGINT. The routes in force are left in place when it stops: taking them away could cut the client
// off, and the next start finds them and carries on from them.
import type { Server } from 'node:net';
import { formatConfigError } from '../../config/errors.ts';
import { subnetOf } from '../../config/ipv4.ts';
import { loadWatchConfig } from '../../config/watch-load.ts';
import { listenControl } from '../process/control-socket.ts';
import { onShutdownSignals } from '../process/signals.ts';
import { ProcessRunner } from '../exec/runner.ts';
import { asLogFn, closeLogger, createLogger } from '../log.ts';
import { publicKeyFromText } from '../net/keys.ts';
import { WatchController } from './controller.ts';
import { HeartbeatListener } from './listener.ts';
import { IpRouteTable } from './route-table.ts';
import { discoverNetworks, watchSetup } from './setup.ts';

export interface WatchOptions {
  config: string;
  dryRun: boolean;
}

/** Resolves once the watcher runs; it stops on a signal. Throws on a bad setup, before any route is changed. */
export async function runWatch(opts: WatchOptions): Promise<void> {
  const loaded = await loadWatchConfig(opts.config);
  if (!loaded.ok) throw new Error(`invalid configuration:\n${loaded.errors.map(formatConfigError).join('\n')}`);
  const config = loaded.config;
  const networks = config.networks ?? discoverNetworks(config.pairs);
  if (networks.length === 0) {
    const subnets = [...new Set(config.pairs.flatMap((p) => p.nodes.flatMap((n) => [subnetOf(n.primary), subnetOf(n.secondary)])))];
    throw new Error(`no interface of this machine has an address on the pairs' networks (${subnets.join(', ')})`);
  }
  const setup = watchSetup(config, networks);
  const logger = createLogger({ level: config.log.level, file: config.log.file });
  const log = asLogFn(logger);
  const clock = { now: () => performance.now() };
  if (networks.length < 2) log('warn', `only one network (${networks[0]!.interface}): there is no other way to route through`);
  for (const address of setup.unreachable) log('warn', `service address ${address} is on none of this client's networks: not watched`);

  const controller = new WatchController({
    core: setup.core,
    clock,
    listener: new HeartbeatListener({
      pairs: setup.pairs.map(({ pair, sources }) => ({
        ctx: {
          pair: pair.pair,
          nodes: [pair.nodes[0].name, pair.nodes[1].name],
          publicKeys: [publicKeyFromText(pair.nodes[0].publicKey), publicKeyFromText(pair.nodes[1].publicKey)],
        },
        port: pair.heartbeatPort,
        sources,
      })),
      networks: setup.listen,
      log,
      now: clock.now,
    }),
    routes: new IpRouteTable(new ProcessRunner({ log, dryRun: opts.dryRun })),
    log,
    tickMs: Math.max(10, Math.floor(Math.min(...setup.core.servers.map((s) => s.silentAfterMs)) / 4)),
  });
  let control: Server | null = null;
  try {
    // The socket first: a second watcher on this machine is refused before it touches a route.
    control = await listenControl(config.controlSocket, (req) => {
      if (req.command === 'status') return controller.status();
      throw new Error(`unknown command ${req.command} (known: status)`);
    });
    await controller.start();
  } catch (err) {
    control?.close();
    await controller.stop();
    await closeLogger(logger);
    throw err;
  }
  log('info', 'watching', {
    event: 'watch', networks: setup.core.networks, pairs: config.pairs.map((p) => p.pair), holdMs: config.holdMs, dryRun: opts.dryRun,
  });

  onShutdownSignals(async (signal) => {
    const routes = controller.status().addresses.filter((a) => a.route).map((a) => `${a.address} via ${a.route!.via}`);
    log('info', `stopping on ${signal}${routes.length ? `; routes left in force: ${routes.join(', ')}` : ''}`, { event: 'watch' });
    control.close();
    await controller.stop();
    await closeLogger(logger);
  });
}
