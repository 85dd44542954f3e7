// The composition root of `hanfs agent`: loads the configuration, builds every adapter for this node, wires them
// to the controller, serves the control socket, and tears it all down on SIGTERM or SIGINT.
import { hostname } from 'node:os';
import { formatConfigError } from '../../config/errors.ts';
import { loadConfig, selectNode } from '../../config/load.ts';
import { DiskMailbox } from '../disk/mailbox.ts';
import { ProcessRunner } from '../exec/runner.ts';
import { closeLogger, createLogger } from '../log.ts';
import { UdpHeartbeats } from '../net/heartbeat-udp.ts';
import { NetPingProber } from '../net/icmp.ts';
import { loadSecret } from '../net/secret.ts';
import type { FenceAction, LogFn } from '../ports.ts';
import { DryRunResources } from '../resources/dry-run.ts';
import { DeepChecks } from '../sensors/deep-checks.ts';
import { SystemResources } from '../resources/system.ts';
import { LinkWatcher } from '../sensors/link-state.ts';
import { listenControl } from './control-socket.ts';
import { Controller } from './controller.ts';
import { deepChecksFor, MACHINE } from './deep-check-plan.ts';
import { fenceAction } from './fence-command.ts';
import { nextGeneration } from './generation.ts';
import { coreConfigFor, pairView, serviceAddresses } from './pair-view.ts';
import { onShutdownSignals } from './signals.ts';
import { DeviceWatchdog, NoWatchdog } from './watchdog.ts';

export interface AgentOptions {
  config: string;
  node?: string;
  dryRun: boolean;
}

/** Resolves once the agent runs; it stops on a signal. Throws (before anything is bound) on a bad setup. */
export async function runAgent(opts: AgentOptions): Promise<void> {
  const loaded = await loadConfig(opts.config);
  if (!loaded.ok) throw new Error(`invalid configuration:\n${loaded.errors.map(formatConfigError).join('\n')}`);
  const pair = loaded.config;
  const chosen = selectNode(pair, opts.node, hostname());
  if (!chosen.ok) throw new Error(chosen.error);
  const view = pairView(pair, chosen.self.name);
  const logger = createLogger({ level: pair.log.level, file: pair.log.file });
  const log: LogFn = (level, message, fields) => logger.log(level, message, { node: view.self, ...fields });
  const clock = { now: () => performance.now() };
  const secret = await loadSecret(pair.secretFile);
  const generation = await nextGeneration(pair.stateDir, pair.pair, view.self);
  const mailbox = await DiskMailbox.open({
    device: view.selfNode.mailbox, selfIndex: view.selfIndex, secret, pairId: pair.pair, nodes: view.nodes, log,
  });
  const runner = new ProcessRunner({ log, dryRun: opts.dryRun });
  const fence: FenceAction | null = pair.fenceCommand ? fenceAction(pair.fenceCommand, view, runner) : null;
  const core = coreConfigFor(view);
  const t = pair.timing;

  const controller = new Controller({
    core,
    generation,
    clock,
    transport: new UdpHeartbeats({
      ctx: { pair: pair.pair, nodes: view.nodes, secret },
      selfIndex: view.selfIndex,
      port: pair.heartbeatPort,
      networks: view.networks,
      log,
      now: clock.now,
    }),
    prober: new NetPingProber({
      networks: view.networks.map((n) => ({ net: n.net, iface: n.iface, partnerAddress: n.partnerAddress })),
      log,
    }),
    mailbox,
    resources: opts.dryRun ? new DryRunResources(log) : new SystemResources({ view, runner, log, runDir: pair.runDir }),
    watchdog: pair.watchdog ? new DeviceWatchdog(pair.watchdog, clock, Math.max(50, t.heartbeatIntervalMs / 2)) : new NoWatchdog(log),
    fence,
    links: new LinkWatcher(view.networks.map((n) => ({ net: n.net, iface: n.iface }))),
    extras: (owns) => ({ addresses: serviceAddresses(view, owns) }),
    log,
    tickMs: Math.max(5, Math.floor(Math.min(t.heartbeatIntervalMs, t.diskIntervalMs) / 4)),
  });

  await controller.start();
  const deepChecks = new DeepChecks({
    cron: t.deepCheckCron,
    checks: deepChecksFor(view, (group) => controller.serves(group)),
    timeoutMs: t.diskIoTimeoutMs * 5,
    log,
    onResult: (r) => {
      if (r.ok) return;
      if (r.group === MACHINE) log('warn', `deep check: ${r.detail}`, { event: 'deep_check', check: r.resource });
      else controller.dispatch({ type: 'health', group: r.group, resource: r.resource, ok: false, detail: r.detail });
    },
  });
  deepChecks.start();
  const control = await listenControl(pair.controlSocket, (req) => {
    switch (req.command) {
      case 'status':
        return controller.status();
      case 'reintegrate':
      case 'takeover':
      case 'release':
        return controller.command(req.command);
      default:
        throw new Error(`unknown command ${req.command} (known: status, reintegrate, takeover, release)`);
    }
  });

  onShutdownSignals(async (signal) => {
    log('info', `stopping on ${signal}`);
    control.close();
    await deepChecks.stop();
    await controller.stop();
    await closeLogger(logger);
  });
}
