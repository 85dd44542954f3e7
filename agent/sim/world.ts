// The simulated world both cores run in: two machines (each with a hardware watchdog, its own drifting clock and
// the resources it holds), two networks between them, the shared mailbox disk, and a fault schedule. Everything
// happens on one agenda driven by one seeded random source, so a seed replays exactly.
import { step as realStep, type StepResult } from '../core/pairing.ts';
import { INTENT_LOG_RECORDS } from '../core/intent.ts';
import { initialState, type NodeState } from '../core/state.ts';
import type {
  CoreConfig, CoreEvent, Effect, Heartbeat, IntentRecord, MailboxView, Outbox, ResourceKind, StatusRecord,
} from '../core/types.ts';
import { Agenda } from './queue.ts';
import { describeFault, type Fault, type NodeIdx } from './faults.ts';
import { Prng } from './prng.ts';
import { Invariants } from './invariants.ts';
import type { SimSetup } from './setup.ts';

export type StepFn = (cfg: CoreConfig, s: NodeState, ev: CoreEvent, now: number) => StepResult;

type Payload =
  | { type: 'hb'; hb: Heartbeat }
  | { type: 'icmp_request'; probeId: number; inc: number }
  | { type: 'icmp_reply'; probeId: number; inc: number };

type SimEvent =
  | { k: 'tick'; node: NodeIdx }
  | { k: 'deliver'; node: NodeIdx; inc: number; ev: CoreEvent }
  | { k: 'packet'; from: NodeIdx; to: NodeIdx; net: number; payload: Payload }
  | {
    k: 'disk'; node: NodeIdx; inc: number; opId: number;
    write: { slot: StatusRecord; outbox: Outbox; intents: IntentRecord[] } | null; readIntents: Array<'own' | 'partner'>;
  }
  | {
    k: 'resource'; node: NodeIdx; boot: number; inc: number; group: string; resource: string; kind: ResourceKind;
    op: 'start' | 'stop'; wasHeld: boolean;
  }
  | { k: 'fault'; fault: Fault; edge: 'start' | 'end' }
  | { k: 'watchdog'; node: NodeIdx; token: number }
  | { k: 'boot'; node: NodeIdx; boot: number }
  | { k: 'fence_done'; node: NodeIdx; inc: number; victim: NodeIdx }
  | { k: 'operator_sweep' }
  | { k: 'check_takeover'; victim: NodeIdx; crashedAt: number };

interface Agent {
  inc: number;
  core: NodeState;
  queue: CoreEvent[];
}

export interface Machine {
  idx: NodeIdx;
  cfg: CoreConfig;
  up: boolean;
  /** Increases at every power-on: results of work begun before a reset are void. */
  boot: number;
  agent: Agent | null;
  agentFreezes: number;
  machineFreezes: number;
  crashFaults: number;
  clockOffset: number;
  clockRate: number;
  links: boolean[];
  diskStalls: number;
  diskLosses: number;
  failureProbability: number;
  watchdogToken: number;
  resourceBusyUntil: Map<string, number>;
  /** When the agent has been running without a break since (null while it is not). */
  agentRunningSince: number | null;
  upSince: number;
  /** The agent's boot generation, as kept on the machine's local disk: it survives resets. */
  generation: number;
}

export interface RunResult {
  seed: number;
  violations: string[];
  trace: string[];
  events: number;
}

const NETS = ['a', 'b'];

export class World {
  readonly rng: Prng;
  readonly agenda = new Agenda<SimEvent>();
  readonly machines: Machine[];
  readonly inv: Invariants;
  now = 0;
  private incs = 0;
  private events = 0;
  private partitions = [0, 0];
  private lossy: ({ loss: number; dup: number; delayMaxMs: number } | null)[] = [null, null];
  private readonly baseDelayMs: number;
  private slots: (StatusRecord | null)[] = [null, null];
  private inboxes: (Outbox | null)[] = [null, null];
  /** Each node's intent log on the shared disk: its last records, oldest first. */
  private intentLogs: IntentRecord[][] = [[], []];
  readonly trace: string[] = [];
  private stopped = false;

  constructor(
    readonly seed: number,
    readonly setup: SimSetup,
    readonly faults: Fault[],
    private readonly stepFn: StepFn = realStep,
    private readonly verbose = false,
  ) {
    this.rng = new Prng(seed ^ 0x5eed);
    this.baseDelayMs = this.rng.between(0.1, 3);
    this.machines = ([0, 1] as NodeIdx[]).map((idx) => ({
      idx,
      cfg: setup.coreConfig(idx),
      up: false,
      boot: 0,
      agent: null,
      agentFreezes: 0,
      machineFreezes: 0,
      crashFaults: 0,
      clockOffset: this.rng.between(0, 1e6),
      clockRate: 1 + this.rng.between(-setup.maxDrift, setup.maxDrift),
      links: [true, true],
      diskStalls: 0,
      diskLosses: 0,
      failureProbability: 0,
      watchdogToken: 0,
      resourceBusyUntil: new Map(),
      agentRunningSince: null,
      upSince: 0,
      generation: 0,
    }));
    this.inv = new Invariants(this);
  }

  run(): RunResult {
    for (const m of this.machines) this.agenda.push(this.rng.between(0, 50), { k: 'boot', node: m.idx, boot: 0 });
    for (const f of this.faults) {
      this.agenda.push(f.at, { k: 'fault', fault: f, edge: 'start' });
      if ('until' in f) this.agenda.push(f.until, { k: 'fault', fault: f, edge: 'end' });
    }
    if (this.setup.reintegrate === 'manual') this.agenda.push(this.setup.chaosMs, { k: 'operator_sweep' });
    const end = this.setup.chaosMs + this.setup.healMs;
    for (;;) {
      const e = this.agenda.pop();
      if (!e || e.at > end || this.stopped) break;
      this.now = e.at;
      this.events++;
      this.handle(e.item);
    }
    if (!this.stopped) {
      this.now = end;
      this.inv.checkConverged();
    }
    return { seed: this.seed, violations: this.inv.violations, trace: this.trace, events: this.events };
  }

  /** Ends the run at the first violation: what follows it would only be noise. */
  stop(): void {
    this.stopped = true;
  }

  log(line: string): void {
    if (this.verbose) this.trace.push(`${(this.now / 1000).toFixed(3)}s ${line}`);
  }

  localTime(m: Machine): number {
    return m.clockOffset + this.now * m.clockRate;
  }

  agentActive(m: Machine): boolean {
    return m.up && m.agent !== null && m.agentFreezes === 0 && m.machineFreezes === 0;
  }

  machineActive(m: Machine): boolean {
    return m.up && m.machineFreezes === 0;
  }

  other(idx: NodeIdx): Machine {
    return this.machines[1 - idx]!;
  }

  netClean(net: number): boolean {
    return this.partitions[net] === 0 && this.lossy[net] === null && this.machines.every((m) => m.links[net]);
  }

  diskClean(m: Machine): boolean {
    return m.diskStalls === 0 && m.diskLosses === 0;
  }

  // ------------------------------------------------------------------------------------------------ dispatch

  private handle(e: SimEvent): void {
    switch (e.k) {
      case 'tick': {
        const m = this.machines[e.node]!;
        if (!m.up || !m.agent) return;
        this.deliver(m, m.agent.inc, { type: 'tick' });
        this.agenda.push(this.now + this.setup.tickMs, e);
        return;
      }
      case 'deliver':
        return this.deliver(this.machines[e.node]!, e.inc, e.ev);
      case 'packet':
        return this.arrive(e.from, e.to, e.net, e.payload);
      case 'disk':
        return this.diskComplete(e);
      case 'resource':
        return this.resourceComplete(e);
      case 'fault':
        return this.applyFault(e.fault, e.edge);
      case 'watchdog': {
        const m = this.machines[e.node]!;
        if (m.up && e.token === m.watchdogToken) {
          this.log(`node${m.idx + 1} watchdog fired: machine reset`);
          this.reset(m, this.rng.between(1000, 3000));
        }
        return;
      }
      case 'boot':
        return this.powerOn(this.machines[e.node]!, e.boot);
      case 'fence_done': {
        const victim = this.machines[e.victim]!;
        const ok = this.rng.chance(0.9);
        if (ok && victim.up) {
          this.log(`node${victim.idx + 1} powered off by its partner's fence command`);
          this.reset(victim, this.rng.between(2000, 6000));
        }
        return this.deliver(this.machines[e.node]!, e.inc, { type: 'fence_command_done', ok, error: ok ? undefined : 'BMC timeout' });
      }
      case 'operator_sweep':
        for (const m of this.machines) {
          if (this.agentActive(m) && m.agent!.core.phase === 'fenced') {
            this.deliver(m, m.agent!.inc, { type: 'command', command: 'reintegrate' });
          }
        }
        this.agenda.push(this.now + 2000, e);
        return;
      case 'check_takeover':
        return this.inv.checkTakeover(e.victim, e.crashedAt);
    }
  }

  private deliver(m: Machine, inc: number, ev: CoreEvent): void {
    if (!m.up || !m.agent || m.agent.inc !== inc) return;
    if (m.agentFreezes > 0 || m.machineFreezes > 0) {
      if (ev.type !== 'tick') m.agent.queue.push(ev);
      return;
    }
    this.runCore(m, ev);
  }

  private runCore(m: Machine, ev: CoreEvent): void {
    const agent = m.agent!;
    let r: StepResult;
    try {
      r = this.stepFn(m.cfg, agent.core, ev, this.localTime(m));
    } catch (err) {
      this.inv.violation(`node${m.idx + 1} core threw: ${(err as Error).message}`);
      return;
    }
    agent.core = r.state;
    for (const fx of r.effects) this.effect(m, agent, fx);
  }

  private wakeAgent(m: Machine): void {
    if (!m.up || !m.agent || m.agentFreezes > 0 || m.machineFreezes > 0) return;
    m.agentRunningSince = this.now;
    const queued = m.agent.queue;
    m.agent.queue = [];
    for (const ev of queued) if (m.agent) this.runCore(m, ev);
    if (m.agent) this.runCore(m, { type: 'tick' });
  }

  // ------------------------------------------------------------------------------------------------ effects

  private effect(m: Machine, agent: Agent, fx: Effect): void {
    const partner = this.other(m.idx);
    switch (fx.type) {
      case 'send_heartbeat':
        for (let net = 0; net < NETS.length; net++) this.send(m.idx, partner.idx, net, { type: 'hb', hb: fx.hb });
        return;
      case 'icmp_probe':
        return this.send(m.idx, partner.idx, NETS.indexOf(fx.net), { type: 'icmp_request', probeId: fx.probeId, inc: agent.inc });
      case 'disk_cycle':
        if (m.diskStalls > 0) return; // the request hangs: the core's deadline turns it into a failure
        this.agenda.push(this.now + this.rng.between(...DISK_MS), {
          k: 'disk', node: m.idx, inc: agent.inc, opId: fx.opId, write: fx.write, readIntents: fx.readIntents,
        });
        return;
      case 'start_resource':
        this.checkIntentWritten(m, fx.group, fx.kind);
        return this.resourceBegin(m, agent, fx.group, fx.resource, fx.kind, 'start');
      case 'stop_resource':
        return this.resourceBegin(m, agent, fx.group, fx.resource, fx.kind, 'stop');
      case 'watchdog': {
        m.watchdogToken++;
        if (fx.until === null) return;
        const realDelay = Math.max(0, (fx.until - this.localTime(m)) / m.clockRate);
        this.agenda.push(this.now + realDelay, { k: 'watchdog', node: m.idx, token: m.watchdogToken });
        return;
      }
      case 'run_fence_command':
        this.agenda.push(this.now + this.rng.between(100, 800), { k: 'fence_done', node: m.idx, inc: agent.inc, victim: partner.idx });
        return;
      case 'transition':
        this.log(`node${m.idx + 1} ${fx.from} → ${fx.to}: ${fx.cause}`);
        if ((fx.to === 'fencing_partner' && agent.core.detector.stage === 'dead') || fx.to === 'power_fencing') {
          this.inv.checkFenceDecision(m.idx);
        }
        return;
      case 'report':
        this.log(`node${m.idx + 1} ${fx.level}: ${fx.message}`);
        return;
    }
  }

  private send(from: NodeIdx, to: NodeIdx, net: number, payload: Payload): void {
    const src = this.machines[from]!;
    if (!this.machineActive(src) || !this.reachable(from, to, net)) return;
    const q = this.lossy[net];
    const copies = q && this.rng.chance(q.dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (q && this.rng.chance(q.loss)) continue;
      const delay = this.rng.between(0.05, this.baseDelayMs) + (q ? this.rng.between(0, q.delayMaxMs) : 0);
      this.agenda.push(this.now + delay, { k: 'packet', from, to, net, payload });
    }
  }

  private reachable(from: NodeIdx, to: NodeIdx, net: number): boolean {
    return this.partitions[net] === 0 && this.machines[from]!.links[net]! && this.machines[to]!.links[net]!;
  }

  private arrive(from: NodeIdx, to: NodeIdx, net: number, payload: Payload): void {
    const dst = this.machines[to]!;
    if (!this.machineActive(dst) || !this.reachable(from, to, net)) return;
    switch (payload.type) {
      case 'hb':
        if (dst.agent) this.deliver(dst, dst.agent.inc, { type: 'heartbeat', net: NETS[net]!, hb: payload.hb });
        return;
      case 'icmp_request': // the kernel answers, whatever its agent is doing
        return this.send(to, from, net, { type: 'icmp_reply', probeId: payload.probeId, inc: payload.inc });
      case 'icmp_reply':
        return this.deliver(dst, payload.inc, { type: 'icmp_reply', net: NETS[net]!, probeId: payload.probeId });
    }
  }

  private diskComplete(e: Extract<SimEvent, { k: 'disk' }>): void {
    const m = this.machines[e.node]!;
    if (!m.up || m.diskStalls > 0) return;
    if (m.diskLosses > 0) {
      return this.deliver(m, e.inc, { type: 'disk_done', opId: e.opId, ok: false, error: 'EIO' });
    }
    const me = m.idx;
    const partner = 1 - me;
    if (e.write) {
      this.slots[me] = e.write.slot;
      this.inboxes[partner] = e.write.outbox;
      this.appendIntents(me, e.write.intents);
    }
    const partnerSlot = this.slots[partner]!;
    const view: MailboxView = {
      ownSlot: this.slots[me]!, ownOutbox: this.inboxes[partner]!, inbox: this.inboxes[me]!, partnerSlot,
      partnerSlotFingerprint: partnerSlot && `${partnerSlot.gen}:${partnerSlot.counter}`,
    };
    if (e.readIntents.includes('own')) view.ownIntents = [...this.intentLogs[me]!];
    if (e.readIntents.includes('partner')) view.partnerIntents = [...this.intentLogs[partner]!];
    this.deliver(m, e.inc, { type: 'disk_done', opId: e.opId, ok: true, view });
  }

  /** Write-ahead: a start is carried out only once its `begun` record is on the (simulated) disk. */
  private checkIntentWritten(m: Machine, group: string, kind: ResourceKind): void {
    const log = this.intentLogs[m.idx]!;
    for (let i = log.length - 1; i >= 0; i--) {
      const r = log[i]!;
      if (r.step?.group !== group || r.step.resource !== kind) continue;
      if (r.step.op === 'start' && r.state === 'begun') return;
      break;
    }
    this.inv.violation(`node${m.idx + 1} started ${group}/${kind} before its intent record was on the disk`);
  }

  /** As on the disk: a record rewritten (a write retried) replaces itself; the oldest fall out of the ring. */
  private appendIntents(node: number, records: IntentRecord[]): void {
    if (records.length === 0) return;
    const log = this.intentLogs[node]!.filter((r) => !records.some((n) => n.seq === r.seq));
    log.push(...records);
    log.sort((a, b) => a.seq - b.seq);
    this.intentLogs[node] = log.slice(-INTENT_LOG_RECORDS);
  }

  // ------------------------------------------------------------------------------------------------ resources

  private resourceBegin(m: Machine, agent: Agent, group: string, resource: string, kind: ResourceKind, op: 'start' | 'stop'): void {
    const key = `${group}/${resource}`;
    const begin = Math.max(this.now, m.resourceBusyUntil.get(key) ?? 0);
    const done = begin + this.rng.between(...RESOURCE_MS[kind]);
    m.resourceBusyUntil.set(key, done);
    const wasHeld = this.inv.holdsResource(m.idx, group, kind);
    if (op === 'start') this.inv.hold(m, group, kind);
    this.agenda.push(done, { k: 'resource', node: m.idx, boot: m.boot, inc: agent.inc, group, resource, kind, op, wasHeld });
  }

  private resourceComplete(e: Extract<SimEvent, { k: 'resource' }>): void {
    const m = this.machines[e.node]!;
    if (!m.up || m.boot !== e.boot) return;
    // Starting what already runs, or stopping what does not, is a no-op that succeeds (as in OCF resource agents).
    const noop = e.op === 'start' ? e.wasHeld : !e.wasHeld && !this.inv.holdsResource(m.idx, e.group, e.kind);
    const p = e.op === 'start' ? m.failureProbability : m.failureProbability / 4;
    const ok = noop || !this.rng.chance(p);
    if (e.op === 'start' ? !ok || e.kind === 'log_replay' : ok) this.inv.release(m, e.group, e.kind);
    this.deliver(m, e.inc, {
      type: 'resource_done', group: e.group, resource: e.resource, op: e.op, ok, error: ok ? undefined : 'injected failure',
    });
  }

  // ------------------------------------------------------------------------------------------------ machines

  private powerOn(m: Machine, boot: number): void {
    if (m.up || m.boot !== boot || m.crashFaults > 0) return;
    m.up = true;
    m.boot++;
    m.upSince = this.now;
    this.log(`node${m.idx + 1} boots`);
    this.startAgent(m);
  }

  private startAgent(m: Machine): void {
    const agent: Agent = { inc: ++this.incs, core: initialState(m.cfg, this.localTime(m), ++m.generation), queue: [] };
    m.agent = agent;
    m.agentRunningSince = m.agentFreezes === 0 && m.machineFreezes === 0 ? this.now : null;
    NETS.forEach((net, i) => {
      if (!m.links[i]) this.deliver(m, agent.inc, { type: 'link', net, up: false });
    });
    this.agenda.push(this.now + this.rng.between(0, this.setup.tickMs), { k: 'tick', node: m.idx });
  }

  /** Power loss or a watchdog reset: everything the machine held is gone. It boots again after `downMs`. */
  reset(m: Machine, downMs: number): void {
    m.up = false;
    m.agent = null;
    m.agentRunningSince = null;
    m.watchdogToken++;
    m.resourceBusyUntil.clear();
    this.inv.releaseAll(m);
    this.agenda.push(this.now + downMs, { k: 'boot', node: m.idx, boot: m.boot });
  }

  private applyFault(f: Fault, edge: 'start' | 'end'): void {
    const start = edge === 'start';
    if (start) this.log(`fault: ${describeFault(f)}`);
    this.faultEdge(f, start);
    this.inv.refresh();
  }

  private faultEdge(f: Fault, start: boolean): void {
    const d = start ? 1 : -1;
    switch (f.kind) {
      case 'partition':
        this.partitions[f.net]! += d;
        return;
      case 'lossy':
        this.lossy[f.net] = start ? { loss: f.loss, dup: f.dup, delayMaxMs: f.delayMaxMs } : null;
        return;
      case 'link_down': {
        const m = this.machines[f.node]!;
        m.links[f.net] = !start;
        if (m.agent) this.deliver(m, m.agent.inc, { type: 'link', net: NETS[f.net]!, up: !start });
        return;
      }
      case 'disk_stall':
        this.machines[f.node]!.diskStalls += d;
        return;
      case 'disk_lost':
        this.machines[f.node]!.diskLosses += d;
        return;
      case 'agent_crash': {
        const m = this.machines[f.node]!;
        if (start) {
          m.agent = null;
          m.agentRunningSince = null;
        } else if (m.up && !m.agent) {
          this.startAgent(m);
        }
        return;
      }
      case 'agent_freeze':
      case 'machine_freeze': {
        const m = this.machines[f.node]!;
        if (f.kind === 'agent_freeze') m.agentFreezes += d;
        else m.machineFreezes += d;
        if (start) m.agentRunningSince = null;
        else this.wakeAgent(m);
        return;
      }
      case 'machine_crash': {
        const m = this.machines[f.node]!;
        if (start) {
          m.crashFaults++;
          if (m.up) {
            this.reset(m, 0);
            this.inv.noteCrash(m.idx, f);
          }
        } else if (--m.crashFaults === 0) {
          this.agenda.push(this.now, { k: 'boot', node: m.idx, boot: m.boot });
        }
        return;
      }
      case 'clock_jump':
        this.machines[f.node]!.clockOffset += f.jumpMs;
        return;
      case 'resource_failures':
        this.machines[f.node]!.failureProbability = start ? f.probability : 0;
        return;
      case 'health_failure': {
        const m = this.machines[f.node]!;
        if (m.agent) this.deliver(m, m.agent.inc, { type: 'health', group: m.cfg.self, resource: f.resource, ok: false, detail: 'injected' });
        return;
      }
      case 'operator': {
        const m = this.machines[f.node]!;
        if (m.agent) this.deliver(m, m.agent.inc, { type: 'command', command: f.command });
        return;
      }
    }
  }

  scheduleTakeoverCheck(victim: NodeIdx, crashedAt: number, at: number): void {
    this.agenda.push(at, { k: 'check_takeover', victim, crashedAt });
  }
}

/** How long one mailbox cycle takes in the simulated world, in ms. */
const DISK_MS: [number, number] = [0.5, 15];

/** How long each kind of resource takes to start or stop in the simulated world, in ms. */
const RESOURCE_MS: Record<ResourceKind, [number, number]> = {
  log_replay: [20, 400],
  filesystem: [10, 200],
  nfs_server: [20, 200],
  exports: [5, 50],
  service_ip: [2, 20],
  arp: [2, 10],
  nsm_notify: [2, 20],
};

/** A group's longest start: every resource's, and before each, its intent record written (up to two cycles). */
export const MAX_GROUP_START_MS = Object.values(RESOURCE_MS).reduce((sum, [, hi]) => sum + hi + 2 * DISK_MS[1], 0);
