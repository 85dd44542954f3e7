// RPC over TCP (lab/swarm/rpc.ts): the CALL header with AUTH_SYS, the REPLY's verdicts, and record marking across
// arbitrary TCP chunking and multi-fragment records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeReply, encodeCall, frame, RecordReader } from '../../lab/swarm/rpc.ts';
import { XdrWriter } from '../../lab/swarm/xdr.ts';

const auth = { stamp: 0x10, machine: 'm', uid: 0, gid: 0, gids: [] };

test('a CALL: xid, CALL, RPC 2, program 100003 version 4 procedure 1, AUTH_SYS, a null verifier, the arguments', () => {
  const call = encodeCall(7, 100003, 4, 1, auth, Buffer.from('cafebabe', 'hex'));
  assert.is(call.toString('hex'), [
    '00000007', '00000000', '00000002', '000186a3', '00000004', '00000001',
    // AUTH_SYS, 24 bytes: stamp, "m" padded, uid, gid, no groups
    '00000001', '00000018', '00000010', '00000001', '6d000000', '00000000', '00000000', '00000000',
    '00000000', '00000000', 'cafebabe',
  ].join(''));
});

function reply(xid: number, body: (w: XdrWriter) => void): Buffer {
  const w = new XdrWriter().u32(xid).u32(1);
  body(w);
  return w.bytes();
}

test('an accepted, successful REPLY gives its xid and a reader at the results', () => {
  const r = decodeReply(reply(9, (w) => w.u32(0).u32(0).u32(0).u32(0).u32(42)));
  assert.is(r.xid, 9);
  assert.is(r.body.u32(), 42);
});

test('a REPLY that was not a success says which failure', () => {
  assert.throws(() => decodeReply(reply(1, (w) => w.u32(0).u32(0).u32(0).u32(4))), /GARBAGE_ARGS/);
  assert.throws(() => decodeReply(reply(1, (w) => w.u32(1).u32(1).u32(2))), /denied: AUTH_ERROR \(auth stat 2\)/);
  assert.throws(() => decodeReply(new XdrWriter().u32(1).u32(0).bytes()), /not a reply/);
});

test('a record mark: the last-fragment bit and the length', () => {
  assert.is(frame(Buffer.from('abcd')).toString('hex'), '80000004' + '61626364');
});

test('records come out whole however TCP cuts the stream', () => {
  const msgs = [Buffer.from('first message'), Buffer.alloc(70_000, 1), Buffer.from('x')];
  const stream = Buffer.concat(msgs.map(frame));
  for (const cut of [1, 3, 4, 5, 1000, stream.length]) {
    const got: Buffer[] = [];
    const reader = new RecordReader((m) => got.push(m));
    for (let i = 0; i < stream.length; i += cut) reader.push(stream.subarray(i, i + cut));
    assert.equal(got.map((m) => m.toString('hex')), msgs.map((m) => m.toString('hex')), `chunks of ${cut}`);
  }
});

test('fragments of one record are joined; only the last carries the bit', () => {
  const got: string[] = [];
  const reader = new RecordReader((m) => got.push(m.toString()));
  reader.push(Buffer.from('0000000368656c', 'hex'));
  assert.equal(got, []);
  reader.push(Buffer.from('800000026c6f', 'hex'));
  assert.equal(got, ['hello']);
});

test('a fragment longer than the limit is refused', () => {
  const reader = new RecordReader(() => undefined, 16);
  assert.throws(() => reader.push(Buffer.from('80000100', 'hex')), /256 bytes/);
});

test.run();
