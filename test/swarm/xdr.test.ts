// The swarm's XDR (lab/swarm/xdr.ts) against RFC 4506's encodings, byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XdrError, XdrReader, XdrWriter } from '../../lab/swarm/xdr.ts';

const hex = (b: Buffer) => b.toString('hex');

test('integers are big-endian words; a hyper is two', () => {
  const b = new XdrWriter().u32(1).i32(-2).u64(0x0102030405060708n).bool(true).bytes();
  assert.is(hex(b), '00000001' + 'fffffffe' + '0102030405060708' + '00000001');
  const r = new XdrReader(b);
  assert.equal([r.u32(), r.i32(), r.u64(), r.bool()], [1, -2, 0x0102030405060708n, true]);
  assert.is(r.remaining, 0);
});

test('a variable opaque has its length, then its bytes padded with zeros to four', () => {
  assert.is(hex(new XdrWriter().opaque(Buffer.from('abcde')).bytes()), '00000005' + '6162636465' + '000000');
  assert.is(hex(new XdrWriter().string('abcd').bytes()), '00000004' + '61626364');
  assert.is(hex(new XdrWriter().opaque(Buffer.alloc(0)).bytes()), '00000000');
});

test('a fixed opaque has no length word and must be its exact size', () => {
  assert.is(hex(new XdrWriter().fixed(Buffer.from([1, 2, 3]), 3).bytes()), '01020300');
  assert.throws(() => new XdrWriter().fixed(Buffer.alloc(7), 8), /8 bytes given 7/);
});

test('what is written reads back, padding skipped', () => {
  const b = new XdrWriter().string('héllo').fixed(Buffer.alloc(12, 7), 12).u32(9).bytes();
  const r = new XdrReader(b);
  assert.is(r.string(), 'héllo');
  assert.equal([...r.fixed(12)], Array(12).fill(7));
  assert.is(r.u32(), 9);
});

test('arrays are counted; the writer grows past its first buffer', () => {
  const w = new XdrWriter().u32(300);
  for (let i = 0; i < 300; i++) w.u32(i);
  const r = new XdrReader(w.bytes());
  const values = r.array((x) => x.u32(), 1000);
  assert.is(values.length, 300);
  assert.is(values[299], 299);
});

test('a truncated message, an oversized length or a bad bool is an XdrError, not garbage', () => {
  assert.throws(() => new XdrReader(Buffer.from('000000', 'hex')).u32(), (e: Error) => e instanceof XdrError);
  assert.throws(() => new XdrReader(new XdrWriter().u32(1 << 30).bytes()).opaque(), /exceeds/);
  assert.throws(() => new XdrReader(new XdrWriter().u32(2).bytes()).bool(), /bool 2/);
  assert.throws(() => new XdrReader(Buffer.from('0000000561626364', 'hex')).opaque(), /truncated/);
});

test('raw XDR must be word-aligned', () => {
  assert.throws(() => new XdrWriter().raw(Buffer.alloc(3)), /not word-aligned/);
});

test.run();
