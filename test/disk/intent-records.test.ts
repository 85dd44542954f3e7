// Intent log records on the mailbox disk: where they live, that every field round-trips, and that a damaged or
// misplaced record is never read as one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INTENT_LOG_RECORDS } from '../../agent/core/intent.ts';
import type { IntentRecord } from '../../agent/core/types.ts';
import { decodeIntent, encodeIntent } from '../../agent/disk/intent-records.ts';
import { describeSector, intentSector, intentSectors, MAILBOX_SECTORS, sectorIndex, writerOf, type RecordContext } from '../../agent/disk/layout.ts';
import { flipBit, NODES, PAIR, SECRET } from './fixtures.ts';

const ctx = (secret: Buffer | null = SECRET): RecordContext => ({
  header: { sectorSize: 512, uuid: Buffer.alloc(16, 0xcd), pairId: PAIR, nodes: [...NODES], timeouts: { diskIntervalMs: 0, diskIoTimeoutMs: 0, selfFenceLeaseMs: 0 } },
  secret,
});

const STEP: IntentRecord = {
  seq: 2 ** 40 + 3, transition: 'takeover', term: 7, step: { group: 'server1', resource: 'nfs_server', op: 'start' },
  state: 'failed', detail: 'ganesha.nfsd exited 2',
};
const MARKER: IntentRecord = { seq: 1, transition: 'release', term: 2, step: null, state: 'complete', detail: '' };

function encoded(record: IntentRecord, node: 0 | 1 = 1): Buffer {
  const e = encodeIntent(ctx(), node, 1_700_000_000_000, record);
  if (!e.ok) throw new Error(e.error);
  return e.bytes;
}

test('each node has a ring of records after the slots and inboxes, written only by that node', () => {
  assert.is(sectorIndex('inbox', 1), 4);
  assert.equal(intentSectors(0), Array.from({ length: INTENT_LOG_RECORDS }, (_, k) => 5 + k));
  assert.is(intentSectors(1)[0], 5 + INTENT_LOG_RECORDS);
  assert.is(MAILBOX_SECTORS, 5 + 2 * INTENT_LOG_RECORDS);
  assert.is(intentSector(1, 3), intentSector(1, 3 + INTENT_LOG_RECORDS), 'record n and n + ring size share a sector');
  assert.equal([writerOf('intent', 0), writerOf('intent', 1)], [0, 1]);
  assert.is(describeSector({ nodes: [...NODES] }, intentSector(1, 0)), `sector ${intentSector(1, 0)} (intent log of server2)`);
});

test('steps and transition records round-trip, number included', () => {
  for (const record of [STEP, MARKER]) {
    const read = decodeIntent(ctx(), 1, encoded(record));
    assert.is(read.state, 'verified');
    assert.equal((read as { payload: IntentRecord }).payload, record);
  }
});

test('a detail is stored as printable ASCII, cut to fit', () => {
  const read = decodeIntent(ctx(), 1, encoded({ ...STEP, detail: `mount: “busy”\n${'x'.repeat(300)}` }));
  const detail = (read as { payload: IntentRecord }).payload.detail;
  assert.is(detail.length, 120);
  assert.ok(detail.startsWith('mount: ?busy??x'), detail);
});

test('every flipped bit, a record of the other node and one without the secret are caught', () => {
  const bytes = encoded(STEP);
  for (let bit = 0; bit < bytes.length * 8; bit += 7) assert.is.not(decodeIntent(ctx(), 1, flipBit(bytes, bit)).state, 'verified', `bit ${bit}`);
  assert.is(decodeIntent(ctx(), 0, bytes).state, 'corrupt');
  assert.is(decodeIntent(ctx(Buffer.from('another secret')), 1, bytes).state, 'corrupt');
  assert.is(decodeIntent(ctx(null), 1, bytes).state, 'unverified');
  assert.is(decodeIntent(ctx(), 1, Buffer.alloc(512)).state, 'empty');
});

test('a step of a group that is no node of the mailbox cannot be written', () => {
  const e = encodeIntent(ctx(), 1, 0, { ...STEP, step: { group: 'stranger', resource: 'exports', op: 'stop' } });
  assert.equal(e, { ok: false, error: 'step of group "stranger", not a node of this mailbox' });
});

test.run();
