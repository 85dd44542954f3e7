// The watcher's listener on loopback (127.0.1.0/24 and 127.0.2.0/24 stand for nets A and B; their ".255" addresses
// are local like all of 127/8, so the sockets bind there as they bind to a real network's broadcast address, which
// the lab tests). Authentic heartbeats are delivered with the network they came by; everything else is counted.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeHeartbeat, type HeartbeatContext, type WatcherContext } from '../../agent/net/heartbeat-codec.ts';
import { Prng } from '../../agent/sim/prng.ts';
import { HeartbeatListener, type ListenedPair } from '../../agent/watch/listener.ts';
import { ctx, heartbeat, senderCtx, watcherCtx } from '../net/heartbeat-fixtures.ts';
import { freePort, sendRaw, settle, waitFor } from '../net/udp-helpers.ts';

interface Heard {
  pair: string;
  node: string;
  net: string;
  addresses: string[];
}

const NETS = [{ net: 'a', broadcast: '127.0.1.255' }, { net: 'b', broadcast: '127.0.2.255' }];
/** server1 is .1 and server2 .2 on each loopback "network". */
const SOURCES = { server1: { a: '127.0.1.1', b: '127.0.2.1' }, server2: { a: '127.0.1.2', b: '127.0.2.2' } };
const otherKeys = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')] as const;
/** n1 of another pair, with its own secret and key. */
const other: HeartbeatContext = {
  pair: 'other', nodes: ['n1', 'n2'], secret: Buffer.from('the other pair has its own secret'), signingKey: otherKeys[0].privateKey,
};
const otherWatcher: WatcherContext = { pair: 'other', nodes: ['n1', 'n2'], publicKeys: [otherKeys[0].publicKey, otherKeys[1].publicKey] };

async function withListener(body: (l: HeartbeatListener, heard: Heard[], port: number) => Promise<void>, onHeard?: () => void): Promise<void> {
  const port = await freePort();
  const pairs: ListenedPair[] = [
    { ctx: watcherCtx, port, sources: SOURCES },
    { ctx: otherWatcher, port, sources: { n1: { a: '127.0.1.3' }, n2: { b: '127.0.2.4' } } },
  ];
  const listener = new HeartbeatListener({ pairs, networks: NETS, log: () => {}, now: () => performance.now() });
  const heard: Heard[] = [];
  try {
    await listener.start((pair, node, net, addresses) => {
      heard.push({ pair, node, net, addresses });
      onHeard?.();
    });
    await body(listener, heard, port);
  } finally {
    await listener.close();
  }
}

/** A heartbeat of `from`'s, signed by it, for network `net`. */
const packet = (seq: number, { addresses = ['198.51.100.11'], from = 'server1', net = 'a' } = {}) =>
  encodeHeartbeat(senderCtx(from), net, heartbeat(from, 1, seq), { addresses });

test('a heartbeat is heard on the network whose broadcast address it came to, from its sender’s address there', () =>
  withListener(async (_l, heard, port) => {
    await sendRaw('127.0.1.1', '127.0.1.255', port, [packet(1)]);
    await sendRaw('127.0.2.1', '127.0.2.255', port, [packet(1, { net: 'b' })]);
    await sendRaw('127.0.1.3', '127.0.1.255', port, [encodeHeartbeat(other, 'a', heartbeat('n1', 1, 1), { addresses: [] })]);
    await waitFor('three heartbeats', () => heard.length === 3);
    // Each socket delivers in its own order.
    heard.sort((x, y) => `${x.pair}${x.net}`.localeCompare(`${y.pair}${y.net}`));
    assert.equal(heard, [
      { pair: 'lab', node: 'server1', net: 'a', addresses: ['198.51.100.11'] },
      { pair: 'lab', node: 'server1', net: 'b', addresses: ['198.51.100.11'] },
      { pair: 'other', node: 'n1', net: 'a', addresses: [] },
    ]);
  }));

test('forged, replayed, relayed, foreign, misdirected and garbled packets are dropped and counted', () =>
  withListener(async (l, heard, port) => {
    await sendRaw('127.0.1.1', '127.0.1.255', port, [packet(5)]);
    await waitFor('the first heartbeat', () => heard.length === 1);
    // Made by whoever holds the pair's secret but not server2's key (as a watcher holding the secret once could).
    const forged = encodeHeartbeat({ ...ctx, signingKey: generateKeyPairSync('ed25519').privateKey }, 'a', heartbeat('server2', 9, 9), {
      addresses: ['198.51.100.11', '203.0.113.12'],
    });
    const foreign = encodeHeartbeat({ ...ctx, pair: 'elsewhere' }, 'a', heartbeat('server1', 1, 6), { addresses: [] });
    await sendRaw('127.0.1.1', '127.0.1.255', port, [
      forged, packet(5), packet(4), foreign, Buffer.from('garbage'), Buffer.alloc(600), packet(6).subarray(0, 40),
    ]);
    await sendRaw('127.0.1.2', '127.0.1.255', port, [forged]);
    // server1's heartbeat from server2's address, one from its net-B address sent to net A, and its net-B heartbeat
    // sent on net A from its net-A address (a relay that forges the source).
    await sendRaw('127.0.1.2', '127.0.1.255', port, [packet(7)]);
    await sendRaw('127.0.2.1', '127.0.1.255', port, [packet(8)]);
    await sendRaw('127.0.1.1', '127.0.1.255', port, [packet(8, { net: 'b' })]);
    await settle();
    assert.is(heard.length, 1);
    const drops = l.drops();
    assert.equal(
      {
        signature: drops.signature, replay: drops.replay, pair: drops.pair, magic: drops.magic, oversized: drops.oversized,
        truncated: drops.truncated, source: drops.source, hmac: drops.hmac,
      },
      { signature: 3, replay: 1, pair: 1, magic: 1, oversized: 1, truncated: 1, source: 2, hmac: 0 },
    );
    await sendRaw('127.0.1.1', '127.0.1.255', port, [packet(9)]);
    await waitFor('the channel to carry on', () => heard.length === 2);
  }));

test('a fuzz of random bytes and bit flips of real heartbeats: nothing heard but the real ones, and it carries on', () =>
  withListener(async (l, heard, port) => {
    const prng = new Prng(6);
    const real = packet(100);
    for (let batch = 0; batch < 10; batch++) {
      const junk: Buffer[] = [];
      for (let i = 0; i < 100; i++) {
        if (i % 2 === 0) junk.push(randomBytes(prng.int(0, 700)));
        else {
          // Anywhere but in the MAC, which a watcher cannot check (and does not trust).
          const flipped = Buffer.from(real);
          const macBits = [(real.length - 96) * 8, (real.length - 64) * 8];
          let bit = prng.int(0, flipped.length * 8 - 1 - 256);
          if (bit >= macBits[0]!) bit += macBits[1]! - macBits[0]!;
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          junk.push(flipped);
        }
      }
      await sendRaw('127.0.1.1', '127.0.1.255', port, junk);
      // Bursts, so that the socket's receive buffer is not what drops them.
      await waitFor('the burst to be read', () => Object.values(l.drops()).reduce((sum, n) => sum + n, 0) >= (batch + 1) * 100);
    }
    await sendRaw('127.0.1.1', '127.0.1.255', port, [real]);
    await waitFor('the real heartbeat', () => heard.length === 1);
    await settle();
    assert.is(heard.length, 1);
  }));

test('a handler that throws does not stop the listener', async () => {
  let calls = 0;
  await withListener(async (_l, heard, port) => {
    await sendRaw('127.0.1.1', '127.0.1.255', port, [packet(1), packet(2)]);
    await waitFor('both heartbeats', () => calls === 2);
    assert.is(heard.length, 2);
  }, () => {
    calls++;
    throw new Error('broken handler');
  });
});

// 198.51.100.0/24 is used only inside test namespaces, never on the host.
test('a network whose broadcast address is not on this machine: start fails, naming it, and binds nothing', async () => {
  const port = await freePort();
  const listener = new HeartbeatListener({
    pairs: [{ ctx: watcherCtx, port, sources: SOURCES }], networks: [...NETS, { net: 'c', broadcast: '198.51.100.255' }], log: () => {}, now: () => 0,
  });
  try {
    await listener.start(() => {});
    assert.unreachable('should not start');
  } catch (err) {
    assert.match((err as Error).message, /cannot listen for heartbeats on 198\.51\.100\.255 port \d+ \(network c\): EADDRNOTAVAIL/);
  }
  // Its other sockets were closed: the port can be taken without reuse.
  const again = new HeartbeatListener({ pairs: [{ ctx: watcherCtx, port, sources: SOURCES }], networks: NETS, log: () => {}, now: () => 0 });
  await again.start(() => {});
  await again.close();
});

test.run();
