// COMPOUND and the NFSv4.1 operations of the swarm (lab/swarm/compound.ts, nfs4-ops.ts): arguments as RFC 8881's
// XDR lays them out, and replies read in order, error bodies included, so that a later result is never misread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeCompound, encodeCompound, Nfs4Error, valuesOf } from '../../lab/swarm/compound.ts';
import { NFS4ERR, OP, statusName } from '../../lab/swarm/nfs4-const.ts';
import {
  CURRENT_STATEID, exchangeId, getFh, lock, lookup, open, putFh, putRootFh, reclaimComplete, sequence, testStateid,
  type LockDenied, type OpenResult,
} from '../../lab/swarm/nfs4-ops.ts';
import { XdrReader, XdrWriter } from '../../lab/swarm/xdr.ts';

const hex = (b: Buffer) => b.toString('hex');
const session = Buffer.alloc(16, 0xab);
const owner = { clientid: 0x1122334455667788n, owner: Buffer.from('lock:c1') };

test('COMPOUND arguments: tag, minor version 1, the operations each with its opcode', () => {
  const b = encodeCompound([sequence(session, 5, 0, 0), putRootFh(), lookup('srv1')]);
  assert.is(hex(b), [
    '00000000', '00000001', '00000003',
    '00000035', 'ab'.repeat(16), '00000005', '00000000', '00000000', '00000000',
    '00000018',
    '0000000f', '00000004', hex(Buffer.from('srv1')),
  ].join(''));
});

test('OPEN reclaim: CLAIM_PREVIOUS with no delegation, no create', () => {
  const b = encodeCompound([open({ access: 3, deny: 0, owner, create: false, claim: { type: 'previous' } })]);
  assert.is(hex(b).slice(24), [
    // seqid (unused in 4.1), access both, deny none, the owner, OPEN4_NOCREATE, CLAIM_PREVIOUS of no delegation
    '00000012', '00000000', '00000003', '00000000', '1122334455667788', '00000007', hex(Buffer.from('lock:c1')), '00',
    '00000000', '00000001', '00000000',
  ].join(''));
});

test('LOCK reclaim of a new lock owner from the current stateid', () => {
  const b = encodeCompound([lock({ type: 2, reclaim: true, offset: 0n, length: 4096n, locker: { openStateid: CURRENT_STATEID, lockOwner: owner } })]);
  assert.is(hex(b).slice(24), [
    '0000000c', '00000002', '00000001', '0000000000000000', '0000000000001000',
    '00000001', '00000000', '00000001', '00'.repeat(12), '00000000', '1122334455667788', '00000007', hex(Buffer.from('lock:c1')), '00',
  ].join(''));
});

test('EXCHANGE_ID: verifier, owner, flags, SP4_NONE, no implementation id', () => {
  const b = encodeCompound([exchangeId(Buffer.alloc(8, 1), 'o', 0x10000)]);
  assert.is(hex(b).slice(24), ['0000002a', '01'.repeat(8), '00000001', '6f000000', '00010000', '00000000', '00000000'].join(''));
});

/** A COMPOUND reply: status, empty tag, then each result as [opcode, status, body]. */
function reply(status: number, results: Array<[number, number, (w: XdrWriter) => void]>): XdrReader {
  const w = new XdrWriter().u32(status).string('').u32(results.length);
  for (const [op, st, body] of results) {
    w.u32(op).u32(st);
    body(w);
  }
  return new XdrReader(w.bytes());
}

const seqOk = (w: XdrWriter) => w.fixed(session, 16).u32(5).u32(0).u32(0).u32(0).u32(0);
const stateid = (w: XdrWriter, n: number) => w.u32(1).fixed(Buffer.alloc(12, n), 12);

test('an OPEN that comes with a read delegation is read whole, and GETFH after it is right', () => {
  const ops = [sequence(session, 5, 0, 0), putFh(Buffer.from('fh')), open({ access: 3, deny: 0, owner, create: false, claim: { type: 'fh' } }), getFh()];
  const r = reply(0, [
    [OP.SEQUENCE, 0, seqOk],
    [OP.PUTFH, 0, () => undefined],
    [OP.OPEN, 0, (w) => {
      stateid(w, 3);
      w.bool(true).u64(1n).u64(2n); // change info
      w.u32(4).u32(1).u32(0); // rflags, attrset bitmap of one word
      w.u32(1); // OPEN_DELEGATE_READ
      stateid(w, 4);
      w.bool(false).u32(0).u32(0).u32(1).string('OWNER@');
    }],
    [OP.GETFH, 0, (w) => w.opaque(Buffer.from('the-file-handle'))],
  ]);
  const [, , opened, fh] = valuesOf(decodeCompound(r, ops), ops) as [unknown, unknown, OpenResult, Buffer];
  assert.equal([...opened.stateid.other], Array(12).fill(3));
  assert.is(opened.rflags, 4);
  assert.is(opened.delegation, 1);
  assert.is(fh.toString(), 'the-file-handle');
});

test('a LOCK denied carries the conflicting lock, and the COMPOUND fails with it', () => {
  const ops = [sequence(session, 5, 0, 0), putFh(Buffer.from('fh')), lock({ type: 2, reclaim: false, offset: 0n, length: 10n, locker: { lockStateid: CURRENT_STATEID } })];
  const r = reply(NFS4ERR.DENIED, [
    [OP.SEQUENCE, 0, seqOk],
    [OP.PUTFH, 0, () => undefined],
    [OP.LOCK, NFS4ERR.DENIED, (w) => w.u64(0n).u64(4096n).u32(2).u64(9n).opaque(Buffer.from('lock:other'))],
  ]);
  const err = (() => {
    try {
      valuesOf(decodeCompound(r, ops), ops);
    } catch (e) {
      return e as Nfs4Error;
    }
    throw new Error('no error');
  })();
  assert.ok(err instanceof Nfs4Error);
  assert.is(err.message, 'LOCK: NFS4ERR_DENIED');
  assert.equal((err.body as LockDenied).owner.owner.toString(), 'lock:other');
  assert.is((err.body as LockDenied).length, 4096n);
});

test('a failed SEQUENCE ends the reply there: NFS4ERR_BADSESSION after a reboot', () => {
  const ops = [sequence(session, 5, 0, 0), reclaimComplete()];
  const r = reply(NFS4ERR.BADSESSION, [[OP.SEQUENCE, NFS4ERR.BADSESSION, () => undefined]]);
  assert.throws(() => valuesOf(decodeCompound(r, ops), ops), (e: Nfs4Error) => e.op === OP.SEQUENCE && e.statusName === 'NFS4ERR_BADSESSION');
});

test('TEST_STATEID gives one status per stateid', () => {
  const ops = [sequence(session, 5, 0, 0), testStateid([CURRENT_STATEID, CURRENT_STATEID])];
  const r = reply(0, [[OP.SEQUENCE, 0, seqOk], [OP.TEST_STATEID, 0, (w) => w.u32(2).u32(0).u32(NFS4ERR.STALE_STATEID)]]);
  assert.equal(valuesOf(decodeCompound(r, ops), ops)[1], [0, NFS4ERR.STALE_STATEID]);
});

test('a reply whose results do not match the operations sent is refused', () => {
  const ops = [sequence(session, 5, 0, 0)];
  assert.throws(() => decodeCompound(reply(0, [[OP.PUTFH, 0, () => undefined]]), ops), /is PUTFH, sent SEQUENCE/);
  assert.throws(() => decodeCompound(reply(0, [[OP.SEQUENCE, 0, seqOk], [OP.PUTFH, 0, () => undefined]]), ops), /2 results for 1/);
});

test('status names follow RFC 8881', () => {
  assert.is(statusName(NFS4ERR.GRACE), 'NFS4ERR_GRACE');
  assert.is(statusName(10033), 'NFS4ERR_NO_GRACE');
  assert.is(statusName(0), 'NFS4_OK');
  assert.is(statusName(99999), 'nfsstat4 99999');
});

test.run();
