// The composition root of `hanfs agent`: loads the configuration, builds every adapter for this node, wires them
// to the controller, serves the control socket (and metrics, if configured), tells systemd it is ready, and tears
// it all down on SIGTERM or SIGINT.
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { DiskMailbox } from '../disk/mailbox.ts';
import { ProcessRunner } from '../exec/runner.ts';
import { closeLogger, createLogger } from '../log.ts';
import { UdpHeartbeats } from '../net/heartbeat-udp.ts';
import { NetPingProber } from '../net/icmp.ts';
import { HeardMark } from '../net/heard-mark.ts';
import { loadSigningKey, publicKeyText } from '../net/keys.ts';
import { loadSecret } from '../net/secret.ts';
import type { FenceAction, LogFn } from '../ports.ts';
import { DryRunResources } from '../resources/dry-run.ts';
import { DeepChecks } from '../sensors/deep-checks.ts';
import { SystemResources } from '../resources/system.ts';
import { LinkWatcher } from '../sensors/link-state.ts';
import { controlHandler } from '../operate/control-commands.ts';
import { listenControl } from '../process/control-socket.ts';
import { loadPairInThread } from './config-thread.ts';
import { Controller, controllerTickMs } from './controller.ts';
import { deepChecksFor, MACHINE } from './deep-check-plan.ts';
import { fenceAction } from './fence-command.ts';
import { nextGeneration } from './generation.ts';
import { MaintenanceFlag } from '../operate/maintenance-flag.ts';
import type { AgentMetrics } from '../operate/metrics.ts';
import { coreConfigFor, groupAssets, pairView, serviceAddresses } from '../pair-view.ts';
import { SdNotify } from '../process/sd-notify.ts';
import { onShutdownSignals } from '../process/signals.ts';
import { buildStatus } from '../operate/status.ts';
import { Timeline } from '../operate/timeline.ts';
import { timerScheduler } from './scheduler.ts';
import { DeviceWatchdog, NoWatchdog, watchdogDeviceFile, watchdogPetMs } from './watchdog.ts';

export interface AgentOptions {
  config: string;
  node?: string;
  dryRun: boolean;
}

/** A configuration that cannot run: starting again will not help (the CLI exits 78, which systemd does not restart). */
export class ConfigurationError extends Error {}

/** Resolves once the agent runs; it stops on a signal. Throws (before anything is bound) on a bad setup. */
export async function runAgent(opts: AgentOptions): Promise<void> {
  const loaded = await loadPairInThread({ path: opts.config, node: opts.node, hostname: hostname() });
  if (!loaded.ok) throw loaded.unexpected ? new Error(loaded.error) : new ConfigurationError(loaded.error);
  const pair = loaded.config;
  const view = pairView(pair, loaded.self);
  const logger = createLogger({ level: pair.log.level, file: pair.log.file });
  const log: LogFn = (level, message, fields) => logger.log(level, message, { node: view.self, ...fields });
  const clock = { now: () => performance.now() };
  const secret = await loadSecret(pair.secretFile);
  const signingKey = await loadSigningKey(pair.signingKeyFile);
  if (publicKeyText(signingKey) !== view.selfNode.publicKey) {
    throw new ConfigurationError(`signing key file ${pair.signingKeyFile} is not the key of nodes.${view.self}.publicKey ` +
      `(its public key is ${publicKeyText(signingKey)}): client watchers would drop every heartbeat of this node`);
  }
  const generation = await nextGeneration(pair.stateDir, pair.pair, view.self);
  const partnerMark = await HeardMark.open(pair.stateDir, pair.pair, view.partner, log);
  const mailbox = await DiskMailbox.open({
    device: view.selfNode.mailbox, selfIndex: view.selfIndex, secret, pairId: pair.pair, nodes: view.nodes, log,
  });
  const timeline = new Timeline();
  // Metrics are created once the controller exists (they read its state); the hooks below reach them late.
  let metrics: AgentMetrics | null = null;
  const runner = new ProcessRunner({
    log,
    dryRun: opts.dryRun,
    onResult: (r) => {
      timeline.commandRan(r);
      metrics?.commandRan(r);
    },
  });
  const fence: FenceAction | null = pair.fenceCommand ? fenceAction(pair.fenceCommand, view, runner) : null;
  const core = coreConfigFor(view);
  const t = pair.timing;
  const transport = new UdpHeartbeats({
    ctx: { pair: pair.pair, nodes: view.nodes, secret, signingKey },
    selfIndex: view.selfIndex,
    port: pair.heartbeatPort,
    networks: view.networks,
    log,
    now: clock.now,
    onRtt: (net, ms) => metrics?.observeRtt(net, ms),
    partnerMark,
  });
  const notify = await SdNotify.fromEnv(process.env, log);

  const controller = new Controller({
    core,
    generation,
    clock,
    scheduler: timerScheduler,
    transport,
    prober: new NetPingProber({
      networks: view.networks.map((n) => ({ net: n.net, iface: n.iface, partnerAddress: n.partnerAddress })),
      log,
    }),
    mailbox,
    resources: opts.dryRun ? new DryRunResources(log) : new SystemResources({ view, runner, log, runDir: pair.runDir }),
    watchdog: pair.watchdog && pair.watchdog !== 'none'
      ? new DeviceWatchdog(watchdogDeviceFile(pair.watchdog.device), clock, timerScheduler, watchdogPetMs(t))
      : new NoWatchdog(log),
    fence,
    links: new LinkWatcher(view.networks.map((n) => ({ net: n.net, iface: n.iface }))),
    extras: (owns) => ({ addresses: serviceAddresses(view, owns) }),
    log,
    tickMs: controllerTickMs(t),
    observers: [timeline, notify],
  });
  if (pair.metrics.listen) {
    // prom-client, and the server, load only when metrics are on.
    const { AgentMetrics } = await import('../operate/metrics.ts');
    const m = new AgentMetrics({ core, snapshot: () => controller.snapshot(), traffic: () => transport.traffic(), drops: () => transport.drops() });
    timeline.onEntry((e) => m.timelineEntry(e));
    metrics = m;
  }
  const maintenance = new MaintenanceFlag(pair.stateDir, pair.pair, view.self);
  if (await maintenance.isOn()) {
    log('warn', `maintenance is on (${maintenance.path}): hanfs maintenance off ends it`);
    controller.command({ command: 'maintenance_on' });
  }
  const interfaces = Object.fromEntries(view.networks.map((n) => [n.net, n.iface]));
  const assets = groupAssets(view);
  const status = () => buildStatus({
    core, snapshot: controller.snapshot(), interfaces, traffic: transport.traffic(), drops: transport.drops(), assets,
    recentTransitions: timeline.recent('transition', 10).map(({ at, from, to, cause }) => ({ at, from, to, cause })),
  });

  // The endpoints first: a socket that cannot be had fails the start before anything runs.
  const control = await listenControl(pair.controlSocket, controlHandler({ controller, status, timeline, maintenance, generation }));
  let metricsServer: Server | null = null;
  try {
    if (metrics && pair.metrics.listen) metricsServer = await (await import('../operate/metrics-server.ts')).serveMetrics(pair.metrics.listen, metrics, log);
  } catch (err) {
    control.close();
    throw err;
  }
  timeline.add({ kind: 'agent', message: `started: node ${view.self}, generation ${generation}` });
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
  notify.ready(`${controller.snapshot().state.phase}: agent running`);

  onShutdownSignals(async (signal) => {
    log('info', `stopping on ${signal}`);
    notify.stopping();
    timeline.add({ kind: 'agent', message: `stopping on ${signal}` });
    control.close();
    metricsServer?.close();
    await deepChecks.stop();
    await controller.stop();
    notify.close();
    await closeLogger(logger);
  });
}
