// Prometheus metrics of the agent (prom-client), in a registry of its own. Nothing is counted twice and nothing is
// costly on the heartbeat path: the transport already counts packets and the core holds its state, so those are read
// when Prometheus scrapes; only a round-trip sample is observed as it comes (into a histogram bound to its network).
// Moves, resource operations and the fence command come from the timeline, command runs from the runner's hook.
import { basename } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ALLOWED_TRANSITIONS } from '../core/transitions.ts';
import type { CoreConfig, NetId, Phase } from '../core/types.ts';
import type { CommandResult, HeartbeatDropReason, NetworkTraffic } from '../ports.ts';
import type { ControllerSnapshot } from '../daemon/controller.ts';
import { commandOutcome, type TimelineEntry } from './timeline.ts';

export interface MetricsSources {
  core: CoreConfig;
  snapshot: () => ControllerSnapshot;
  traffic: () => Record<NetId, NetworkTraffic>;
  drops: () => Record<HeartbeatDropReason, number>;
}

const PHASES = Object.keys(ALLOWED_TRANSITIONS) as Phase[];
const STAGES = ['watching', 'icmp', 'disk', 'unresponsive', 'disk_only', 'dead'] as const;
const RESOURCE_STATES = ['unknown', 'offline', 'online_pending', 'online', 'offline_pending', 'failed'] as const;

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly rtt = new Map<NetId, { observe(v: number): void }>();
  private readonly moves: Counter<'move' | 'outcome'>;
  private readonly moveSeconds: Histogram<'move'>;
  private readonly resourceSeconds: Histogram<'group' | 'resource' | 'op' | 'result'>;
  private readonly fenceCommands: Counter<'outcome'>;
  private readonly commandSeconds: Histogram<'command' | 'outcome'>;

  constructor(src: MetricsSources) {
    const { core } = src;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.registry.setDefaultLabels({ node: core.self });

    // Read at scrape time from the transport's own counters.
    new Counter({
      name: 'hanfs_heartbeats_sent_total', help: 'Heartbeats sent, per network', labelNames: ['net'], registers,
      collect() {
        this.reset();
        for (const [net, t] of Object.entries(src.traffic())) this.inc({ net }, t.sent);
      },
    });
    new Counter({
      name: 'hanfs_heartbeats_received_total', help: "The partner's fresh, authentic heartbeats received, per network",
      labelNames: ['net'], registers,
      collect() {
        this.reset();
        for (const [net, t] of Object.entries(src.traffic())) this.inc({ net }, t.received);
      },
    });
    new Counter({
      name: 'hanfs_heartbeats_dropped_total', help: 'Heartbeat packets dropped, by reason', labelNames: ['reason'], registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(src.drops())) this.inc({ reason }, n);
      },
    });
    const rtt = new Histogram({
      name: 'hanfs_heartbeat_rtt_seconds', help: "Round trip of a heartbeat and the partner's echo, less the partner's hold",
      labelNames: ['net'], registers, buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    });
    for (const net of core.networks) this.rtt.set(net, rtt.labels({ net }));

    // Read at scrape time from the core's state.
    const state = () => src.snapshot();
    new Gauge({
      name: 'hanfs_partner_heard', help: "1 while the partner's heartbeats arrive on the network", labelNames: ['net'], registers,
      collect() {
        const { state: s } = state();
        for (const net of core.networks) this.set({ net }, s.detector.netUp[net] ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hanfs_phase', help: 'The pairing phase of this node: 1 for the current one', labelNames: ['phase'], registers,
      collect() {
        const { state: s } = state();
        for (const phase of PHASES) this.set({ phase }, s.phase === phase ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hanfs_detector_stage', help: "The failure detector's stage for the partner: 1 for the current one",
      labelNames: ['stage'], registers,
      collect() {
        const { state: s } = state();
        for (const stage of STAGES) this.set({ stage }, s.detector.stage === stage ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hanfs_maintenance', help: '1 while in maintenance: of="self" this node, of="partner" its partner',
      labelNames: ['of'], registers,
      collect() {
        const { state: s } = state();
        this.set({ of: 'self' }, s.maintenance ? 1 : 0);
        this.set({ of: 'partner' }, s.partner.maintenance ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hanfs_lease_age_seconds', help: 'Time since the start of the last lease renewal (absent before the first)', registers,
      collect() {
        const { state: s, now } = state();
        this.reset();
        if (s.renewedFrom !== null) this.set((now - s.renewedFrom) / 1000);
      },
    });
    new Gauge({
      name: 'hanfs_lease_length_seconds', help: 'The lease: a node serves only while its last renewal is younger', registers,
      collect() {
        this.set(core.timing.selfFenceLeaseMs / 1000);
      },
    });
    new Gauge({
      name: 'hanfs_partner_evidence_age_seconds', help: 'Time since the last sign of life of the partner on any channel', registers,
      collect() {
        const { state: s, now } = state();
        this.reset();
        if (s.partner.lastEvidenceAt !== null) this.set((now - s.partner.lastEvidenceAt) / 1000);
      },
    });
    new Gauge({
      name: 'hanfs_mailbox_failures', help: 'Mailbox cycles failed in a row', registers,
      collect() {
        this.set(state().state.disk.failures);
      },
    });
    new Gauge({
      name: 'hanfs_resource_state', help: 'State of each resource of each group on this node: 1 for the current one',
      labelNames: ['group', 'resource', 'state'], registers,
      collect() {
        for (const g of Object.values(state().state.groups)) {
          for (const r of g.resources) {
            for (const st of RESOURCE_STATES) this.set({ group: g.id, resource: r.spec.name, state: st }, r.state === st ? 1 : 0);
          }
        }
      },
    });

    // Fed as they happen.
    this.moves = new Counter({
      name: 'hanfs_moves_total', help: 'Moves of a group that ended here: takeover, reintegration, release, handover; completed or cut short',
      labelNames: ['move', 'outcome'], registers,
    });
    this.moveSeconds = new Histogram({
      name: 'hanfs_move_duration_seconds', help: 'Duration of each completed move (see README: Operating)', labelNames: ['move'],
      registers, buckets: [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300],
    });
    this.resourceSeconds = new Histogram({
      name: 'hanfs_resource_operation_duration_seconds', help: 'Duration of each start and stop of a resource',
      labelNames: ['group', 'resource', 'op', 'result'], registers, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    });
    this.fenceCommands = new Counter({
      name: 'hanfs_fence_commands_total', help: 'Runs of the fence command (power the partner off), by outcome',
      labelNames: ['outcome'], registers,
    });
    this.commandSeconds = new Histogram({
      name: 'hanfs_command_duration_seconds', help: 'System commands run by the agent (ip, mount, arping, ...): duration by program and outcome',
      labelNames: ['command', 'outcome'], registers, buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
  }

  /** A round trip measured by the transport (on the receive path: a bound histogram, nothing else). */
  observeRtt(net: NetId, ms: number): void {
    this.rtt.get(net)?.observe(ms / 1000);
  }

  /** A command run (the runner's hook); labelled by program name only, so the series stay few. */
  commandRan(r: CommandResult): void {
    if (r.dryRun) return;
    this.commandSeconds.observe({ command: basename(r.argv[0] ?? '?'), outcome: commandOutcome(r) }, r.durationMs / 1000);
  }

  timelineEntry(e: TimelineEntry): void {
    switch (e.kind) {
      case 'move':
        this.moves.inc({ move: e.move, outcome: e.completed ? 'completed' : 'cut_short' });
        if (e.completed) this.moveSeconds.observe({ move: e.move }, e.durationMs / 1000);
        return;
      case 'resource':
        this.resourceSeconds.observe({ group: e.group, resource: e.resource, op: e.op, result: e.ok ? 'ok' : 'failed' }, e.durationMs / 1000);
        return;
      case 'fence_command':
        this.fenceCommands.inc({ outcome: e.ok ? 'ok' : 'failed' });
        return;
      default:
        return;
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
