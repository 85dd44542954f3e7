// The simulated world both cores run in: two machines (each with a hardware watchdog, its own drifting clock and
// the resources it holds), two networks between them, the shared mailbox disk, and a fault schedule. Everything
// happens on one agenda driven by one seeded random source, so a seed replays exactly.
//
// The watchdog is modelled as the device is: the agent pets it on every step while its lease is good (as
// DeviceWatchdog does), and it resets the machine one device timeout after the last pet, whatever the agent then
// does; the magic close disarms it only when the agent owned nothing. Disk requests of a machine are served in order
// (one I/O thread): a stalled or slow request completes late, and its write lands late, after the core gave up on it.
import { step, type StepResult } from '../core/pairing.ts';
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


type Payload =
  | { type: 'hb'; hb: Heartbeat }
  | { type: 'icmp_request'; probeId: number; inc: number }
  | { type: 'icmp_reply'; probeId: number; inc: number };

type SimEvent =
  | { k: 'tick'; node: NodeIdx }
  | { k: 'deliver'; node: NodeIdx; inc: number; ev: CoreEvent }
  | { k: 'packet'; from: NodeIdx; to: NodeIdx; net: number; payload: Payload }
  | { k: 'disk'; op: DiskOp }
  | { k: 'disk_land'; op: DiskOp }
  | {
    k: 'resource'; node: NodeIdx; boot: number; inc: number; group: string; resource: string; kind: ResourceKind;
    op: 'start' | 'stop'; wasHeld: boolean;
  }
  | { k: 'fault'; fault: Fault; edge: 'start' | 'end' }
  | { k: 'watchdog'; node: NodeIdx; boot: number }
  | { k: 'slot_replay'; node: NodeIdx; fault: Fault }
  | { k: 'boot'; node: NodeIdx; boot: number }
  | { k: 'fence_done'; node: NodeIdx; inc: number; victim: NodeIdx }
  | { k: 'operator_sweep' }
  | { k: 'check'; what: 'takeover' | 'own_group'; victim: NodeIdx; crashedAt: number };

interface DiskOp {
  node: NodeIdx;
  boot: number;
  inc: number;
  opId: number;
  write: { slot: StatusRecord; outbox: Outbox; intents: IntentRecord[] } | null;
  readIntents: Array<'own' | 'partner'>;
  /** Its write is on the disk. */
  landed?: boolean;
}

/** The watchdog device of a machine. */
interface WatchdogDevice {
  /** Opened and not closed by the magic close: it is counting. */
  open: boolean;
  /** The core's deadline, on the machine's clock: the agent pets only before it. */
  until: number | null;
  lastPetAt: number;
  checkPending: boolean;
  /** The core asked for the reset itself (a stop that failed): its deadline was already past when armed. */
  asked: boolean;
}

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
  lostWrites: number;
  /** While a disk_slow fault lasts: each request's latency. */
  diskLatencyMs: number | null;
  /** Disk requests waiting, in order; the first is being served unless the disk is stalled. */
  diskQueue: DiskOp[];
  diskBusy: boolean;
  failureProbability: number;
  stopHangMs: number;
  watchdog: WatchdogDevice;
  /** The last jump of this machine's clock (real time), for judging its watchdog resets. */
  lastClockJumpAt: number;
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
  /** Per network, per sending node: one-way cuts. */
  private oneWay = [[0, 0], [0, 0]];
  private lossy: ({ loss: number; dup: number; delayMaxMs: number } | null)[] = [null, null];
  private readonly baseDelayMs: number;
  private slots: (StatusRecord | null)[] = [null, null];
  /** A slot sector overwritten by someone else with bytes that do not verify. */
  private slotGarbage = [false, false];
  /** Each node's last records, for a replay of them. */
  private slotHistory: StatusRecord[][] = [[], []];
  /** When each node's slot last took a newer record of its own: when it last showed life on the disk. */
  readonly slotAdvancedAt = [-Infinity, -Infinity];
  /** Each node's newest record that its partner has read: a replay of an older one is what it can be fooled with. */
  private slotReadByPartner: (StatusRecord | null)[] = [null, null];
  private inboxes: (Outbox | null)[] = [null, null];
  /** Each node's intent log on the shared disk: its last records, oldest first. */
  private intentLogs: IntentRecord[][] = [[], []];
  readonly trace: string[] = [];
  private stopped = false;

  constructor(
    readonly seed: number,
    readonly setup: SimSetup,
    readonly faults: Fault[],
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
      lostWrites: 0,
      diskLatencyMs: null,
      diskQueue: [],
      diskBusy: false,
      failureProbability: 0,
      stopHangMs: 0,
      watchdog: { open: false, until: null, lastPetAt: 0, checkPending: false, asked: false },
      lastClockJumpAt: -Infinity,
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
    return this.partitions[net] === 0 && this.oneWay[net]!.every((n) => n === 0) && this.lossy[net] === null &&
      this.machines.every((m) => m.links[net]);
  }

  diskClean(m: Machine): boolean {
    return m.diskStalls === 0 && m.diskLosses === 0 && m.lostWrites === 0 && m.diskLatencyMs === null && !this.slotGarbage[m.idx];
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
        return this.diskComplete(e.op);
      case 'disk_land':
        return this.diskLand(e.op);
      case 'resource':
        return this.resourceComplete(e);
      case 'fault':
        return this.applyFault(e.fault, e.edge);
      case 'watchdog':
        return this.watchdogCheck(this.machines[e.node]!, e.boot);
      case 'slot_replay':
        return this.replaySlot(e.node, e.fault);
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
      case 'check':
        return e.what === 'takeover' ? this.inv.checkTakeover(e.victim, e.crashedAt) : this.inv.checkOwnGroup(e.victim);
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
      r = step(m.cfg, agent.core, ev, this.localTime(m));
    } catch (err) {
      this.inv.violation(`node${m.idx + 1} core threw: ${(err as Error).message}`);
      return;
    }
    agent.core = r.state;
    for (const fx of r.effects) this.effect(m, agent, fx);
    this.petWatchdog(m);
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
      case 'disk_cycle': {
        const op: DiskOp = { node: m.idx, boot: m.boot, inc: agent.inc, opId: fx.opId, write: fx.write, readIntents: fx.readIntents };
        m.diskQueue.push(op);
        return this.serveDisk(m);
      }
      case 'start_resource':
        this.checkIntentWritten(m, fx.group, fx.kind);
        return this.resourceBegin(m, agent, fx.group, fx.resource, fx.kind, 'start');
      case 'stop_resource':
        return this.resourceBegin(m, agent, fx.group, fx.resource, fx.kind, 'stop');
      case 'watchdog':
        return this.armWatchdog(m, fx.until);
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
    return this.partitions[net] === 0 && this.oneWay[net]![from] === 0 && this.machines[from]!.links[net]! &&
      this.machines[to]!.links[net]!;
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

  /**
   * Serves the next request, if the disk is free: with the latency of the moment. A stalled disk serves nothing;
   * the core's deadline meanwhile turns the request into a failure, and it completes once the stall ends. A cycle
   * writes first and reads after: its writes land a tenth of the way through, its reads are taken at the end, so a
   * slow cycle's write is on the disk (and seen by the partner) well before the cycle completes.
   */
  private serveDisk(m: Machine): void {
    if (m.diskBusy || m.diskStalls > 0 || m.diskQueue.length === 0) return;
    m.diskBusy = true;
    const op = m.diskQueue.shift()!;
    const latency = m.diskLatencyMs ?? this.rng.between(...DISK_MS);
    if (op.write) this.agenda.push(this.now + latency / 10, { k: 'disk_land', op });
    this.agenda.push(this.now + latency, { k: 'disk', op });
  }

  private diskLand(e: DiskOp): void {
    const m = this.machines[e.node]!;
    if (!m.up || m.boot !== e.boot || m.diskLosses > 0 || !e.write) return;
    e.landed = true;
    const partner = 1 - m.idx;
    if (m.lostWrites === 0) this.writeSlot(m.idx, e.write.slot);
    this.inboxes[partner] = e.write.outbox;
    this.appendIntents(m.idx, e.write.intents);
  }

  private diskComplete(e: DiskOp): void {
    const m = this.machines[e.node]!;
    if (!m.up || m.boot !== e.boot) return;
    m.diskBusy = false;
    this.serveDisk(m);
    // A cycle whose write did not land (the disk was lost meanwhile) fails, even if the disk is back by its end.
    if (m.diskLosses > 0 || (e.write && !e.landed)) {
      return this.deliver(m, e.inc, { type: 'disk_done', opId: e.opId, ok: false, error: 'EIO' });
    }
    const me = m.idx;
    const partner = 1 - me;
    const partnerSlot = this.slotGarbage[partner] ? null : this.slots[partner]!;
    const read = this.slotReadByPartner[partner];
    if (partnerSlot && (!read || partnerSlot.gen > read.gen || (partnerSlot.gen === read.gen && partnerSlot.counter > read.counter))) {
      this.slotReadByPartner[partner] = partnerSlot;
    }
    const view: MailboxView = {
      ownSlot: this.slotGarbage[me] ? null : this.slots[me]!, ownOutbox: this.inboxes[partner]!, inbox: this.inboxes[me]!, partnerSlot,
    };
    if (e.readIntents.includes('own')) view.ownIntents = [...this.intentLogs[me]!];
    if (e.readIntents.includes('partner')) view.partnerIntents = [...this.intentLogs[partner]!];
    this.deliver(m, e.inc, { type: 'disk_done', opId: e.opId, ok: true, view });
  }

  private writeSlot(node: NodeIdx, slot: StatusRecord): void {
    const prev = this.slots[node];
    if (!prev || slot.gen > prev.gen || (slot.gen === prev.gen && slot.counter > prev.counter)) this.slotAdvancedAt[node] = this.now;
    this.slots[node] = slot;
    this.slotGarbage[node] = false;
    const history = this.slotHistory[node]!;
    history.push(slot);
    if (history.length > 20) history.shift();
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
    const done = begin + this.rng.between(...RESOURCE_MS[kind]) + (op === 'stop' ? m.stopHangMs : 0);
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

  // ------------------------------------------------------------------------------------------------ watchdog

  /** A timeout of 0 is a pair configured without a watchdog device: nothing to arm. */
  private armWatchdog(m: Machine, until: number | null): void {
    const wd = m.watchdog;
    if (this.setup.timing.watchdogTimeoutMs === 0) return;
    wd.until = until;
    if (until === null) {
      wd.open = false; // the magic close: nothing is owned
      return;
    }
    if (!wd.open) {
      wd.open = true;
      wd.lastPetAt = this.now;
    }
    wd.asked = until <= this.localTime(m);
    this.petWatchdog(m);
  }

  /** The agent pets the device while its lease is good; the device checks one timeout after the last pet. */
  private petWatchdog(m: Machine): void {
    const wd = m.watchdog;
    if (!wd.open || wd.until === null) return;
    if (this.localTime(m) < wd.until) wd.lastPetAt = this.now;
    if (!wd.checkPending) {
      wd.checkPending = true;
      this.agenda.push(wd.lastPetAt + this.setup.timing.watchdogTimeoutMs, { k: 'watchdog', node: m.idx, boot: m.boot });
    }
  }

  private watchdogCheck(m: Machine, boot: number): void {
    const wd = m.watchdog;
    if (!m.up || m.boot !== boot) return;
    wd.checkPending = false;
    if (!wd.open) return;
    const due = wd.lastPetAt + this.setup.timing.watchdogTimeoutMs;
    if (this.now < due) {
      wd.checkPending = true;
      this.agenda.push(due, { k: 'watchdog', node: m.idx, boot: m.boot });
      return;
    }
    this.log(`node${m.idx + 1} watchdog fired: machine reset`);
    this.inv.checkWatchdogReset(m);
    this.reset(m, this.rng.between(1000, 3000));
  }

  // ------------------------------------------------------------------------------------------------ disk faults

  /**
   * Someone else rewrites the node's slot: garbage, or one of its own records that the partner has already read (a
   * record it has not read yet is indistinguishable from a fresh write, to any protocol).
   */
  private replaySlot(node: NodeIdx, f: Fault): void {
    if (!('until' in f) || this.now >= f.until) return;
    const read = this.slotReadByPartner[node];
    const old = read ? this.slotHistory[node]!.filter((r) => r.gen < read.gen || (r.gen === read.gen && r.counter <= read.counter)) : [];
    if (old.length > 0 && this.rng.chance(0.5)) {
      this.slots[node] = old[this.rng.int(0, old.length - 1)]!;
      this.slotGarbage[node] = false;
    } else {
      this.slotGarbage[node] = true;
    }
    this.agenda.push(this.now + this.setup.timing.diskIntervalMs, { k: 'slot_replay', node, fault: f });
  }

  /** Power loss or a watchdog reset: everything the machine held is gone. It boots again after `downMs`. */
  reset(m: Machine, downMs: number): void {
    m.up = false;
    m.agent = null;
    m.agentRunningSince = null;
    m.watchdog = { open: false, until: null, lastPetAt: 0, checkPending: false, asked: false };
    m.diskQueue = [];
    m.diskBusy = false;
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
      case 'one_way':
        this.oneWay[f.net]![f.from]! += d;
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
      case 'disk_stall': {
        const m = this.machines[f.node]!;
        m.diskStalls += d;
        this.serveDisk(m);
        return;
      }
      case 'disk_slow':
        this.machines[f.node]!.diskLatencyMs = start ? f.latencyMs : null;
        return;
      case 'stop_hang':
        this.machines[f.node]!.stopHangMs = start ? f.hangMs : 0;
        return;
      case 'slot_replay':
        if (start) this.replaySlot(f.node, f);
        return;
      case 'agent_stop': {
        const m = this.machines[f.node]!;
        if (start && m.agent) {
          // The agent's own SIGTERM handling: the magic close only when nothing is owned (DeviceWatchdog.close).
          if (m.agent.core.watchdogUntil === null) m.watchdog.open = false;
          m.agent = null;
          m.agentRunningSince = null;
        } else if (!start && m.up && !m.agent) {
          this.startAgent(m);
        }
        return;
      }
      case 'disk_lost':
        this.machines[f.node]!.diskLosses += d;
        return;
      case 'lost_writes':
        this.machines[f.node]!.lostWrites += d;
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
        this.machines[f.node]!.lastClockJumpAt = this.now;
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

  scheduleCheck(what: 'takeover' | 'own_group', victim: NodeIdx, crashedAt: number, at: number): void {
    this.agenda.push(at, { k: 'check', what, victim, crashedAt });
  }
}

/** How long one mailbox cycle takes in the simulated world, in ms. */
export const DISK_MS: [number, number] = [0.5, 15];

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
