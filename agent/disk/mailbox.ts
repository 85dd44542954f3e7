// The Mailbox port on a shared block device (layout.ts): each cycle writes this node's status slot and the
// partner's inbox, then reads the four records that concern this node. The I/O runs in its own thread
// (io-thread.ts), so a hung disk delays nothing but the cycle, which then misses its deadline.
import type { IntentRecord, MailboxView, NodeId, Outbox, StatusRecord } from '../core/types.ts';
import { rateLimited, type RateLimitedLog } from '../log.ts';
import type { LogFn, Mailbox, MailboxWrite } from '../ports.ts';
import { leadingBytes, type IoMode } from './direct-io.ts';
import { decodeIntent, encodeIntent } from './intent-records.ts';
import { IoThread } from './io-thread.ts';
import {
  decodeHeader, decodeInbox, decodeSlot, describeSector, encodeInbox, encodeSlot, HEADER_READ_BYTES, intentSector,
  intentSectors, MAILBOX_SECTORS, partnerOf, sectorIndex,
  type Encoded, type HeaderRead, type MailboxHeader, type NodeIndex, type RecordContext, type RecordRead,
} from './layout.ts';

export interface DiskMailboxOptions {
  device: string;
  /** This node's slot: its position in the config's list of nodes. */
  selfIndex: NodeIndex;
  secret: Buffer;
  /** When given, a mailbox of another pair is refused. */
  pairId?: string;
  /** The pair's nodes in config order; when given, a mailbox with other nodes, or in another order, is refused. */
  nodes?: [NodeId, NodeId];
  log?: LogFn;
  /** Deadline of open() as a whole: starting the I/O thread, opening the device, reading the header and our sectors. */
  openDeadlineMs?: number;
}

const DEFAULT_OPEN_DEADLINE_MS = 10_000;

export class DiskMailbox implements Mailbox {
  private readonly ctx: RecordContext;
  private readonly partner: NodeIndex;
  /** Last sequence numbers of the two sectors this node writes; each write takes the next. */
  private readonly seq = { slot: 0, outbox: 0 };

  private readonly warnings: RateLimitedLog;

  private constructor(
    private readonly thread: IoThread, readonly header: MailboxHeader, private readonly self: NodeIndex, secret: Buffer, log: LogFn,
  ) {
    this.ctx = { header, secret };
    this.partner = partnerOf(self);
    this.warnings = rateLimited(log, 10_000);
  }

  private warn(sector: number, message: string): void {
    this.warnings(`sector-${sector}`, 'warn', message, { event: 'mailbox_sector' });
  }

  /** How the device was opened: 'direct' (O_DIRECT | O_SYNC) or 'dsync' (through the page cache; see direct-io.ts). */
  get mode(): IoMode {
    return this.thread.info.mode;
  }

  static async open(opts: DiskMailboxOptions): Promise<DiskMailbox> {
    if (opts.selfIndex !== 0 && opts.selfIndex !== 1) throw new Error(`selfIndex ${String(opts.selfIndex)}: expected 0 or 1`);
    const until = performance.now() + (opts.openDeadlineMs ?? DEFAULT_OPEN_DEADLINE_MS);
    const remaining = (): number => Math.max(0, until - performance.now());
    const thread = await IoThread.start(opts.device, remaining());
    try {
      const { info } = thread;
      if (info.mode === 'dsync') {
        opts.log?.('warn', `mailbox ${opts.device}: not using O_DIRECT: ${info.directRefused}; using O_DSYNC through the page cache, which is sound only while both nodes run on one kernel (the namespace lab)`, { event: 'mailbox_dsync' });
      }
      const [headerBytes] = await thread.run({ writes: [], reads: [{ offset: 0, length: leadingBytes(info, HEADER_READ_BYTES) }] }, remaining());
      const header = checkHeader(opts, decodeHeader(headerBytes!), info.sizeBytes, info.logicalBlockSize);
      const mailbox = new DiskMailbox(thread, header, opts.selfIndex, opts.secret, opts.log ?? (() => {}));
      await mailbox.resumeSequences(remaining());
      return mailbox;
    } catch (err) {
      await thread.close();
      throw err;
    }
  }

  async cycle(write: MailboxWrite | null, deadlineMs: number, readIntents: ReadonlyArray<'own' | 'partner'> = []): Promise<MailboxView> {
    const writes = write
      ? [this.slotWrite(write.slot), this.outboxWrite(write.outbox), ...write.intents.map((r) => this.intentWrite(r))]
      : [];
    const sectors = [
      sectorIndex('slot', this.self), sectorIndex('inbox', this.partner), sectorIndex('inbox', this.self), sectorIndex('slot', this.partner),
    ];
    const logs = readIntents.map((whose) => intentSectors(whose === 'own' ? this.self : this.partner));
    const reads = await this.thread.run({ writes, reads: [...sectors, ...logs.flat()].map((s) => this.range(s)) }, deadlineMs);
    const [ownSlot, ownOutbox, inbox, partnerSlot] = reads;
    const view: MailboxView = {
      ownSlot: this.readAsNone(sectors[0]!, decodeSlot(this.ctx, this.self, ownSlot!)),
      ownOutbox: this.accept(sectors[1]!, decodeInbox(this.ctx, this.partner, ownOutbox!)),
      inbox: this.readAsNone(sectors[2]!, decodeInbox(this.ctx, this.self, inbox!)),
      partnerSlot: this.readAsNone(sectors[3]!, decodeSlot(this.ctx, this.partner, partnerSlot!)),
    };
    let at = sectors.length;
    readIntents.forEach((whose, i) => {
      const node = whose === 'own' ? this.self : this.partner;
      const records = logs[i]!.map((sector) => this.readAsNone(sector, decodeIntent(this.ctx, node, reads[at++]!)));
      view[whose === 'own' ? 'ownIntents' : 'partnerIntents'] = records.filter((r): r is IntentRecord => r !== null).sort((a, b) => a.seq - b.seq);
    });
    return view;
  }

  /**
   * A sector the partner writes that does not verify (torn by its crash mid-write, or damaged) is reported and read
   * as no record: acted on never, but it must not fail the cycle, or our own writes that did land would not renew
   * our lease. Our own slot likewise: read back as none it renews nothing (the core renews only on a slot that read
   * back as written), and a torn one must not keep a restarted agent from ever reading the mailbox. Our own outbox
   * still fails the cycle (accept): it holds our fence. A damaged record of an intent log, ours or the partner's, is
   * read as none in the same way: the log goes on without it.
   */
  private readAsNone<T>(sector: number, read: RecordRead<T>): T | null {
    try {
      return this.accept(sector, read);
    } catch (err) {
      this.warn(sector, (err as Error).message);
      return null;
    }
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  /** Sequence numbers go on from what is on the disk, so they keep increasing across restarts of the agent. */
  private async resumeSequences(deadlineMs: number): Promise<void> {
    const slotSector = sectorIndex('slot', this.self);
    const outboxSector = sectorIndex('inbox', this.partner);
    const [slot, outbox] = await this.thread.run({ writes: [], reads: [this.range(slotSector), this.range(outboxSector)] }, deadlineMs);
    // A damaged sector says nothing trustworthy, not even its number: start again from 1; the next write repairs it.
    this.seq.slot = seqOf(decodeSlot(this.ctx, this.self, slot!));
    this.seq.outbox = seqOf(decodeInbox(this.ctx, this.partner, outbox!));
  }

  private slotWrite(status: StatusRecord): { offset: number; bytes: Uint8Array } {
    this.seq.slot += 1;
    const encoded = encodeSlot(this.ctx, this.self, this.seq.slot, Date.now(), status);
    return this.sectorWrite(sectorIndex('slot', this.self), encoded);
  }

  private outboxWrite(outbox: Outbox): { offset: number; bytes: Uint8Array } {
    this.seq.outbox += 1;
    const encoded = encodeInbox(this.ctx, this.partner, this.seq.outbox, Date.now(), outbox);
    return this.sectorWrite(sectorIndex('inbox', this.partner), encoded);
  }

  private intentWrite(record: IntentRecord): { offset: number; bytes: Uint8Array } {
    return this.sectorWrite(intentSector(this.self, record.seq), encodeIntent(this.ctx, this.self, Date.now(), record));
  }

  private sectorWrite(sector: number, encoded: Encoded): { offset: number; bytes: Uint8Array } {
    if (!encoded.ok) throw new Error(`${this.thread.info.path}: cannot encode ${describeSector(this.header, sector)}: ${encoded.error}`);
    return { offset: sector * this.header.sectorSize, bytes: encoded.bytes };
  }

  private range(sector: number): { offset: number; length: number } {
    return { offset: sector * this.header.sectorSize, length: this.header.sectorSize };
  }

  /** An empty sector is no record yet; a damaged or foreign one must not be acted on, nor silently taken for empty. */
  private accept<T>(sector: number, read: RecordRead<T>): T | null {
    if (read.state === 'empty') return null;
    if (read.state === 'corrupt' || read.state === 'foreign') {
      throw new Error(`${this.thread.info.path}: ${describeSector(this.header, sector)} is ${read.state}: ${read.reason}`);
    }
    // Verified: this mailbox always decodes with the secret.
    return read.payload;
  }
}

function checkHeader(
  opts: DiskMailboxOptions, read: HeaderRead, sizeBytes: number, logicalBlockSize: number,
): MailboxHeader {
  const device = opts.device;
  if (read.state === 'empty') throw new Error(`${device}: not an initialised hanfs mailbox (sector 0 is all zeroes): run hanfs disk init`);
  if (read.state === 'corrupt') throw new Error(`${device}: sector 0 (header): ${read.reason}`);
  const { header } = read;
  if (opts.pairId !== undefined && header.pairId !== opts.pairId) {
    throw new Error(`${device}: the mailbox of pair "${header.pairId}", not of "${opts.pairId}"`);
  }
  if (opts.nodes && (header.nodes[0] !== opts.nodes[0] || header.nodes[1] !== opts.nodes[1])) {
    throw new Error(`${device}: the mailbox's slots are for ${header.nodes.join(', ')} in that order; the pair's nodes are ${opts.nodes.join(', ')}`);
  }
  if (header.sectorSize % logicalBlockSize !== 0) {
    throw new Error(`${device}: mailbox sectors of ${header.sectorSize} bytes, but the device's blocks are ${logicalBlockSize} bytes`);
  }
  if (sizeBytes < MAILBOX_SECTORS * header.sectorSize) {
    throw new Error(`${device}: ${sizeBytes} bytes, the mailbox needs ${MAILBOX_SECTORS} sectors of ${header.sectorSize}`);
  }
  return header;
}

function seqOf(read: RecordRead<unknown>): number {
  return read.state === 'verified' ? read.seq : 0;
}
