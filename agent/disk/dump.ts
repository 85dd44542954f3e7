// What a mailbox disk holds, read straight from the device, for `hanfs disk dump` and for `disk init`'s refusal to
// overwrite: the header, and per node its status slot, its inbox and its intent log, each sector with its state
// (verified, unverified without the secret, empty, corrupt or foreign). Damaged content is reported by its reason,
// never as data.
import type { IntentRecord, Outbox, StatusRecord } from '../core/types.ts';
import { seconds, table } from '../text.ts';
import { leadingBytes, type IoMode, type SectorDevice } from './direct-io.ts';
import { decodeIntent } from './intent-records.ts';
import {
  decodeHeader, decodeInbox, decodeSlot, HEADER_READ_BYTES, intentSectors, MAILBOX_SECTORS, SLOT_COUNT, sectorIndex,
  type MailboxTimeouts, type NodeIndex, type RecordContext, type RecordRead, type SectorSize,
} from './layout.ts';

export type HeaderReport =
  | { state: 'valid'; pairId: string; uuid: string; sectorSize: SectorSize; slotCount: number; nodes: [string, string]; timeouts: MailboxTimeouts }
  | { state: 'empty' }
  | { state: 'corrupt'; reason: string };

export type SectorReport<T> = { sector: number } & (
  | { state: 'verified' | 'unverified'; seq: number; writtenAt: string; ageMs: number; record: T }
  | { state: 'empty' }
  | { state: 'corrupt' | 'foreign'; reason: string }
);

export interface NodeReport {
  index: NodeIndex;
  name: string;
  slot: SectorReport<StatusRecord>;
  inbox: SectorReport<Outbox>;
  /** The sectors of its intent log that hold something, oldest record first (damaged ones last). */
  intents: SectorReport<IntentRecord>[];
}

export interface MailboxDump {
  device: string;
  mode: IoMode;
  header: HeaderReport;
  /** Empty unless the header is valid: records cannot be read without it. */
  nodes: NodeReport[];
}

/** Reads the mailbox; `secret` null reads the records unauthenticated. Throws on I/O errors only. */
export function readMailbox(disk: SectorDevice, secret: Buffer | null, now: number): MailboxDump {
  const { path: device, mode, sizeBytes } = disk.info;
  const read = decodeHeader(disk.read(0, leadingBytes(disk.info, HEADER_READ_BYTES)));
  if (read.state !== 'valid') return { device, mode, header: read, nodes: [] };
  const { header } = read;
  const ctx: RecordContext = { header, secret };
  const sectorBytes = (sector: number): Buffer =>
    sector * header.sectorSize + header.sectorSize <= sizeBytes ? disk.read(sector * header.sectorSize, header.sectorSize) : Buffer.alloc(0);
  const nodes = ([0, 1] as const).map((index): NodeReport => {
    const slotSector = sectorIndex('slot', index);
    const inboxSector = sectorIndex('inbox', index);
    return {
      index,
      name: header.nodes[index],
      slot: report(slotSector, decodeSlot(ctx, index, sectorBytes(slotSector)), now),
      inbox: report(inboxSector, decodeInbox(ctx, index, sectorBytes(inboxSector)), now),
      intents: intentSectors(index).map((sector) => report(sector, decodeIntent(ctx, index, sectorBytes(sector)), now))
        .filter((r) => r.state !== 'empty').sort((x, y) => ('seq' in x ? x.seq : Infinity) - ('seq' in y ? y.seq : Infinity)),
    };
  });
  return {
    device,
    mode,
    header: {
      state: 'valid', pairId: header.pairId, uuid: formatUuid(header.uuid), sectorSize: header.sectorSize,
      slotCount: SLOT_COUNT, nodes: header.nodes, timeouts: header.timeouts,
    },
    nodes,
  };
}

/** One line on what the device holds, or null when its mailbox area is all zeroes (nothing to lose). */
export function describeContent(disk: SectorDevice, secret: Buffer | null, now: number, areaBytes: number): string | null {
  const dump = readMailbox(disk, secret, now);
  const { header } = dump;
  if (header.state === 'corrupt') return `data without a valid hanfs header (sector 0: ${header.reason})`;
  if (header.state === 'valid') {
    const ages = dump.nodes.flatMap(({ slot, inbox }) => [slot, inbox]).flatMap((s) => ('ageMs' in s ? [s.ageMs] : []));
    const activity = ages.length > 0 ? `last written ${formatAge(Math.min(...ages))} ago` : 'no records written yet';
    return `the hanfs mailbox of pair "${header.pairId}" (nodes ${header.nodes.join(', ')}; uuid ${header.uuid}; ${activity})`;
  }
  const area = disk.read(0, leadingBytes(disk.info, areaBytes));
  return area.some((b) => b !== 0) ? 'non-zero data in the mailbox area (no hanfs header)' : null;
}

/**
 * What in the dump does not verify, one line each: a header that is not hanfs's, and every sector that is corrupt
 * (torn, a bad HMAC: damaged or written with another secret) or foreign (another pair's, another slot's). Empty:
 * everything read verified, or was unverified for want of the secret, or was never written.
 */
export function unverifiable(dump: MailboxDump): string[] {
  if (dump.header.state === 'corrupt') return [`header: corrupt: ${dump.header.reason}`];
  const problems: string[] = [];
  for (const node of dump.nodes) {
    for (const [what, sector] of [['slot', node.slot], ['inbox', node.inbox], ...node.intents.map((s) => ['intent log', s] as const)] as const) {
      if ('reason' in sector) problems.push(`${what} of ${node.name} (sector ${sector.sector}): ${sector.state}: ${sector.reason}`);
    }
  }
  return problems;
}

export function formatDump(dump: MailboxDump): string {
  const lines = [`device    ${dump.device} (${dump.mode === 'direct' ? 'O_DIRECT' : 'O_DSYNC through the page cache: O_DIRECT refused'})`];
  const { header } = dump;
  if (header.state !== 'valid') {
    lines.push(`header    ${header.state === 'empty' ? 'empty: not initialised (hanfs disk init)' : `corrupt: ${header.reason}`}`);
    return `${lines.join('\n')}\n`;
  }
  const t = header.timeouts;
  lines.push(
    `pair      ${header.pairId}`,
    `uuid      ${header.uuid}`,
    `sectors   ${MAILBOX_SECTORS} of ${header.sectorSize} bytes; ${header.slotCount} slots: ${header.nodes.map((n, i) => `${i} ${n}`).join(', ')}`,
    `timeouts  ${t.diskIntervalMs ? `disk interval ${t.diskIntervalMs} ms, disk I/O ${t.diskIoTimeoutMs} ms, self-fence lease ${t.selfFenceLeaseMs} ms (as at init)` : 'not recorded'}`,
    '',
    table([SLOT_COLUMNS, ...dump.nodes.map(slotRow)]),
    '',
    table([INBOX_COLUMNS, ...dump.nodes.map(inboxRow)]),
  );
  for (const node of dump.nodes) {
    lines.push('', node.intents.length === 0 ? `intent log of ${node.name}: empty` : table([INTENT_COLUMNS(node.name), ...node.intents.map(intentRow)]));
  }
  return `${lines.join('\n')}\n`;
}

const SLOT_COLUMNS = ['slot of', 'sector', 'state', 'seq', 'gen', 'counter', 'phase', 'owns', 'isolated', 'pong', 'ack fence', 'handled r/h/t', 'age'];
const INBOX_COLUMNS = ['inbox of', 'sector', 'state', 'seq', 'fence', 'ping', 'reintegrate', 'handover', 'takeover', 'age'];

const INTENT_COLUMNS = (name: string) => [`intent log of ${name}`, 'sector', 'state', 'transition', 'term', 'step', 'outcome', 'detail', 'age'];

function intentRow(sector: SectorReport<IntentRecord>): string[] {
  if (!('record' in sector)) return [`—`, String(sector.sector), stateText(sector)];
  const r = sector.record;
  const step = r.step ? `${r.step.op} ${r.step.group}/${r.step.resource}` : '-';
  return [
    `#${sector.seq}`, String(sector.sector), sector.state, r.transition, String(r.term), step, r.state, r.detail || '-', formatAge(sector.ageMs),
  ];
}

function slotRow({ name, slot }: NodeReport): string[] {
  if (!('record' in slot)) return [name, String(slot.sector), stateText(slot)];
  const r = slot.record;
  return [
    name, String(slot.sector), slot.state, String(slot.seq), String(r.gen), String(r.counter), r.phase, r.owns.join(',') || '-',
    r.isolated ? 'yes' : 'no', String(r.pong), String(r.ackFenceTerm), `${r.handledReintegrate}/${r.handledHandover}/${r.handledTakeover}`,
    formatAge(slot.ageMs),
  ];
}

function inboxRow({ name, inbox }: NodeReport): string[] {
  if (!('record' in inbox)) return [name, String(inbox.sector), stateText(inbox)];
  const r = inbox.record;
  return [
    name, String(inbox.sector), inbox.state, String(inbox.seq), formatFence(r), String(r.ping), String(r.reintegrateRequest),
    String(r.handover), String(r.takeoverRequest), formatAge(inbox.ageMs),
  ];
}

function report<T>(sector: number, read: RecordRead<T>, now: number): SectorReport<T> {
  switch (read.state) {
    case 'verified':
    case 'unverified':
      return {
        sector, state: read.state, seq: read.seq, writtenAt: new Date(read.writtenAt).toISOString(),
        ageMs: now - read.writtenAt, record: read.payload,
      };
    case 'empty':
      return { sector, state: 'empty' };
    case 'corrupt':
    case 'foreign':
      return { sector, state: read.state, reason: read.reason };
  }
}

function stateText(sector: SectorReport<unknown>): string {
  return 'reason' in sector ? `${sector.state}: ${sector.reason}` : sector.state;
}

function formatFence(outbox: Outbox): string {
  return outbox.fence ? `term ${outbox.fence.term} ${outbox.fence.active ? 'active' : 'released'}` : '-';
}

/** Age by the writer's wall clock against ours: for humans, as good as the two clocks agree. */
const formatAge = seconds;

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}
