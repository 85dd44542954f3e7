// The simulated world both cores run in: two machines (each with a hardware watchdog, its own drifting clock and
// the resources it holds), two networks between them, the shared mailbox disk, and a fault schedule. Everything
// happens on one agenda driven by one seeded random source, so a seed replays exactly.
//
// Each machine runs the real agent Controller (agent-process.ts), which carries out its core's effects through the
// ports; the world answers them. The watchdog is modelled as the device is: the agent's DeviceWatchdog pets it while
// its lease is good, and it resets the machine one device timeout after the last pet, whatever the agent then does;
// only the magic close stops it. Disk requests of a machine are served in order (one I/O thread): a stalled or slow
// request completes late, and its write lands late, after the agent gave up on it.
import { INTENT_LOG_RECORDS } from '../core/intent.ts';
import type { CoreConfig, Heartbeat, IntentRecord, MailboxView, Outbox, ResourceKind, StatusRecord } from '../core/types.ts';
import type { MailboxWrite } from '../ports.ts';
import { SIM_NETS, SimAgent, type SimTimer } from './agent-process.ts';
import type { Future } from './future.ts';
import { Agenda } from './queue.ts';
import { describeFault, type Fault, type NodeIdx } from './faults.ts';
import { Prng } from './prng.ts';
import { Invariants } from './invariants.ts';
import type { SimSetup } from './setup.ts';


type Payload =
  | { type: 'hb'; hb: Heartbeat }
  | { type: 'icmp_request'; probe: number; inc: number }
  | { type: 'icmp_reply'; probe: number; inc: number };

type ResourceResult = { ok: boolean; error?: string };

/** One start or stop asked of a machine's resource layer. */
export interface ResourceOp {
  group: string;
  resource: string;
  kind: ResourceKind;
  op: 'start' | 'stop';
}

type SimEvent =
  | { k: 'call'; node: NodeIdx; inc: number; fn: () => void }
  | { k: 'timer'; node: NodeIdx; inc: number; timer: SimTimer }
  | { k: 'packet'; from: NodeIdx; to: NodeIdx; net: number; payload: Payload }
  | { k: 'disk'; op: DiskOp }
  | { k: 'disk_land'; op: DiskOp }
  | { k: 'resource'; node: NodeIdx; boot: number; inc: number; req: ResourceOp; wasHeld: boolean; done: Future<ResourceResult> }
  | { k: 'fault'; fault: Fault; edge: 'start' | 'end' }
  | { k: 'watchdog'; node: NodeIdx; boot: number }
  | { k: 'slot_replay'; node: NodeIdx; fault: Fault }
  | { k: 'boot'; node: NodeIdx; boot: number }
  | { k: 'fence_done'; node: NodeIdx; inc: number; victim: NodeIdx; done: Future<ResourceResult> }
  | { k: 'operator_sweep' }
  | { k: 'check'; what: 'takeover' | 'own_group'; victim: NodeIdx; crashedAt: number };

/** A mailbox cycle as the agent asked it. */
export interface DiskRequest {
  inc: number;
  write: MailboxWrite | null;
  readIntents: Array<'own' | 'partner'>;
  done: Future<MailboxView>;
}

interface DiskOp extends DiskRequest {
  node: NodeIdx;
  boot: number;
  /** Its write is on the disk. */
  landed?: boolean;
}

/** The watchdog device of a machine. */
interface WatchdogDevice {
  /** Opened and not closed by the magic close: it is counting. */
  open: boolean;
  lastPetAt: number;
  checkPending: boolean;
  /** The core asked for the reset itself (a stop that failed): its deadline was already past when armed. */
  asked: boolean;
}

export interface Machine {
  idx: NodeIdx;
  cfg: CoreConfig;
  up: boolean;
  /** Increases at every power-on: results of work begun before a reset are void. */
  boot: number;
  agent: SimAgent | null;
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
      watchdog: { open: false, lastPetAt: 0, checkPending: false, asked: false },
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
      case 'call':
        return this.deliver(this.machines[e.node]!, e.inc, e.fn);
      case 'timer':
        return this.timerDue(this.machines[e.node]!, e.inc, e.timer);
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
        return this.deliver(this.machines[e.node]!, e.inc, () => e.done.resolve(ok ? { ok } : { ok, error: 'BMC timeout' }));
      }
      case 'operator_sweep':
        for (const m of this.machines) {
          if (this.agentActive(m) && m.agent!.core.phase === 'fenced') this.command(m, 'reintegrate');
        }
        this.agenda.push(this.now + 2000, e);
        return;
      case 'check':
        return e.what === 'takeover' ? this.inv.checkTakeover(e.victim, e.crashedAt) : this.inv.checkOwnGroup(e.victim);
    }
  }

  /**
   * Something reaches the agent run `inc` of machine `m` (a packet, a disk or command result, an operator): a frozen
   * agent gets it when it wakes; a run that is gone never does.
   */
  deliver(m: Machine, inc: number, fn: () => void): void {
    if (!m.up || !m.agent || m.agent.inc !== inc) return;
    if (m.agentFreezes > 0 || m.machineFreezes > 0) {
      m.agent.queue.push(fn);
      return;
    }
    this.inAgent(m, fn);
  }

  /** Runs the agent's code; a throw there is the core's (or the controller's) fault, and a violation. */
  private inAgent(m: Machine, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.inv.violation(`node${m.idx + 1} core threw: ${(err as Error).message}`);
    }
  }

  /** `fn` on the agent run `inc` of `m`, `ms` later on the machine's clock. */
  callLater(m: Machine, inc: number, ms: number, fn: () => void): void {
    this.agenda.push(this.now + ms / m.clockRate, { k: 'call', node: m.idx, inc, fn });
  }

  startTimer(m: Machine, inc: number, timer: SimTimer): void {
    this.agenda.push(this.now + timer.ms / m.clockRate, { k: 'timer', node: m.idx, inc, timer });
  }

  /** As Node's timers: a frozen process misses its firings, and the timer fires once when it runs again. */
  private timerDue(m: Machine, inc: number, timer: SimTimer): void {
    if (!m.up || !m.agent || m.agent.inc !== inc || timer.cancelled) return;
    if (!this.agentActive(m)) {
      timer.missed = true;
      return;
    }
    this.startTimer(m, inc, timer);
    this.inAgent(m, timer.fn);
  }

  private command(m: Machine, command: 'reintegrate' | Extract<Fault, { kind: 'operator' }>['command']): void {
    const agent = m.agent;
    if (agent) this.deliver(m, agent.inc, () => agent.controller.command({ command }));
  }

  /** A frozen agent runs again: its timers fire first (Node runs due timers before I/O), then what reached it. */
  private wakeAgent(m: Machine): void {
    const agent = m.agent;
    if (!m.up || !agent || m.agentFreezes > 0 || m.machineFreezes > 0) return;
    m.agentRunningSince = this.now;
    for (const timer of agent.timers) {
      if (!timer.missed || timer.cancelled) continue;
      timer.missed = false;
      this.timerDue(m, agent.inc, timer);
    }
    const queued = agent.queue;
    agent.queue = [];
    for (const fn of queued) if (m.agent === agent) this.inAgent(m, fn);
  }

  // ------------------------------------------------------------------------------------------------ the agent's ports

  send(from: NodeIdx, to: NodeIdx, net: number, payload: Payload): void {
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
    const agent = dst.agent;
    switch (payload.type) {
      case 'hb':
        if (agent) this.deliver(dst, agent.inc, () => agent.heartbeatArrived(SIM_NETS[net]!, payload.hb));
        return;
      case 'icmp_request': // the kernel answers, whatever its agent is doing
        return this.send(to, from, net, { type: 'icmp_reply', probe: payload.probe, inc: payload.inc });
      case 'icmp_reply':
        if (agent) this.deliver(dst, payload.inc, () => agent.icmpReplied(payload.probe));
        return;
    }
  }

  submitDisk(m: Machine, req: DiskRequest): void {
    m.diskQueue.push({ ...req, node: m.idx, boot: m.boot });
    this.serveDisk(m);
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
    if (m.diskLosses > 0 || (e.write && !e.landed)) return this.deliver(m, e.inc, () => e.done.reject(new Error('EIO')));
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
    this.deliver(m, e.inc, () => e.done.resolve(view));
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

  runFence(m: Machine, inc: number, done: Future<ResourceResult>): void {
    this.agenda.push(this.now + this.rng.between(100, 800), { k: 'fence_done', node: m.idx, inc, victim: this.other(m.idx).idx, done });
  }

  // ------------------------------------------------------------------------------------------------ resources

  beginResource(m: Machine, inc: number, req: ResourceOp, done: Future<ResourceResult>): void {
    const { group, resource, kind, op } = req;
    if (op === 'start') this.checkIntentWritten(m, group, kind);
    const key = `${group}/${resource}`;
    const begin = Math.max(this.now, m.resourceBusyUntil.get(key) ?? 0);
    const finish = begin + this.rng.between(...RESOURCE_MS[kind]) + (op === 'stop' ? m.stopHangMs : 0);
    m.resourceBusyUntil.set(key, finish);
    const wasHeld = this.inv.holdsResource(m.idx, group, kind);
    if (op === 'start') this.inv.hold(m, group, kind);
    this.agenda.push(finish, { k: 'resource', node: m.idx, boot: m.boot, inc, req, wasHeld, done });
  }

  private resourceComplete(e: Extract<SimEvent, { k: 'resource' }>): void {
    const m = this.machines[e.node]!;
    if (!m.up || m.boot !== e.boot) return;
    const { group, kind, op } = e.req;
    // Starting what already runs, or stopping what does not, is a no-op that succeeds (as in OCF resource agents).
    const noop = op === 'start' ? e.wasHeld : !e.wasHeld && !this.inv.holdsResource(m.idx, group, kind);
    const p = op === 'start' ? m.failureProbability : m.failureProbability / 4;
    const ok = noop || !this.rng.chance(p);
    if (op === 'start' ? !ok || kind === 'log_replay' : ok) this.inv.release(m, group, kind);
    this.deliver(m, e.inc, () => e.done.resolve(ok ? { ok } : { ok, error: 'injected failure' }));
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
    const agent = new SimAgent(this, m, ++this.incs, ++m.generation);
    m.agent = agent;
    m.agentRunningSince = m.agentFreezes === 0 && m.machineFreezes === 0 ? this.now : null;
    this.deliver(m, agent.inc, () => void agent.controller.start());
  }

  // ------------------------------------------------------------------------------------------------ watchdog

  // The device, as the agent's DeviceWatchdog drives it.
  watchdogOpened(m: Machine): void {
    m.watchdog.open = true;
    this.watchdogPetted(m);
  }

  watchdogPetted(m: Machine): void {
    const wd = m.watchdog;
    wd.lastPetAt = this.now;
    if (!wd.checkPending) {
      wd.checkPending = true;
      this.agenda.push(wd.lastPetAt + this.setup.timing.watchdogTimeoutMs, { k: 'watchdog', node: m.idx, boot: m.boot });
    }
  }

  watchdogClosed(m: Machine, magic: boolean): void {
    if (magic) m.watchdog.open = false;
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
    m.watchdog = { open: false, lastPetAt: 0, checkPending: false, asked: false };
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
      case 'link_down': // the agent reads its links on every tick
        this.machines[f.node]!.links[f.net] = !start;
        return;
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
          // The agent's own SIGTERM handling, as run-agent.ts does it: the controller stops, and its watchdog decides
          // on the magic close. Nothing in it waits for what it owns.
          if (this.agentActive(m)) void m.agent.controller.stop();
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
      case 'health_failure':
        this.machines[f.node]!.agent?.reportHealth(f.resource, 'injected');
        return;
      case 'operator':
        return this.command(this.machines[f.node]!, f.command);
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
