import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Phase } from '../../agent/core/types.ts';
import {
  decodeHeader, decodeInbox, decodeSlot, encodeHeader, encodeInbox, encodeSlot, PHASE_CODES, sectorIndex, writerOf,
  type Encoded, type MailboxHeader, type RecordContext, type SectorSize,
} from '../../agent/disk/layout.ts';
import { flipBit, NODES, outbox, PAIR, SECRET, status } from './fixtures.ts';

function header(sectorSize: SectorSize = 512, uuid = Buffer.alloc(16, 0xab)): MailboxHeader {
  return { sectorSize, uuid, pairId: PAIR, nodes: [...NODES], timeouts: { diskIntervalMs: 500, diskIoTimeoutMs: 1000, selfFenceLeaseMs: 5000 } };
}

function ctx(sectorSize: SectorSize = 512, secret: Buffer | null = SECRET): RecordContext {
  return { header: header(sectorSize), secret };
}

function bytesOf(encoded: Encoded): Buffer {
  if (!encoded.ok) throw new Error(encoded.error);
  return encoded.bytes;
}

const SAMPLE_STATUS = status('server2', {
  gen: 7, counter: 2 ** 40, phase: 'fencing_partner', owns: ['server1', 'server2'], isolated: true, pong: 3,
  ackFenceTerm: 4, handledReintegrate: 5, handledHandover: 6, handledTakeover: Number.MAX_SAFE_INTEGER,
});
const SAMPLE_OUTBOX = outbox({ fence: { term: 9, active: true }, ping: 1, reintegrateRequest: 2, handover: 3, takeoverRequest: 4 });

test('the sectors: a slot and an inbox per node, each with one writer', () => {
  assert.equal([sectorIndex('slot', 0), sectorIndex('inbox', 0), sectorIndex('slot', 1), sectorIndex('inbox', 1)], [1, 2, 3, 4]);
  assert.equal([writerOf('slot', 0), writerOf('inbox', 0), writerOf('slot', 1), writerOf('inbox', 1)], [0, 1, 1, 0]);
});

test('phase codes are distinct and cover every phase', () => {
  const codes = Object.values(PHASE_CODES);
  assert.is(new Set(codes).size, codes.length);
  assert.equal([...codes].sort((a, b) => a - b), codes.map((_, i) => i));
});

test('the header round-trips at both sector sizes', () => {
  for (const size of [512, 4096] as const) {
    const bytes = bytesOf(encodeHeader(header(size)));
    assert.is(bytes.length, size);
    assert.is(bytes.subarray(0, 8).toString('latin1'), 'HANFSMBX');
    assert.equal(decodeHeader(bytes), { state: 'valid', header: header(size) });
    // Read from the start of the device: whatever follows the header sector does not matter.
    assert.equal(decodeHeader(Buffer.concat([bytes, randomBytes(4096)])), { state: 'valid', header: header(size) });
  }
});

test('a zero header is empty; a header that does not check out is corrupt', () => {
  assert.equal(decodeHeader(Buffer.alloc(4096)), { state: 'empty' });
  const bytes = bytesOf(encodeHeader(header()));
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const read = decodeHeader(flipBit(bytes, bit));
    assert.is(read.state, 'corrupt', `bit ${bit}`);
  }
  assert.match((decodeHeader(Buffer.alloc(4096, 0x55)) as { reason: string }).reason, /no HANFSMBX magic/);
});

test('invalid headers are refused when encoding, without throwing', () => {
  const bad: MailboxHeader[] = [
    { ...header(), pairId: 'Not A Name' },
    { ...header(), nodes: ['server1', 'server1'] },
    { ...header(), nodes: ['1abc', 'server2'] },
    { ...header(), uuid: Buffer.alloc(3) },
    { ...header(), sectorSize: 1024 as SectorSize },
    { ...header(), timeouts: { diskIntervalMs: -1, diskIoTimeoutMs: 1, selfFenceLeaseMs: 1 } },
  ];
  for (const h of bad) assert.is(encodeHeader(h).ok, false);
});

test('slots round-trip, every phase and every owns combination', () => {
  for (const size of [512, 4096] as const) {
    for (const phase of Object.keys(PHASE_CODES) as Phase[]) {
      for (const owns of [[], ['server1'], ['server2'], ['server1', 'server2']]) {
        const record = { ...SAMPLE_STATUS, phase, owns };
        const read = decodeSlot(ctx(size), 1, bytesOf(encodeSlot(ctx(size), 1, 12, 1_700_000_000_000, record)));
        assert.equal(read, { state: 'verified', seq: 12, writtenAt: 1_700_000_000_000, payload: record });
      }
    }
  }
});

test('inboxes round-trip, with no fence, an active one and a released one', () => {
  for (const fence of [null, { term: 9, active: true }, { term: 10, active: false }]) {
    const record = { ...SAMPLE_OUTBOX, fence };
    const read = decodeInbox(ctx(), 0, bytesOf(encodeInbox(ctx(), 0, 3, 5, record)));
    assert.equal(read, { state: 'verified', seq: 3, writtenAt: 5, payload: record });
  }
});

test('without the secret a record is parsed but unverified', () => {
  const bytes = bytesOf(encodeSlot(ctx(), 1, 1, 1, SAMPLE_STATUS));
  assert.equal(decodeSlot(ctx(512, null), 1, bytes), { state: 'unverified', seq: 1, writtenAt: 1, payload: SAMPLE_STATUS });
});

test('every single bit flip in a record sector is caught and yields no data', () => {
  for (const size of [512, 4096] as const) {
    const slot = bytesOf(encodeSlot(ctx(size), 1, 1, 1, SAMPLE_STATUS));
    const inbox = bytesOf(encodeInbox(ctx(size), 0, 1, 1, SAMPLE_OUTBOX));
    for (let bit = 0; bit < size * 8; bit++) {
      assertRejected(decodeSlot(ctx(size), 1, flipBit(slot, bit)).state, `slot, ${size}-byte sector, bit ${bit}`);
      assertRejected(decodeInbox(ctx(size), 0, flipBit(inbox, bit)).state, `inbox, ${size}-byte sector, bit ${bit}`);
    }
  }
});

test('a record of another mailbox is foreign; a wrong writer, kind or secret is corrupt', () => {
  const other: RecordContext = { header: header(512, Buffer.alloc(16, 0xcd)), secret: SECRET };
  const slot = bytesOf(encodeSlot(other, 1, 1, 1, SAMPLE_STATUS));
  assert.is(decodeSlot(ctx(), 1, slot).state, 'foreign');

  // Node 1's status placed in node 0's slot: the writer byte says node 1, which never writes that sector.
  const misplaced = decodeSlot(ctx(), 0, bytesOf(encodeSlot(ctx(), 1, 1, 1, SAMPLE_STATUS)));
  assert.is(misplaced.state, 'corrupt');
  assert.match((misplaced as { reason: string }).reason, /written by node 1/);

  // Node 1's outbox is node 0's inbox, with the same writer as node 1's slot: the kind tells them apart.
  const asInbox = decodeInbox(ctx(), 0, bytesOf(encodeSlot(ctx(), 1, 1, 1, SAMPLE_STATUS)));
  assert.match((asInbox as { reason: string }).reason, /record kind slot, expected inbox/);

  const forged = bytesOf(encodeInbox({ header: header(), secret: Buffer.from('not the secret') }, 0, 1, 1, SAMPLE_OUTBOX));
  assert.match((decodeInbox(ctx(), 0, forged) as { reason: string }).reason, /HMAC/);
});

test('a zero sector is empty; a sector of the wrong length is corrupt', () => {
  assert.equal(decodeSlot(ctx(), 0, Buffer.alloc(512)), { state: 'empty' });
  assert.equal(decodeInbox(ctx(4096), 1, Buffer.alloc(4096)), { state: 'empty' });
  assert.is(decodeSlot(ctx(), 0, Buffer.alloc(511)).state, 'corrupt');
  assert.is(decodeSlot(ctx(4096), 0, Buffer.alloc(512)).state, 'corrupt');
});

test('records that cannot be encoded are refused, without throwing', () => {
  const c = ctx();
  const slots = [
    status('server3'),
    { ...SAMPLE_STATUS, phase: 'dancing' as Phase },
    { ...SAMPLE_STATUS, owns: ['server9'] },
    { ...SAMPLE_STATUS, counter: -1 },
    { ...SAMPLE_STATUS, gen: 1.5 },
    { ...SAMPLE_STATUS, pong: Number.NaN },
    { ...SAMPLE_STATUS, ackFenceTerm: 2 ** 53 },
  ];
  for (const record of slots) assert.is(encodeSlot(c, 1, 1, 1, record).ok, false, JSON.stringify(record));
  assert.is(encodeInbox(c, 0, 1, 1, { ...SAMPLE_OUTBOX, fence: { term: -3, active: true } }).ok, false);
  assert.is(encodeInbox(c, 0, 1, 1, { ...SAMPLE_OUTBOX, ping: Infinity }).ok, false);
  assert.is(encodeInbox(c, 0, -1, 1, SAMPLE_OUTBOX).ok, false);
});

test('fuzz: random and mutated sectors never throw and never pass as verified data', () => {
  const c = ctx();
  const valid = [bytesOf(encodeSlot(c, 0, 5, 5, status('server1'))), bytesOf(encodeInbox(c, 1, 5, 5, SAMPLE_OUTBOX))];
  const headerBytes = bytesOf(encodeHeader(header()));
  for (let i = 0; i < 4000; i++) {
    const sector = fuzzSector(i, valid, headerBytes);
    decodeHeader(sector);
    for (const node of [0, 1] as const) {
      assertRejected(decodeSlot(c, node, sector).state, `sample ${i}, node ${node}`);
      assertRejected(decodeInbox(c, node, sector).state, `sample ${i}, node ${node}`);
      // Without the secret anything goes, but nothing throws.
      decodeSlot(ctx(512, null), node, sector);
      decodeInbox(ctx(512, null), node, sector);
    }
  }
});

/** Random bytes, random lengths, or a valid record or header with 1 to 5 of its bytes changed. */
function fuzzSector(i: number, valid: Buffer[], headerBytes: Buffer): Buffer {
  switch (i % 4) {
    case 0:
      return randomBytes(512);
    case 1:
      return randomBytes(randomBytes(2).readUInt16LE() % 5000);
    default: {
      const sector = Buffer.from(i % 4 === 2 ? valid[(i >> 2) % valid.length]! : headerBytes);
      const positions = new Set<number>();
      while (positions.size < 1 + (i % 5)) positions.add(randomBytes(2).readUInt16LE() % sector.length);
      // Adding 1..255 always changes the byte, and each byte is changed once: the sector always differs.
      for (const at of positions) sector[at] = (sector[at]! + 1 + (randomBytes(1)[0]! % 255)) & 0xff;
      return sector;
    }
  }
}

function assertRejected(state: string, what: string): void {
  assert.ok(state === 'corrupt' || state === 'foreign', `${what}: ${state}`);
}

test.run();
