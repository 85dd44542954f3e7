import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Heartbeat } from '../../agent/core/types.ts';
import {
  decodeHeartbeat, encodeHeartbeat, MAX_PACKET_BYTES, type DecodedHeartbeat,
} from '../../agent/net/heartbeat-codec.ts';
import { ReplayGuard } from '../../agent/net/heartbeat-replay.ts';
import type { HeartbeatDropReason } from '../../agent/ports.ts';
import { Prng } from '../../agent/sim/prng.ts';
import { ctx, heartbeat, PHASES, randomAddresses, randomHeartbeat } from './heartbeat-fixtures.ts';

const MAC_BYTES = 32;
/** Where the heartbeat starts in a packet of pair "lab": magic, version, pair length, then the 3 bytes of "lab". */
const BODY = 9;

function reasonOf(decoded: DecodedHeartbeat): HeartbeatDropReason | 'accepted' {
  return decoded.ok ? 'accepted' : decoded.reason;
}

/** A packet with its MAC made valid again: what a partner with a broken encoder would send. */
function signed(unsigned: Buffer): Buffer {
  return Buffer.concat([unsigned, createHmac('sha256', ctx.secret).update(unsigned).digest()]);
}

function edited(packet: Buffer, edit: (unsigned: Buffer) => void): Buffer {
  const unsigned = Buffer.from(packet.subarray(0, -MAC_BYTES));
  edit(unsigned);
  return signed(unsigned);
}

const valid = encodeHeartbeat(ctx, heartbeat('server1', 3, 10), { addresses: ['198.51.100.11'] });
const withoutEcho = encodeHeartbeat(ctx, { ...heartbeat('server1', 3, 10), echo: null }, { addresses: ['198.51.100.11'] });

test('every kind of heartbeat comes back as it was sent', () => {
  const prng = new Prng(1);
  const fences = [null, { term: 7, active: true }, { term: 8, active: false }];
  const echoes = [null, { gen: 5, seq: 4000000000 }];
  let cases = 0;
  for (const phase of PHASES) {
    for (const fence of fences) {
      for (const echo of echoes) {
        for (let count = 0; count <= 4; count++) {
          const hb = randomHeartbeat(prng, phase);
          hb.outbox.fence = fence;
          hb.echo = echo;
          // The hold time travels in whole microseconds, and only with an echo.
          const echoHeldMs = echo === null ? null : prng.pick([null, 0, 0.25, prng.int(0, 4_000_000) / 1000]);
          const extras = { addresses: randomAddresses(prng, count), echoHeldMs };
          const decoded = decodeHeartbeat(ctx, encodeHeartbeat(ctx, hb, extras));
          assert.equal(decoded, { ok: true, hb, extras });
          cases++;
        }
      }
    }
  }
  assert.is(cases, PHASES.length * 3 * 2 * 5);
});

test('a heartbeat is well under the size limit', () => {
  assert.is(valid.length, 136);
  const longest = encodeHeartbeat(
    { ...ctx, pair: 'p'.repeat(32) }, randomHeartbeat(new Prng(2)), { addresses: randomAddresses(new Prng(3), 4) },
  );
  assert.is(longest.length, 177);
  assert.ok(longest.length < MAX_PACKET_BYTES / 2);
});

test('encoding refuses what the packet cannot carry', () => {
  const hb = heartbeat('server1', 1, 1);
  const tooBig = { ...hb, seq: 2 ** 32 };
  assert.throws(() => encodeHeartbeat(ctx, tooBig, { addresses: [] }), /seq: expected an integer 0..2\^32-1, got 4294967296/);
  assert.throws(() => encodeHeartbeat(ctx, { ...hb, from: 'server3' }, { addresses: [] }), /node "server3"/);
  assert.throws(() => encodeHeartbeat(ctx, hb, { addresses: ['198.51.100.300'] }), /198\.51\.100\.300/);
  assert.not.throws(() => encodeHeartbeat(ctx, hb, { addresses: randomAddresses(new Prng(4), 95) }));
  assert.throws(() => encodeHeartbeat(ctx, hb, { addresses: randomAddresses(new Prng(4), 96) }), /at most 512/);
  assert.throws(() => encodeHeartbeat({ ...ctx, pair: 'p'.repeat(33) }, hb, { addresses: [] }), /1 to 32 bytes/);
  const counter = { ...hb, status: { ...hb.status, counter: 2 ** 53 } };
  assert.throws(() => encodeHeartbeat(ctx, counter, { addresses: [] }), /status.counter/);
});

test('each drop reason comes from the packet that deserves it', () => {
  const cases: Array<[HeartbeatDropReason, Buffer]> = [
    ['truncated', valid.subarray(0, 5)],
    ['truncated', valid.subarray(0, BODY - 1)],
    ['truncated', valid.subarray(0, BODY + 86 + 4 + 1 + MAC_BYTES - 1)],
    ['oversized', Buffer.concat([valid, Buffer.alloc(MAX_PACKET_BYTES + 1 - valid.length)])],
    ['magic', Buffer.concat([Buffer.from('HNFX'), valid.subarray(4)])],
    ['version', edited(valid, (b) => { b[4] = 1; })],
    ['pair', encodeHeartbeat({ ...ctx, pair: 'other' }, heartbeat('server1', 1, 1), { addresses: [] })],
    ['pair', encodeHeartbeat({ ...ctx, pair: 'lab2' }, heartbeat('server1', 1, 1), { addresses: [] })],
    ['hmac', encodeHeartbeat({ ...ctx, secret: Buffer.from('not the lab secret') }, heartbeat('server1', 1, 1), { addresses: [] })],
    ['hmac', Buffer.concat([valid.subarray(0, -1), Buffer.from([valid.at(-1)! ^ 1])])],
    ['malformed', edited(valid, (b) => { b[BODY] = 2; })], // from: no third node
    ['malformed', edited(valid, (b) => { b[BODY + 17] = 9; })], // status.node
    ['malformed', edited(valid, (b) => { b[BODY + 30] = PHASES.length; })], // phase
    ['malformed', edited(valid, (b) => { b[BODY + 31] = 0b100; })], // owns a third group
    ['malformed', edited(valid, (b) => { b[BODY + 32] = 2; })], // isolated is neither 0 nor 1
    ['malformed', edited(valid, (b) => { b.writeUInt32BE(5, BODY + 54); })], // a term without a fence
    ['malformed', edited(valid, (b) => { b[BODY + 75] = 0; })], // an echo's gen and seq without the echo
    ['malformed', edited(withoutEcho, (b) => { b.writeUInt32BE(5, BODY + 86); })], // a hold time without an echo
    ['malformed', edited(valid, (b) => { b.writeDoubleBE(-1, BODY + 22); })], // counter
    ['malformed', edited(valid, (b) => { b.writeDoubleBE(0.5, BODY + 22); })],
    ['malformed', edited(valid, (b) => { b.writeDoubleBE(Number.NaN, BODY + 9); })], // sentAt
    ['malformed', edited(valid, (b) => { b.writeDoubleBE(Number.POSITIVE_INFINITY, BODY + 9); })],
    ['malformed', edited(valid, (b) => { b[BODY + 85] = 2; })], // maintenance is neither 0 nor 1
    ['truncated', edited(valid, (b) => { b[BODY + 90] = 2; })], // two addresses announced, one present
    ['malformed', edited(valid, (b) => { b[BODY + 90] = 0; })], // one address more than announced
  ];
  for (const [reason, packet] of cases) assert.is(reasonOf(decodeHeartbeat(ctx, packet)), reason, `expected ${reason}`);
  assert.ok(decodeHeartbeat(ctx, edited(valid, () => {})).ok, 're-signing alone changes nothing');
});

// The fuzz tests draw everything from seeded PRNGs, so a failure reproduces; the seed is in each message.

test('fuzz: random bytes never decode and never throw', () => {
  const prng = new Prng(11);
  const header = valid.subarray(0, BODY);
  const reasons = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const noise = Buffer.from(Array.from({ length: prng.int(0, 600) }, () => prng.int(0, 255)));
    // Half behind a valid header, to reach the MAC check and the length checks around it.
    const packet = i % 2 === 0 ? noise : Buffer.concat([header, noise]);
    const reason = reasonOf(decodeHeartbeat(ctx, packet));
    assert.is.not(reason, 'accepted', `random packet ${i} (seed 11)`);
    reasons.add(reason);
  }
  assert.equal([...reasons].sort(), ['hmac', 'magic', 'oversized', 'truncated']);
});

test('fuzz: no packet with flipped bits is accepted', () => {
  const prng = new Prng(12);
  const packets = Array.from({ length: 50 }, () =>
    encodeHeartbeat(ctx, randomHeartbeat(prng), { addresses: randomAddresses(prng, prng.int(0, 4)) }));
  let unchanged = 0;
  for (let i = 0; i < 20_000; i++) {
    const original = prng.pick(packets);
    const mutated = Buffer.from(original);
    const flips = i % 2 === 0 ? 1 : prng.int(2, 16);
    for (let f = 0; f < flips; f++) {
      const bit = prng.int(0, mutated.length * 8 - 1);
      mutated[bit >> 3]! ^= 1 << (bit & 7);
    }
    const decoded = decodeHeartbeat(ctx, mutated);
    if (mutated.equals(original)) {
      // The same bit flipped back: the packet is the original, and must still decode.
      unchanged++;
      assert.ok(decoded.ok, `flip ${i} (seed 12)`);
      continue;
    }
    assert.is.not(reasonOf(decoded), 'accepted', `flip ${i} (seed 12)`);
  }
  assert.ok(unchanged < 100);
});

test('fuzz: every truncation of a packet is refused', () => {
  const prng = new Prng(13);
  for (let n = 0; n < 20; n++) {
    const packet = encodeHeartbeat(ctx, randomHeartbeat(prng), { addresses: randomAddresses(prng, n % 5) });
    for (let length = 0; length < packet.length; length++) {
      const reason = reasonOf(decodeHeartbeat(ctx, packet.subarray(0, length)));
      assert.ok(reason === 'truncated' || reason === 'hmac', `packet ${n} cut to ${length} bytes: ${reason} (seed 13)`);
    }
  }
});

test('fuzz: through the replay guard, no heartbeat counts twice on a network and none goes back in time', () => {
  const prng = new Prng(14);
  const guard = new ReplayGuard();
  const accepted = new Set<string>();
  let newest: Heartbeat | null = null;
  const offer = (packet: Buffer, net: string, what: string): boolean => {
    const decoded = decodeHeartbeat(ctx, packet);
    if (!decoded.ok) throw new Error(`${what} did not decode: ${decoded.reason} (seed 14)`);
    const { hb } = decoded;
    if (guard.check(net, hb) !== 'fresh') return false;
    const key = `${hb.gen}/${hb.seq}/${net}`;
    assert.not.ok(accepted.has(key), `${what}: heartbeat ${key} accepted twice (seed 14)`);
    accepted.add(key);
    if (newest) {
      const older = hb.gen < newest.gen || (hb.gen === newest.gen && hb.seq < newest.seq);
      assert.not.ok(older, `${what}: heartbeat ${hb.gen}/${hb.seq} accepted after ${newest.gen}/${newest.seq} (seed 14)`);
    }
    newest = hb;
    return true;
  };

  const sent: Buffer[] = [];
  let fresh = 0;
  for (let i = 0; i < 20_000; i++) {
    // Mostly new heartbeats whose gen and seq grow as a sender's do, sometimes an old packet sent again.
    let packet = prng.chance(0.3) ? sent[prng.int(0, sent.length - 1)] : undefined;
    if (!packet) {
      const gen = 1 + Math.floor(i / 5000) - (prng.chance(0.01) ? 1 : 0);
      packet = encodeHeartbeat(ctx, heartbeat('server2', gen, prng.int(1, i + 1)), { addresses: [] });
      sent.push(packet);
    }
    if (offer(packet, prng.pick(['a', 'b']), `packet ${i}`)) fresh++;
  }
  assert.ok(fresh > 100, `only ${fresh} fresh heartbeats: the test exercises nothing`);
  // Replaying everything once more: at most the newest heartbeat is news, on a network it had not reached yet.
  let freshOnReplay = 0;
  sent.forEach((packet, i) => {
    for (const net of ['a', 'b']) if (offer(packet, net, `replay of packet ${i}`)) freshOnReplay++;
  });
  assert.ok(freshOnReplay <= 1);
});

test.run();
