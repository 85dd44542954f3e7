// The mailbox disk's layout, after SBD: a header sector, then per node a status slot (written only by that node)
// and an inbox (written only by its partner). One writer per sector means no locks: each node only ever overwrites
// its own two sectors, one sector per write, so a reader sees either the old or the new record, never a mixture
// (a torn write, possible with 4096-byte mailbox sectors on a disk that writes 512 bytes atomically, fails the
// HMAC instead).
//
// S is the sector size, 512 or 4096 (at least the device's logical block size, which O_DIRECT requires).
// Little-endian throughout. Names are ASCII, zero-padded to 32 bytes. u64 fields hold integers up to 2^53 − 1.
//
// | sector | what                     | written by |
// | ------ | ------------------------ | ---------- |
// | 0      | header                   | disk init  |
// | 1      | status slot of node 0    | node 0     |
// | 2      | inbox of node 0          | node 1     |
// | 3      | status slot of node 1    | node 1     |
// | 4      | inbox of node 1          | node 0     |
// | 5–20   | intent log of node 0     | node 0     |
// | 21–36  | intent log of node 1     | node 1     |
//
// An intent log is a ring of INTENT_LOG_RECORDS sectors, one record each (intent-records.ts): record number n goes
// to sector n mod INTENT_LOG_RECORDS of the ring, so the ring holds the node's last records.
//
// Header (sector 0)
// | offset | size | field                                                                    |
// | ------ | ---- | ------------------------------------------------------------------------ |
// | 0      | 8    | magic "HANFSMBX"                                                         |
// | 8      | 2    | layout version, u16 = 2                                                  |
// | 10     | 1    | kind, 1 = header                                                         |
// | 11     | 1    | slot count = 2                                                           |
// | 12     | 2    | sector size S, u16: 512 or 4096                                          |
// | 14     | 2    | intent log records per node, u16 = 16                                    |
// | 16     | 16   | uuid: random at init, copied into every record                           |
// | 32     | 32   | pair id                                                                  |
// | 64     | 32   | name of node 0 (the node listed first in the config)                     |
// | 96     | 32   | name of node 1                                                           |
// | 128    | 4    | diskIntervalMs, u32 (as at init, for information; 0 = not recorded)      |
// | 132    | 4    | diskIoTimeoutMs, u32 (idem)                                              |
// | 136    | 4    | selfFenceLeaseMs, u32 (idem)                                             |
// | 140    | …    | zero                                                                     |
// | S−32   | 32   | SHA-256 of bytes 0..S−33 (a checksum, not a MAC: any reader may read it) |
//
// Record sectors (slots and inboxes)
// | offset | size | field                                                                    |
// | ------ | ---- | ------------------------------------------------------------------------ |
// | 0      | 8    | magic "HANFSMBX"                                                         |
// | 8      | 2    | layout version, u16 = 2                                                  |
// | 10     | 1    | kind: 2 = status slot, 3 = inbox, 4 = intent record                      |
// | 11     | 1    | writer: index of the node that wrote it                                  |
// | 12     | 4    | zero                                                                     |
// | 16     | 16   | uuid, from the header: a record of another mailbox is foreign            |
// | 32     | 8    | seq, u64: increases with every write of this sector (of an intent        |
// |        |      | record: the record's number, which increases with every record)          |
// | 40     | 8    | writtenAt, u64: the writer's wall clock in ms, for humans only           |
// | 48     | …    | payload, below                                                           |
// | …      | …    | zero                                                                     |
// | S−32   | 32   | HMAC-SHA256 of bytes 0..S−33, keyed with the pair's shared secret        |
//
// Status slot payload (StatusRecord)
// | 48     | 32   | node name (must be the header's name for this slot)                      |
// | 80     | 8    | gen, u64                                                                 |
// | 88     | 8    | counter, u64                                                             |
// | 96     | 8    | pong, u64                                                                |
// | 104    | 8    | ackFenceTerm, u64                                                        |
// | 112    | 8    | handledReintegrate, u64                                                  |
// | 120    | 8    | handledHandover, u64                                                     |
// | 128    | 8    | handledTakeover, u64                                                     |
// | 136    | 1    | phase: its code in PHASE_CODES                                           |
// | 137    | 1    | owns: bit i set when the group of node i is owned                        |
// | 138    | 1    | isolated, 0 or 1                                                         |
//
// Inbox payload (Outbox, from the writer to the inbox's node)
// | 48     | 1    | fence present, 0 or 1                                                    |
// | 49     | 1    | fence active, 0 or 1 (0 without a fence)                                 |
// | 50     | 6    | zero                                                                     |
// | 56     | 8    | fence term, u64 (0 without a fence)                                      |
// | 64     | 8    | ping, u64                                                                |
// | 72     | 8    | reintegrateRequest, u64                                                  |
// | 80     | 8    | handover, u64                                                            |
// | 88     | 8    | takeoverRequest, u64                                                     |
//
// Every sector has exactly one encoding: a decoder re-encodes what it read and compares, so a flipped bit in a
// reserved or padding byte is caught even in a record read without the secret. A sector of zeroes is "empty"
// (never written since init): an all-zero sector can never be a record, since every record has the magic.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { INTENT_LOG_RECORDS } from '../core/intent.ts';
import type { FenceRecord, NodeId, Outbox, Phase, StatusRecord } from '../core/types.ts';

const MAGIC = Buffer.from('HANFSMBX', 'latin1');
/** Version 2 added the intent logs. */
const LAYOUT_VERSION = 2;
export const SLOT_COUNT = 2;
export const SECTOR_SIZES = [512, 4096] as const;
export type SectorSize = (typeof SECTOR_SIZES)[number];
export const MAILBOX_SECTORS = 1 + 2 * SLOT_COUNT + SLOT_COUNT * INTENT_LOG_RECORDS;
/** Read from the start of the device before the sector size is known: covers a header of either size. */
export const HEADER_READ_BYTES = Math.max(...SECTOR_SIZES);
const DIGEST_BYTES = 32;
const NAME_BYTES = 32;

export type NodeIndex = 0 | 1;
export type RecordKind = 'slot' | 'inbox' | 'intent';

const KIND_CODES = { header: 1, slot: 2, inbox: 3, intent: 4 } as const;

/**
 * A phase's one-byte code in the pair's status records, on the disk (the slot) and on the wire (heartbeat-codec.ts).
 * Never reorder: the code is what is on the disk. A new phase gets the next code.
 */
export const PHASE_CODES: Readonly<Record<Phase, number>> = {
  booting: 0, starting: 1, normal: 2, suspecting: 3, probing: 4, partner_degraded: 5, power_fencing: 6,
  fencing_partner: 7, taking_over: 8, serving_both: 9, releasing: 10, handing_over: 11, fenced: 12,
  reintegrating: 13, self_fenced: 14,
};
const PHASE_BY_CODE = new Map(Object.entries(PHASE_CODES).map(([phase, code]) => [code, phase as Phase]));

/** The phase a status record's code names, or undefined for a code no phase has. */
export function phaseOfCode(code: number): Phase | undefined {
  return PHASE_BY_CODE.get(code);
}

/** The pair id and node names accepted by the config; node names start with a letter there. */
const PAIR_ID = /^[a-z0-9-]{1,32}$/;
const NODE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

const HEADER = {
  magic: 0, version: 8, kind: 10, slotCount: 11, sectorSize: 12, intentRecords: 14, uuid: 16, pairId: 32, nodes: [64, 96],
  diskIntervalMs: 128, diskIoTimeoutMs: 132, selfFenceLeaseMs: 136,
} as const;
const RECORD = { magic: 0, version: 8, kind: 10, writer: 11, uuid: 16, seq: 32, writtenAt: 40 } as const;
const SLOT = {
  node: 48, gen: 80, counter: 88, pong: 96, ackFenceTerm: 104, handledReintegrate: 112, handledHandover: 120,
  handledTakeover: 128, phase: 136, owns: 137, isolated: 138,
} as const;
const INBOX = {
  fencePresent: 48, fenceActive: 49, fenceTerm: 56, ping: 64, reintegrateRequest: 72, handover: 80,
  takeoverRequest: 88,
} as const;
const UUID_BYTES = 16;

export interface MailboxTimeouts {
  diskIntervalMs: number;
  diskIoTimeoutMs: number;
  selfFenceLeaseMs: number;
}

export interface MailboxHeader {
  sectorSize: SectorSize;
  /** 16 bytes. */
  uuid: Buffer;
  pairId: string;
  /** Slot order: index 0 is the node listed first in the config. */
  nodes: [NodeId, NodeId];
  timeouts: MailboxTimeouts;
}

/** What a record is checked against: the header, and the secret (null: parse without authenticating, for dumps). */
export interface RecordContext {
  header: MailboxHeader;
  secret: Buffer | null;
}

export type Encoded = { ok: true; bytes: Buffer } | { ok: false; error: string };

export type HeaderRead =
  | { state: 'valid'; header: MailboxHeader }
  | { state: 'empty' }
  | { state: 'corrupt'; reason: string };

interface RecordData<T> {
  seq: number;
  writtenAt: number;
  payload: T;
}

/** 'unverified': parsed without the secret (a dump of an unknown pair), so anyone could have written it. */
export type RecordRead<T> =
  | ({ state: 'verified' } & RecordData<T>)
  | ({ state: 'unverified' } & RecordData<T>)
  | { state: 'empty' }
  | { state: 'corrupt'; reason: string }
  | { state: 'foreign'; reason: string };

/** Where a record lives: node i's slot is sector 1 + 2i, its inbox the sector after. */
export function sectorIndex(kind: 'slot' | 'inbox', node: NodeIndex): number {
  return 1 + 2 * node + (kind === 'inbox' ? 1 : 0);
}

const INTENT_BASE = 1 + 2 * SLOT_COUNT;

/** The sector of record number `seq` in node i's intent log. */
export function intentSector(node: NodeIndex, seq: number): number {
  return INTENT_BASE + node * INTENT_LOG_RECORDS + (seq % INTENT_LOG_RECORDS);
}

/** Every sector of node i's intent log, in ring order. */
export function intentSectors(node: NodeIndex): number[] {
  return Array.from({ length: INTENT_LOG_RECORDS }, (_, k) => INTENT_BASE + node * INTENT_LOG_RECORDS + k);
}

/** Only node i writes its slot and its intent log; only its partner writes its inbox. */
export function writerOf(kind: RecordKind, node: NodeIndex): NodeIndex {
  return kind === 'inbox' ? partnerOf(node) : node;
}

export function partnerOf(node: NodeIndex): NodeIndex {
  return node === 0 ? 1 : 0;
}

export function describeSector(header: Pick<MailboxHeader, 'nodes'>, sector: number): string {
  if (sector === 0) return 'sector 0 (header)';
  if (sector >= INTENT_BASE) {
    const owner = Math.floor((sector - INTENT_BASE) / INTENT_LOG_RECORDS);
    return `sector ${sector} (intent log of ${header.nodes[owner] ?? `node ${owner}`})`;
  }
  const node = (sector - 1) >> 1;
  const name = header.nodes[node] ?? `node ${node}`;
  const writer = header.nodes[1 - node] ?? `node ${1 - node}`;
  return sector % 2 === 1 ? `sector ${sector} (status slot of ${name})` : `sector ${sector} (inbox of ${name}, written by ${writer})`;
}

// ---- header ----

export function encodeHeader(header: MailboxHeader): Encoded {
  const error = checkHeader(header);
  if (error) return { ok: false, error };
  const bytes = Buffer.alloc(header.sectorSize);
  MAGIC.copy(bytes, HEADER.magic);
  bytes.writeUInt16LE(LAYOUT_VERSION, HEADER.version);
  bytes[HEADER.kind] = KIND_CODES.header;
  bytes[HEADER.slotCount] = SLOT_COUNT;
  bytes.writeUInt16LE(header.sectorSize, HEADER.sectorSize);
  bytes.writeUInt16LE(INTENT_LOG_RECORDS, HEADER.intentRecords);
  header.uuid.copy(bytes, HEADER.uuid);
  putName(bytes, HEADER.pairId, header.pairId);
  header.nodes.forEach((name, i) => putName(bytes, HEADER.nodes[i]!, name));
  bytes.writeUInt32LE(header.timeouts.diskIntervalMs, HEADER.diskIntervalMs);
  bytes.writeUInt32LE(header.timeouts.diskIoTimeoutMs, HEADER.diskIoTimeoutMs);
  bytes.writeUInt32LE(header.timeouts.selfFenceLeaseMs, HEADER.selfFenceLeaseMs);
  sha256(bytes.subarray(0, -DIGEST_BYTES)).copy(bytes, header.sectorSize - DIGEST_BYTES);
  return { ok: true, bytes };
}

/** Reads the header from the start of the device: `bytes` may be longer than the header's sector. */
export function decodeHeader(bytes: Uint8Array): HeaderRead {
  const buf = asBuffer(bytes);
  const minimum = SECTOR_SIZES[0];
  if (buf.length < minimum) return { state: 'corrupt', reason: `only ${buf.length} bytes, a header sector has at least ${minimum}` };
  if (isZero(buf.subarray(0, minimum))) return { state: 'empty' };
  const prefix = checkPrefix(buf, 'header');
  if (prefix) return { state: 'corrupt', reason: prefix };
  const slotCount = buf[HEADER.slotCount]!;
  if (slotCount !== SLOT_COUNT) return { state: 'corrupt', reason: `${slotCount} slots, this hanfs has ${SLOT_COUNT}` };
  const intentRecords = buf.readUInt16LE(HEADER.intentRecords);
  if (intentRecords !== INTENT_LOG_RECORDS) {
    return { state: 'corrupt', reason: `intent logs of ${intentRecords} records, this hanfs has ${INTENT_LOG_RECORDS}` };
  }
  const sectorSize = buf.readUInt16LE(HEADER.sectorSize);
  if (!isSectorSize(sectorSize)) return { state: 'corrupt', reason: `sector size ${sectorSize}, expected 512 or 4096` };
  if (buf.length < sectorSize) return { state: 'corrupt', reason: `declares ${sectorSize}-byte sectors, only ${buf.length} bytes read` };
  const sector = buf.subarray(0, sectorSize);
  if (!timingSafeEqual(sha256(sector.subarray(0, -DIGEST_BYTES)), sector.subarray(-DIGEST_BYTES))) {
    return { state: 'corrupt', reason: 'bad checksum' };
  }
  const pairId = getName(sector, HEADER.pairId);
  const node0 = getName(sector, HEADER.nodes[0]);
  const node1 = getName(sector, HEADER.nodes[1]);
  if (pairId === null || node0 === null || node1 === null) return { state: 'corrupt', reason: 'a name is not ASCII' };
  const header: MailboxHeader = {
    sectorSize,
    uuid: Buffer.from(sector.subarray(HEADER.uuid, HEADER.uuid + UUID_BYTES)),
    pairId,
    nodes: [node0, node1],
    timeouts: {
      diskIntervalMs: sector.readUInt32LE(HEADER.diskIntervalMs),
      diskIoTimeoutMs: sector.readUInt32LE(HEADER.diskIoTimeoutMs),
      selfFenceLeaseMs: sector.readUInt32LE(HEADER.selfFenceLeaseMs),
    },
  };
  const again = encodeHeader(header);
  if (!again.ok) return { state: 'corrupt', reason: again.error };
  if (!again.bytes.equals(sector)) return { state: 'corrupt', reason: 'not in canonical form (stray bytes)' };
  return { state: 'valid', header };
}

function checkHeader(header: MailboxHeader): string | null {
  if (!isSectorSize(header.sectorSize)) return `sector size ${header.sectorSize}, expected 512 or 4096`;
  if (!Buffer.isBuffer(header.uuid) || header.uuid.length !== UUID_BYTES) return `uuid: expected ${UUID_BYTES} bytes`;
  if (!PAIR_ID.test(header.pairId)) return `pair id "${header.pairId}": expected 1 to 32 characters a-z, 0-9 or -`;
  for (const name of header.nodes) {
    if (!NODE_NAME.test(name)) return `node name "${name}": expected a letter, then up to 31 characters a-z, 0-9 or -`;
  }
  if (header.nodes[0] === header.nodes[1]) return `node names: both are "${header.nodes[0]}"`;
  for (const [field, value] of Object.entries(header.timeouts)) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) return `${field} ${value}: expected an integer 0..2^32-1`;
  }
  return null;
}

// ---- records ----

export function encodeSlot(ctx: RecordContext, node: NodeIndex, seq: number, writtenAt: number, status: StatusRecord): Encoded {
  const error = checkStatus(ctx.header, node, status);
  if (error) return { ok: false, error };
  return encodeRecord(ctx, 'slot', node, seq, writtenAt, (bytes) => {
    putName(bytes, SLOT.node, status.node);
    putCount(bytes, SLOT.gen, status.gen);
    putCount(bytes, SLOT.counter, status.counter);
    putCount(bytes, SLOT.pong, status.pong);
    putCount(bytes, SLOT.ackFenceTerm, status.ackFenceTerm);
    putCount(bytes, SLOT.handledReintegrate, status.handledReintegrate);
    putCount(bytes, SLOT.handledHandover, status.handledHandover);
    putCount(bytes, SLOT.handledTakeover, status.handledTakeover);
    bytes[SLOT.phase] = PHASE_CODES[status.phase];
    bytes[SLOT.owns] = status.owns.reduce((mask, group) => mask | (1 << ctx.header.nodes.indexOf(group)), 0);
    bytes[SLOT.isolated] = status.isolated ? 1 : 0;
  });
}

export function decodeSlot(ctx: RecordContext, node: NodeIndex, bytes: Uint8Array): RecordRead<StatusRecord> {
  return decodeRecord(ctx, 'slot', node, bytes, (buf) => {
    const phase = phaseOfCode(buf[SLOT.phase]!);
    if (phase === undefined) return `unknown phase code ${buf[SLOT.phase]}`;
    const owns = ctx.header.nodes.filter((_, i) => (buf[SLOT.owns]! & (1 << i)) !== 0);
    const counts = [
      SLOT.gen, SLOT.counter, SLOT.pong, SLOT.ackFenceTerm, SLOT.handledReintegrate, SLOT.handledHandover,
      SLOT.handledTakeover,
    ].map((offset) => getCount(buf, offset));
    const [gen, counter, pong, ackFenceTerm, handledReintegrate, handledHandover, handledTakeover] = counts;
    if (counts.some((count) => count === null)) return 'a counter above 2^53 - 1';
    const name = getName(buf, SLOT.node);
    if (name !== ctx.header.nodes[node]) return `names node "${name}", the header gives this slot to "${ctx.header.nodes[node]}"`;
    return {
      node: name,
      gen: gen!, counter: counter!, phase, owns, isolated: buf[SLOT.isolated] !== 0, pong: pong!,
      ackFenceTerm: ackFenceTerm!, handledReintegrate: handledReintegrate!, handledHandover: handledHandover!,
      handledTakeover: handledTakeover!,
    };
  }, (unsigned, seq, writtenAt, status) => encodeSlot(unsigned, node, seq, writtenAt, status));
}

/** `node` is the inbox's owner; the record is written by its partner. */
export function encodeInbox(ctx: RecordContext, node: NodeIndex, seq: number, writtenAt: number, outbox: Outbox): Encoded {
  const error = checkOutbox(outbox);
  if (error) return { ok: false, error };
  return encodeRecord(ctx, 'inbox', node, seq, writtenAt, (bytes) => {
    if (outbox.fence) {
      bytes[INBOX.fencePresent] = 1;
      bytes[INBOX.fenceActive] = outbox.fence.active ? 1 : 0;
      putCount(bytes, INBOX.fenceTerm, outbox.fence.term);
    }
    putCount(bytes, INBOX.ping, outbox.ping);
    putCount(bytes, INBOX.reintegrateRequest, outbox.reintegrateRequest);
    putCount(bytes, INBOX.handover, outbox.handover);
    putCount(bytes, INBOX.takeoverRequest, outbox.takeoverRequest);
  });
}

export function decodeInbox(ctx: RecordContext, node: NodeIndex, bytes: Uint8Array): RecordRead<Outbox> {
  return decodeRecord(ctx, 'inbox', node, bytes, (buf) => {
    const counts = [INBOX.fenceTerm, INBOX.ping, INBOX.reintegrateRequest, INBOX.handover, INBOX.takeoverRequest]
      .map((offset) => getCount(buf, offset));
    const [term, ping, reintegrateRequest, handover, takeoverRequest] = counts;
    if (counts.some((count) => count === null)) return 'a counter above 2^53 - 1';
    const fence: FenceRecord | null = buf[INBOX.fencePresent] ? { term: term!, active: buf[INBOX.fenceActive] !== 0 } : null;
    return { fence, ping: ping!, reintegrateRequest: reintegrateRequest!, handover: handover!, takeoverRequest: takeoverRequest! };
  }, (unsigned, seq, writtenAt, outbox) => encodeInbox(unsigned, node, seq, writtenAt, outbox));
}

function checkStatus(header: MailboxHeader, node: NodeIndex, status: StatusRecord): string | null {
  if (status.node !== header.nodes[node]) return `status of "${status.node}" cannot go into the slot of "${header.nodes[node]}"`;
  if (!Object.hasOwn(PHASE_CODES, status.phase)) return `unknown phase "${status.phase}"`;
  const stranger = status.owns.find((group) => !header.nodes.includes(group));
  if (stranger !== undefined) return `owns "${stranger}", not a node of this mailbox`;
  return checkCounts({
    gen: status.gen, counter: status.counter, pong: status.pong, ackFenceTerm: status.ackFenceTerm,
    handledReintegrate: status.handledReintegrate, handledHandover: status.handledHandover,
    handledTakeover: status.handledTakeover,
  });
}

function checkOutbox(outbox: Outbox): string | null {
  return checkCounts({
    fenceTerm: outbox.fence?.term ?? 0, ping: outbox.ping, reintegrateRequest: outbox.reintegrateRequest,
    handover: outbox.handover, takeoverRequest: outbox.takeoverRequest,
  });
}

export function checkCounts(counts: Record<string, number>): string | null {
  for (const [field, value] of Object.entries(counts)) {
    if (!Number.isSafeInteger(value) || value < 0) return `${field} ${value}: expected an integer 0..2^53-1`;
  }
  return null;
}

export function encodeRecord(
  ctx: RecordContext, kind: RecordKind, node: NodeIndex, seq: number, writtenAt: number, putPayload: (bytes: Buffer) => void,
): Encoded {
  const envelope = checkCounts({ seq, writtenAt });
  if (envelope) return { ok: false, error: envelope };
  const size = ctx.header.sectorSize;
  const bytes = Buffer.alloc(size);
  MAGIC.copy(bytes, RECORD.magic);
  bytes.writeUInt16LE(LAYOUT_VERSION, RECORD.version);
  bytes[RECORD.kind] = KIND_CODES[kind];
  bytes[RECORD.writer] = writerOf(kind, node);
  ctx.header.uuid.copy(bytes, RECORD.uuid);
  putCount(bytes, RECORD.seq, seq);
  putCount(bytes, RECORD.writtenAt, writtenAt);
  putPayload(bytes);
  // Without a secret the signature stays zero: only a decoder re-encodes so, to compare the rest.
  if (ctx.secret) hmac(ctx.secret, bytes.subarray(0, -DIGEST_BYTES)).copy(bytes, size - DIGEST_BYTES);
  return { ok: true, bytes };
}

/**
 * The checks run in order, so that the reason names the first thing wrong; the payload is parsed only once the
 * sector is known to be this record of this mailbox, and authentic when a secret is given.
 */
export function decodeRecord<T>(
  ctx: RecordContext, kind: RecordKind, node: NodeIndex, bytes: Uint8Array,
  parsePayload: (buf: Buffer) => T | string,
  encode: (unsigned: RecordContext, seq: number, writtenAt: number, payload: T) => Encoded,
): RecordRead<T> {
  const buf = asBuffer(bytes);
  const size = ctx.header.sectorSize;
  if (buf.length !== size) return { state: 'corrupt', reason: `${buf.length} bytes, expected a ${size}-byte sector` };
  if (isZero(buf)) return { state: 'empty' };
  const prefix = checkPrefix(buf, kind);
  if (prefix) return { state: 'corrupt', reason: prefix };
  const writer = buf[RECORD.writer]!;
  const expectedWriter = writerOf(kind, node);
  if (writer !== expectedWriter) {
    return { state: 'corrupt', reason: `written by node ${writer}, only node ${expectedWriter} (${ctx.header.nodes[expectedWriter]}) writes it` };
  }
  if (!buf.subarray(RECORD.uuid, RECORD.uuid + UUID_BYTES).equals(ctx.header.uuid)) {
    return { state: 'foreign', reason: 'record of another mailbox (its uuid differs from the header\'s)' };
  }
  if (ctx.secret && !timingSafeEqual(hmac(ctx.secret, buf.subarray(0, -DIGEST_BYTES)), buf.subarray(-DIGEST_BYTES))) {
    return { state: 'corrupt', reason: 'bad HMAC (damaged, or written with another secret)' };
  }
  const seq = getCount(buf, RECORD.seq);
  const writtenAt = getCount(buf, RECORD.writtenAt);
  if (seq === null || writtenAt === null) return { state: 'corrupt', reason: 'seq or timestamp above 2^53 - 1' };
  const payload = parsePayload(buf);
  if (typeof payload === 'string') return { state: 'corrupt', reason: payload };
  // Re-encoded without the secret: the signature, checked above, is left out of the comparison.
  const again = encode({ header: ctx.header, secret: null }, seq, writtenAt, payload);
  if (!again.ok) return { state: 'corrupt', reason: again.error };
  if (!again.bytes.subarray(0, -DIGEST_BYTES).equals(buf.subarray(0, -DIGEST_BYTES))) {
    return { state: 'corrupt', reason: 'not in canonical form (stray bytes)' };
  }
  return ctx.secret ? { state: 'verified', seq, writtenAt, payload } : { state: 'unverified', seq, writtenAt, payload };
}

/** Magic, version and kind: the same three fields open every sector. */
function checkPrefix(buf: Buffer, kind: keyof typeof KIND_CODES): string | null {
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return 'no HANFSMBX magic (not a hanfs mailbox sector)';
  const version = buf.readUInt16LE(RECORD.version);
  if (version !== LAYOUT_VERSION) {
    return `layout version ${version}, this hanfs reads version ${LAYOUT_VERSION} (hanfs disk init --force writes a new mailbox)`;
  }
  const code = buf[RECORD.kind]!;
  if (code !== KIND_CODES[kind]) {
    const found = Object.entries(KIND_CODES).find(([, c]) => c === code)?.[0];
    return found ? `record kind ${found}, expected ${kind}` : `unknown record kind ${code}`;
  }
  return null;
}

// ---- fields ----

function isSectorSize(size: number): size is SectorSize {
  return (SECTOR_SIZES as readonly number[]).includes(size);
}

function putName(bytes: Buffer, offset: number, name: string): void {
  bytes.write(name, offset, NAME_BYTES, 'latin1');
}

/** The name up to its first zero byte, or null if it holds anything but printable ASCII. Validity is checked by re-encoding. */
function getName(bytes: Buffer, offset: number): string | null {
  const field = bytes.subarray(offset, offset + NAME_BYTES);
  const end = field.indexOf(0);
  const name = field.subarray(0, end < 0 ? NAME_BYTES : end);
  return name.every((c) => c >= 0x20 && c < 0x7f) ? name.toString('latin1') : null;
}

export function putCount(bytes: Buffer, offset: number, value: number): void {
  bytes.writeBigUInt64LE(BigInt(value), offset);
}

export function getCount(bytes: Buffer, offset: number): number | null {
  const value = bytes.readBigUInt64LE(offset);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

export function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function hmac(secret: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}
