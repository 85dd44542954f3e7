import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SectorDevice } from '../../agent/disk/direct-io.ts';
import { readMailbox, type MailboxDump } from '../../agent/disk/dump.ts';
import { INTENT_LOG_RECORDS } from '../../agent/core/intent.ts';
import type { IntentRecord } from '../../agent/core/types.ts';
import { decodeHeader, encodeInbox, intentSector, type MailboxHeader } from '../../agent/disk/layout.ts';
import {
  assertRejects, flipBit, hasProgram, initTestMailbox, MAILBOX_FILE_BYTES, openNode, outbox, run, SECRET, status, withDevice,
  withTempDir, type Backend,
} from './fixtures.ts';

const DEADLINE_MS = 2000;
const SECTOR = 512;

const loopAvailable = hasProgram('losetup');
if (!loopAvailable) console.log('mailbox tests on a loop device SKIPPED: losetup is not installed');

/** The device as another program sees it: through a descriptor of its own, with O_DIRECT. */
function withSectorDevice<T>(device: string, fn: (disk: SectorDevice) => T): T {
  const disk = SectorDevice.open(device);
  try {
    return fn(disk);
  } finally {
    disk.close();
  }
}

/** Changes one sector behind the mailbox's back, as a damaged disk or a stray writer would. */
function rewriteSector(device: string, sector: number, change: (bytes: Buffer) => Buffer): void {
  withSectorDevice(device, (disk) => disk.write(sector * SECTOR, change(disk.read(sector * SECTOR, SECTOR))));
}

function dumpOf(device: string): MailboxDump {
  return withSectorDevice(device, (disk) => readMailbox(disk, SECRET, Date.now()));
}

function headerOf(device: string): MailboxHeader {
  const read = withSectorDevice(device, (disk) => decodeHeader(disk.read(0, SECTOR)));
  if (read.state !== 'valid') throw new Error(`header ${read.state}`);
  return read.header;
}

for (const backend of ['file', 'loop'] as Backend[]) {
  const it = backend === 'loop' && !loopAvailable ? test.skip : test;

  it(`${backend}: two nodes exchange their slots and inboxes across cycles`, () => withDevice(backend, async (device) => {
    initTestMailbox(device);
    const [a, b] = [await openNode(device, 0), await openNode(device, 1)];
    try {
      if (backend === 'loop') assert.is(a.mode, 'direct', 'O_DIRECT on a block device');
      for (let round = 1; round <= 3; round++) {
        const slotA = status('server1', { counter: round });
        const viewA = await a.cycle({ slot: slotA, outbox: outbox({ ping: round }), intents: [] }, DEADLINE_MS);
        assert.equal(viewA.ownSlot, slotA);
        assert.equal(viewA.ownOutbox, outbox({ ping: round }));
        assert.equal(viewA.partnerSlot, round === 1 ? null : status('server2', { counter: round - 1, pong: round - 1 }));
        assert.equal(viewA.inbox, round === 1 ? null : outbox({ reintegrateRequest: round - 1 }));

        const slotB = status('server2', { counter: round, pong: round });
        const viewB = await b.cycle({ slot: slotB, outbox: outbox({ reintegrateRequest: round }), intents: [] }, DEADLINE_MS);
        assert.equal(viewB.partnerSlot, slotA);
        assert.equal(viewB.inbox, outbox({ ping: round }));
        assert.equal(viewB.ownSlot, slotB);
      }
      // A cycle without a write only reads.
      assert.equal((await a.cycle(null, DEADLINE_MS)).partnerSlot, status('server2', { counter: 3, pong: 3 }));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }));

  it(`${backend}: each write is on the medium, read back by an independent O_DIRECT read`, () => withDevice(backend, async (device) => {
    initTestMailbox(device);
    const a = await openNode(device, 0);
    try {
      const fence = outbox({ fence: { term: 2, active: true } });
      await a.cycle({ slot: status('server1', { phase: 'fencing_partner' }), outbox: fence, intents: [] }, DEADLINE_MS);
      const dump = dumpOf(device);
      const [server1, server2] = dump.nodes;
      assert.equal(server1!.slot, { ...server1!.slot, state: 'verified', seq: 1, record: status('server1', { phase: 'fencing_partner' }) });
      assert.equal(server2!.inbox, { ...server2!.inbox, state: 'verified', seq: 1, record: fence });
    } finally {
      await a.close();
    }
  }));

  it(`${backend}: a restarted node reads back what it wrote, and its sequence numbers go on`, () => withDevice(backend, async (device) => {
    initTestMailbox(device);
    const written = { slot: status('server2', { counter: 8, ackFenceTerm: 3, phase: 'fenced', owns: [] }), outbox: outbox({ reintegrateRequest: 1 }), intents: [] };
    const before = await openNode(device, 1);
    try {
      await before.cycle({ ...written, slot: { ...written.slot, counter: 7 } }, DEADLINE_MS);
      await before.cycle(written, DEADLINE_MS);
    } finally {
      await before.close();
    }
    const after = await openNode(device, 1);
    try {
      const view = await after.cycle(null, DEADLINE_MS);
      assert.equal(view.ownSlot, written.slot);
      assert.equal(view.ownOutbox, written.outbox);
      await after.cycle(written, DEADLINE_MS);
      const [server1, server2] = dumpOf(device).nodes;
      assert.is((server2!.slot as { seq: number }).seq, 3);
      assert.is((server1!.inbox as { seq: number }).seq, 3);
    } finally {
      await after.close();
    }
  }));

  it(`${backend}: a damaged or foreign sector of the partner's reads as no record, logged, and so does our slot; our outbox fails the cycle`, () => withDevice(backend, async (device) => {
    initTestMailbox(device);
    const warnings: string[] = [];
    const a = await openNode(device, 0, { log: (_level, message) => warnings.push(message) });
    const b = await openNode(device, 1);
    try {
      await b.cycle({ slot: status('server2'), outbox: outbox({ ping: 1 }), intents: [] }, DEADLINE_MS);
      const intact = await a.cycle(null, DEADLINE_MS);
      rewriteSector(device, 3, (bytes) => flipBit(bytes, 100 * 8 + 4));
      const torn = await a.cycle(null, DEADLINE_MS);
      assert.is(torn.partnerSlot, null);
      assert.ok(intact.partnerSlot);
      assert.match(warnings.join('\n'), /sector 3 \(status slot of server2\) is corrupt: bad HMAC/);

      // The writer's next write repairs it.
      await b.cycle({ slot: status('server2', { counter: 2 }), outbox: outbox({ ping: 2 }), intents: [] }, DEADLINE_MS);
      assert.equal((await a.cycle(null, DEADLINE_MS)).partnerSlot, status('server2', { counter: 2 }));

      // A record signed with the same secret, but of another mailbox: its uuid gives it away.
      const other: MailboxHeader = { ...headerOf(device), uuid: Buffer.alloc(16, 0x77) };
      const stray = encodeInbox({ header: other, secret: SECRET }, 0, 99, Date.now(), outbox({ fence: { term: 9, active: true } }));
      assert.ok(stray.ok);
      rewriteSector(device, 2, () => (stray as { bytes: Buffer }).bytes);
      assert.is((await a.cycle(null, DEADLINE_MS)).inbox, null);
      assert.match(warnings.join('\n'), /sector 2 \(inbox of server1, written by server2\) is foreign/);

      // Our own slot damaged (torn by a crash mid-write): read as none, logged, so that a restarted agent can still
      // read its mailbox; the core renews nothing on it. Our outbox damaged: the cycle fails (it holds our fence).
      await a.cycle({ slot: status('server1'), outbox: outbox({}), intents: [] }, DEADLINE_MS);
      rewriteSector(device, 1, (bytes) => flipBit(bytes, 100 * 8 + 4));
      assert.is((await a.cycle(null, DEADLINE_MS)).ownSlot, null);
      assert.match(warnings.join('\n'), /sector 1 \(status slot of server1\) is corrupt: bad HMAC/);
      rewriteSector(device, 4, (bytes) => flipBit(bytes, 100 * 8 + 4));
      await assertRejects(a.cycle(null, DEADLINE_MS), /sector 4 \(inbox of server2, written by server1\) is corrupt: bad HMAC/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }));

  it(`${backend}: intent records go to their node's ring and are read back in order, by the node and its partner`, () => withDevice(backend, async (device) => {
    initTestMailbox(device);
    const warnings: string[] = [];
    const a = await openNode(device, 0);
    const b = await openNode(device, 1, { log: (_level, message) => warnings.push(message) });
    try {
      const records = Array.from({ length: INTENT_LOG_RECORDS + 3 }, (_, i): IntentRecord => ({
        seq: i + 1, transition: 'takeover', term: 2, step: { group: 'server2', resource: 'filesystem', op: 'start' },
        state: i % 2 ? 'done' : 'begun', detail: '',
      }));
      for (let i = 0; i < records.length; i += 4) {
        await a.cycle({ slot: status('server1', { counter: i + 1 }), outbox: outbox(), intents: records.slice(i, i + 4) }, DEADLINE_MS);
      }
      const own = (await a.cycle(null, DEADLINE_MS, ['own'])).ownIntents!;
      assert.equal(own, records.slice(-INTENT_LOG_RECORDS), 'the ring keeps the last records, oldest first');
      const seen = await b.cycle(null, DEADLINE_MS, ['partner']);
      assert.equal(seen.partnerIntents, own);
      assert.is(seen.ownIntents, undefined, 'only the logs asked for are read');

      // A damaged record is left out, with a warning; the rest of the log still reads.
      rewriteSector(device, intentSector(0, records.length), (bytes) => flipBit(bytes, 60 * 8));
      const damaged = (await b.cycle(null, DEADLINE_MS, ['partner'])).partnerIntents!;
      assert.equal(damaged.map((r) => r.seq), own.map((r) => r.seq).filter((seq) => seq !== records.length));
      assert.match(warnings.join('\n'), /intent log of server1\) is corrupt/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }));

  it(`${backend}: open refuses a device not initialised, of another pair, or with the nodes in another order`, () => withDevice(backend, async (device) => {
    await assertRejects(openNode(device, 0), /not an initialised hanfs mailbox/);
    initTestMailbox(device);
    await assertRejects(openNode(device, 0, { pairId: 'other' }), /the mailbox of pair "lab", not of "other"/);
    await assertRejects(openNode(device, 0, { nodes: ['server2', 'server1'] }), /slots are for server1, server2 in that order/);
    rewriteSector(device, 0, (bytes) => flipBit(bytes, 40 * 8));
    await assertRejects(openNode(device, 0), /sector 0 \(header\): bad checksum/);
  }));
}

test('a file system without O_DIRECT (ramfs): O_DSYNC instead, said once in the log', () => withTempDir(async (dir) => {
  const mountPoint = join(dir, 'ramfs');
  mkdirSync(mountPoint);
  run('mount', ['-t', 'ramfs', 'ramfs', mountPoint]);
  try {
    const device = join(mountPoint, 'mailbox.img');
    writeFileSync(device, '');
    truncateSync(device, MAILBOX_FILE_BYTES);
    initTestMailbox(device);
    const logged: string[] = [];
    const a = await openNode(device, 0, { log: (level, message) => logged.push(`${level}: ${message}`) });
    try {
      assert.is(a.mode, 'dsync');
      await a.cycle({ slot: status('server1'), outbox: outbox(), intents: [] }, DEADLINE_MS);
      await a.cycle({ slot: status('server1', { counter: 2 }), outbox: outbox(), intents: [] }, DEADLINE_MS);
      assert.is(logged.length, 1);
      assert.match(logged[0]!, /^warn: .*not using O_DIRECT.*O_DSYNC/);
    } finally {
      await a.close();
    }
  } finally {
    run('umount', [mountPoint]);
  }
}));

test('a FIFO or a missing path is refused at once', () => withTempDir(async (dir) => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const started = performance.now();
  await assertRejects(openNode(fifo, 0), /neither a block device nor a regular file/);
  await assertRejects(openNode(join(dir, 'missing'), 0), /ENOENT/);
  assert.ok(performance.now() - started < DEADLINE_MS);
}));

test.run();
