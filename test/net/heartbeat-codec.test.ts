import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Heartbeat } from '../../agent/core/types.ts';
import {
  decodeHeartbeat, decodeSignedHeartbeat, encodeHeartbeat, MAX_PACKET_BYTES, type DecodedHeartbeat,
} from '../../agent/net/heartbeat-codec.ts';
import { ReplayGuard } from '../../agent/net/heartbeat-replay.ts';
import type { HeartbeatDropReason } from '../../agent/ports.ts';
import { Prng } from '../../agent/sim/prng.ts';
import {
  ctx, heartbeat, keys, NET_A, NET_B, PHASES, randomAddresses, randomHeartbeat, senderCtx, watcherCtx,
} from './heartbeat-fixtures.ts';

const MAC_BYTES = 32;
const SIGNATURE_BYTES = 64;
const PROOF_BYTES = MAC_BYTES + SIGNATURE_BYTES;
/** Where the heartbeat starts in a packet of pair "lab": magic, version, pair length, then the 3 bytes of "lab". */
const BODY = 9;

function reasonOf(decoded: DecodedHeartbeat): HeartbeatDropReason | 'accepted' {
  return decoded.ok ? 'accepted' : decoded.reason;
}

const label = (net: string) => Buffer.concat([Buffer.of(Buffer.byteLength(net)), Buffer.from(net)]);

/** A packet with its MAC and signature made valid again: what a partner with a broken encoder would send. */
function signed(unsigned: Buffer, net = NET_A): Buffer {
  const mac = createHmac('sha256', ctx.secret).update(label(net)).update(unsigned).digest();
  return Buffer.concat([unsigned, mac, sign(null, Buffer.concat([label(net), unsigned]), ctx.signingKey)]);
}

function edited(packet: Buffer, edit: (unsigned: Buffer) => void): Buffer {
  const unsigned = Buffer.from(packet.subarray(0, -PROOF_BYTES));
  edit(unsigned);
  return signed(unsigned);
}

const valid = encodeHeartbeat(ctx, NET_A, heartbeat('server1', 3, 10), { addresses: ['198.51.100.11'] });
const withoutEcho = encodeHeartbeat(ctx, NET_A, { ...heartbeat('server1', 3, 10), echo: null }, { addresses: ['198.51.100.11'] });

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
          const decoded = decodeHeartbeat(ctx, encodeHeartbeat(ctx, NET_A, hb, extras), NET_A);
          assert.equal(decoded, { ok: true, hb, extras });
          cases++;
        }
      }
    }
  }
  assert.is(cases, PHASES.length * 3 * 2 * 5);
});

test('a heartbeat is well under the size limit', () => {
  assert.is(valid.length, 200);
  const longest = encodeHeartbeat(
    { ...ctx, pair: 'p'.repeat(32) }, NET_A, randomHeartbeat(new Prng(2)), { addresses: randomAddresses(new Prng(3), 4) },
  );
  assert.is(longest.length, 241);
  assert.ok(longest.length < MAX_PACKET_BYTES / 2);
});

test('encoding refuses what the packet cannot carry', () => {
  const hb = heartbeat('server1', 1, 1);
  const tooBig = { ...hb, seq: 2 ** 32 };
  assert.throws(() => encodeHeartbeat(ctx, NET_A, tooBig, { addresses: [] }), /seq: expected an integer 0..2\^32-1, got 4294967296/);
  assert.throws(() => encodeHeartbeat(ctx, NET_A, { ...hb, from: 'server3' }, { addresses: [] }), /node "server3"/);
  assert.throws(() => encodeHeartbeat(ctx, NET_A, hb, { addresses: ['198.51.100.300'] }), /198\.51\.100\.300/);
  assert.not.throws(() => encodeHeartbeat(ctx, NET_A, hb, { addresses: randomAddresses(new Prng(4), 79) }));
  assert.throws(() => encodeHeartbeat(ctx, NET_A, hb, { addresses: randomAddresses(new Prng(4), 80) }), /at most 512/);
  assert.throws(() => encodeHeartbeat({ ...ctx, pair: 'p'.repeat(33) }, NET_A, hb, { addresses: [] }), /1 to 32 bytes/);
  const counter = { ...hb, status: { ...hb.status, counter: 2 ** 53 } };
  assert.throws(() => encodeHeartbeat(ctx, NET_A, counter, { addresses: [] }), /status.counter/);
});

test('each drop reason comes from the packet that deserves it', () => {
  const cases: Array<[HeartbeatDropReason, Buffer]> = [
    ['truncated', valid.subarray(0, 5)],
    ['truncated', valid.subarray(0, BODY - 1)],
    ['truncated', valid.subarray(0, BODY + 86 + 4 + 1 + PROOF_BYTES - 1)],
    ['oversized', Buffer.concat([valid, Buffer.alloc(MAX_PACKET_BYTES + 1 - valid.length)])],
    ['magic', Buffer.concat([Buffer.from('HNFX'), valid.subarray(4)])],
    ['version', edited(valid, (b) => { b[4] = 1; })],
    ['pair', encodeHeartbeat({ ...ctx, pair: 'other' }, NET_A, heartbeat('server1', 1, 1), { addresses: [] })],
    ['pair', encodeHeartbeat({ ...ctx, pair: 'lab2' }, NET_A, heartbeat('server1', 1, 1), { addresses: [] })],
    ['hmac', encodeHeartbeat({ ...ctx, secret: Buffer.from('not the lab secret') }, NET_A, heartbeat('server1', 1, 1), { addresses: [] })],
    ['hmac', Buffer.concat([valid.subarray(0, -SIGNATURE_BYTES - 1), Buffer.from([valid.at(-SIGNATURE_BYTES - 1)! ^ 1]), valid.subarray(-SIGNATURE_BYTES)])],
    ['hmac', encodeHeartbeat(ctx, NET_B, heartbeat('server1', 3, 10), { addresses: ['198.51.100.11'] })], // relayed from net B
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
  for (const [reason, packet] of cases) assert.is(reasonOf(decodeHeartbeat(ctx, packet, NET_A)), reason, `expected ${reason}`);
  assert.ok(decodeHeartbeat(ctx, edited(valid, () => {}), NET_A).ok, 're-signing alone changes nothing');
});

test('a watcher accepts a heartbeat signed by the server it names, on the network it was signed for, and nothing else', () => {
  const hb = heartbeat('server2', 3, 10);
  const fromServer2 = encodeHeartbeat(senderCtx('server2'), NET_A, hb, { addresses: [] });
  assert.ok(decodeSignedHeartbeat(watcherCtx, fromServer2, NET_A).ok);
  // Relayed onto the other network, or signed by the other server's key (a server cannot speak for its partner):
  assert.is(reasonOf(decodeSignedHeartbeat(watcherCtx, fromServer2, NET_B)), 'signature');
  assert.is(reasonOf(decodeSignedHeartbeat(watcherCtx, encodeHeartbeat(ctx, NET_A, hb, { addresses: [] }), NET_A)), 'signature');
  // Made by someone with the pair's secret but without server2's key: the MAC is good, the signature is not.
  const stranger = { ...ctx, signingKey: generateKeyPairSync('ed25519').privateKey };
  assert.is(reasonOf(decodeSignedHeartbeat(watcherCtx, encodeHeartbeat(stranger, NET_A, hb, { addresses: [] }), NET_A)), 'signature');
  // And the other way: everything a watcher holds makes no heartbeat that a server accepts.
  const withWatcherMaterial = { ...ctx, secret: Buffer.from(keys.server2.publicKey.export({ format: 'der', type: 'spki' })) };
  assert.is(reasonOf(decodeHeartbeat(ctx, encodeHeartbeat(withWatcherMaterial, NET_A, hb, { addresses: [] }), NET_A)), 'hmac');
});

test('fuzz: a watcher accepts no packet with flipped bits outside the MAC', () => {
  const prng = new Prng(15);
  const packets = Array.from({ length: 20 }, () => {
    const hb = randomHeartbeat(prng);
    return encodeHeartbeat(senderCtx(hb.from), NET_A, hb, { addresses: randomAddresses(prng, prng.int(0, 4)) });
  });
  for (const packet of packets) assert.ok(decodeSignedHeartbeat(watcherCtx, packet, NET_A).ok);
  for (let i = 0; i < 2000; i++) {
    const original = prng.pick(packets);
    const mutated = Buffer.from(original);
    const macStart = mutated.length - PROOF_BYTES;
    let bit = prng.int(0, (mutated.length - MAC_BYTES) * 8 - 1);
    if (bit >= macStart * 8) bit += MAC_BYTES * 8;
    mutated[bit >> 3]! ^= 1 << (bit & 7);
    assert.is.not(reasonOf(decodeSignedHeartbeat(watcherCtx, mutated, NET_A)), 'accepted', `flip ${i} (seed 15)`);
  }
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
    const reason = reasonOf(decodeHeartbeat(ctx, packet, NET_A));
    assert.is.not(reason, 'accepted', `random packet ${i} (seed 11)`);
    reasons.add(reason);
  }
  assert.equal([...reasons].sort(), ['hmac', 'magic', 'oversized', 'truncated']);
});

test('fuzz: no packet with flipped bits is accepted', () => {
  const prng = new Prng(12);
  const packets = Array.from({ length: 50 }, () =>
    encodeHeartbeat(ctx, NET_A, randomHeartbeat(prng), { addresses: randomAddresses(prng, prng.int(0, 4)) }));
  let unchanged = 0;
  for (let i = 0; i < 20_000; i++) {
    const original = prng.pick(packets);
    const mutated = Buffer.from(original);
    const flips = i % 2 === 0 ? 1 : prng.int(2, 16);
    // The agent checks the MAC and leaves the signature to watchers: flips land before the signature.
    for (let f = 0; f < flips; f++) {
      const bit = prng.int(0, (mutated.length - SIGNATURE_BYTES) * 8 - 1);
      mutated[bit >> 3]! ^= 1 << (bit & 7);
    }
    const decoded = decodeHeartbeat(ctx, mutated, NET_A);
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
    const packet = encodeHeartbeat(ctx, NET_A, randomHeartbeat(prng), { addresses: randomAddresses(prng, n % 5) });
    for (let length = 0; length < packet.length; length++) {
      const reason = reasonOf(decodeHeartbeat(ctx, packet.subarray(0, length), NET_A));
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
    const decoded = decodeHeartbeat(ctx, packet, NET_A);
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
      packet = encodeHeartbeat(ctx, NET_A, heartbeat('server2', gen, prng.int(1, i + 1)), { addresses: [] });
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
