// In-memory stand-ins for the agent's ports, for testing the controller without sockets, disks or root: a network
// that links two transports, a mailbox disk shared by two nodes, and probes answered while the peer is "up".
import type { Heartbeat, IntentRecord, MailboxView, NetId, Outbox, StatusRecord } from '../../agent/core/types.ts';
import {
  noDrops, type HeartbeatDropReason, type HeartbeatExtras, type HeartbeatTransport, type IcmpProber, type Mailbox,
  type MailboxWrite, type NetworkTraffic, type Watchdog,
} from '../../agent/ports.ts';

export class FakeNetwork {
  readonly ends: (FakeTransport | null)[] = [null, null];
  up = true;
}

export class FakeTransport implements HeartbeatTransport {
  private deliver: ((net: NetId, hb: Heartbeat, extras: HeartbeatExtras) => void) | null = null;
  sent = 0;
  constructor(private readonly network: FakeNetwork, private readonly index: 0 | 1, private readonly nets: NetId[]) {
    network.ends[index] = this;
  }
  async start(cb: (net: NetId, hb: Heartbeat, extras: HeartbeatExtras) => void): Promise<void> {
    this.deliver = cb;
  }
  send(hb: Heartbeat, extras: HeartbeatExtras): void {
    this.sent++;
    const peer = this.network.ends[1 - this.index];
    if (!this.network.up || !peer) return;
    for (const net of this.nets) setImmediate(() => peer.deliver?.(net, structuredClone(hb), extras));
  }
  drops(): Record<HeartbeatDropReason, number> {
    return noDrops();
  }
  /** No round trips in memory: a fixed 0.5 ms once anything was sent, so that status shows a number. */
  traffic(): Record<NetId, NetworkTraffic> {
    return Object.fromEntries(this.nets.map((net) => [net, { sent: this.sent, received: 0, rttMs: this.sent > 0 ? 0.5 : null }]));
  }
  async close(): Promise<void> {
    this.network.ends[this.index] = null;
    this.deliver = null;
  }
}

/** ICMP answered while the peer's machine is up: `machineUp` is set by the test. */
export class FakeProber implements IcmpProber {
  constructor(private readonly machineUp: () => boolean) {}
  probe(_net: NetId, _timeoutMs: number, onReply: () => void): void {
    if (this.machineUp()) setImmediate(onReply);
  }
  close(): void {}
}

export class FakeDisk {
  slots: (StatusRecord | null)[] = [null, null];
  inboxes: (Outbox | null)[] = [null, null];
  intents: IntentRecord[][] = [[], []];
}

export class FakeMailbox implements Mailbox {
  constructor(private readonly disk: FakeDisk, private readonly index: 0 | 1) {}
  async cycle(write: MailboxWrite | null, _deadlineMs: number, readIntents: ReadonlyArray<'own' | 'partner'> = []): Promise<MailboxView> {
    const other = 1 - this.index;
    if (write) {
      this.disk.slots[this.index] = structuredClone(write.slot);
      this.disk.inboxes[other] = structuredClone(write.outbox);
      this.disk.intents[this.index]!.push(...structuredClone(write.intents));
    }
    const partnerSlot = this.disk.slots[other]!;
    const view: MailboxView = {
      ownSlot: this.disk.slots[this.index]!, ownOutbox: this.disk.inboxes[other]!,
      inbox: this.disk.inboxes[this.index]!, partnerSlot,
    };
    if (readIntents.includes('own')) view.ownIntents = this.disk.intents[this.index];
    if (readIntents.includes('partner')) view.partnerIntents = this.disk.intents[other];
    return structuredClone(view);
  }
  async close(): Promise<void> {}
}

export class RecordingWatchdog implements Watchdog {
  armed: (number | null)[] = [];
  arm(until: number | null): void {
    this.armed.push(until);
  }
  close(): void {}
}
