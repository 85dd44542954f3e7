// Two transports on one machine, on loopback only: all of 127.0.0.0/8 is local on Linux, so 127.0.1.0/24 and
// 127.0.2.0/24 stand for the pair's two networks without configuring any address.
import { networkInterfaces } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Heartbeat } from '../../agent/core/types.ts';
import { encodeHeartbeat } from '../../agent/net/heartbeat-codec.ts';
import type { HeartbeatLog } from '../../agent/net/heartbeat-log.ts';
import { noDrops, type NetworkEndpoint } from '../../agent/ports.ts';
import { UdpHeartbeats } from '../../agent/net/heartbeat-udp.ts';
import type { HeartbeatExtras } from '../../agent/ports.ts';
import { ctx, heartbeat, senderCtx } from './heartbeat-fixtures.ts';
import { freePort, sendRaw, settle, waitFor } from './udp-helpers.ts';

interface Delivery {
  net: string;
  hb: Heartbeat;
  extras: HeartbeatExtras;
}

interface Node {
  transport: UdpHeartbeats;
  port: number;
  delivered: Delivery[];
}

const [server1, server2] = ctx.nodes;

function loopbackNetworks(self: 1 | 2): NetworkEndpoint[] {
  const partner = 3 - self;
  return ['a', 'b'].map((net, i) => ({
    net,
    iface: 'lo',
    localAddress: `127.0.${i + 1}.${self}`,
    prefix: 24,
    partnerAddress: `127.0.${i + 1}.${partner}`,
    broadcast: `127.0.${i + 1}.255`,
  }));
}

/** Runs `body` with server1 and server2 listening on loopback, and closes everything whatever happens. */
async function withPair(
  body: (one: Node, two: Node) => Promise<void>,
  { log, now, onRtt }: { log: HeartbeatLog; now: () => number; onRtt?: (net: string, ms: number) => void } =
    { log: () => {}, now: () => performance.now() },
): Promise<void> {
  const ports = [await freePort(), await freePort()] as const;
  const nodes = ([0, 1] as const).map((selfIndex): Node => {
    const transport = new UdpHeartbeats({
      ctx: senderCtx(ctx.nodes[selfIndex]),
      selfIndex,
      port: ports[selfIndex],
      partnerPort: ports[1 - selfIndex],
      networks: loopbackNetworks(selfIndex === 0 ? 1 : 2),
      log,
      now,
      onRtt,
    });
    return { transport, port: ports[selfIndex], delivered: [] };
  });
  const [one, two] = nodes as [Node, Node];
  try {
    for (const node of nodes) await node.transport.start((net, hb, extras) => node.delivered.push({ net, hb, extras }));
    await body(one, two);
  } finally {
    await Promise.all(nodes.map((node) => node.transport.close()));
  }
}

test('a heartbeat reaches the partner once on each network, with the network it came by', () => {
  return withPair(async (one, two) => {
    const hb = heartbeat(server1, 1, 1);
    one.transport.send(hb, { addresses: ['198.51.100.11'] });
    await waitFor('both copies', () => two.delivered.length === 2);
    two.transport.send(heartbeat(server2, 4, 7), { addresses: [] });
    await waitFor('the answer', () => one.delivered.length === 2);
    await settle();

    assert.equal(two.delivered.map((d) => d.net).sort(), ['a', 'b']);
    for (const d of two.delivered) assert.equal(d, { net: d.net, hb, extras: { addresses: ['198.51.100.11'] } });
    assert.equal(one.delivered.map((d) => d.hb.seq), [7, 7]);
    // The copy sent to the broadcast address is the expected second arrival, not a dropped packet.
    for (const node of [one, two]) assert.ok(Object.values(node.transport.drops()).every((n) => n === 0), 'no drops');
  });
});

test('the echo of a heartbeat gives each network a round trip, net of the time the partner held it', () => {
  let now = 1000;
  const rtts: Array<[string, number]> = [];
  return withPair(async (one, two) => {
    // Packets arrive asynchronously, so the clock set right after a send is the one their arrival reads. server1
    // sends at 1000; server2 hears it at 1010 (on both networks) and echoes it at 1040, having held it 30 ms;
    // server1 hears the echo at 1050: a round trip of 50 ms less the 30 held.
    one.transport.send({ ...heartbeat(server1, 1, 1), echo: null }, { addresses: [] });
    now = 1010;
    await waitFor('both copies', () => two.delivered.length === 2);
    now = 1040;
    two.transport.send({ ...heartbeat(server2, 4, 7), echo: { gen: 1, seq: 1 } }, { addresses: [] });
    now = 1050;
    await waitFor('both copies of the echo', () => one.delivered.length === 2);
    assert.equal(rtts.sort(), [['a', 20], ['b', 20]]);
    assert.equal(one.transport.traffic(), { a: { sent: 1, received: 1, rttMs: 20 }, b: { sent: 1, received: 1, rttMs: 20 } });
    assert.equal(two.transport.traffic().a, { sent: 1, received: 1, rttMs: null }, 'server1 echoed nothing back yet');
  }, { log: () => {}, now: () => now, onRtt: (net, ms) => rtts.push([net, ms]) });
});

const NET = 'a';

test('forged, replayed, relayed, garbled, misdirected, self-addressed and runaway packets are counted and never delivered', () => {
  return withPair(async (one, two) => {
    const first = heartbeat(server1, 1, 1);
    one.transport.send(first, { addresses: [] });
    one.transport.send(heartbeat(server1, 1, 2), { addresses: [] });
    await waitFor('two heartbeats on two networks', () => two.delivered.length === 4);

    const next = heartbeat(server1, 1, 3);
    const forged = encodeHeartbeat({ ...ctx, secret: Buffer.from('a guess at the secret') }, NET, next, { addresses: [] });
    const replayed = encodeHeartbeat(ctx, NET, first, { addresses: [] });
    const garbage = Buffer.from('GET / HTTP/1.0\r\n\r\n');
    const impostor = encodeHeartbeat(ctx, NET, heartbeat(server2, 1, 1), { addresses: [] });
    // Made for net b, sent on net a from server1's address there (a relay that can forge its source):
    const relayed = encodeHeartbeat(ctx, 'b', next, { addresses: [] });
    // A fence term far past any server1 has used: what a leaked key or a broken partner could send.
    const runaway = encodeHeartbeat(ctx, NET, { ...next, outbox: { ...next.outbox, fence: { term: 2 ** 32 - 1, active: true } } }, { addresses: [] });
    await sendRaw('127.0.1.1', '127.0.1.2', two.port, [forged, replayed, garbage, impostor, relayed, runaway]);
    // From a third address on net a (a client): not server1's, whatever it carries.
    await sendRaw('127.0.1.3', '127.0.1.2', two.port, [encodeHeartbeat(ctx, NET, next, { addresses: [] })]);
    // From outside both networks, even a valid and fresh heartbeat is refused: it cannot be told which network it used.
    await sendRaw('127.0.0.1', '127.0.1.2', two.port, [encodeHeartbeat(ctx, NET, next, { addresses: [] })]);
    // server2's own packet from its own address is its broadcast coming back: ignored, not counted.
    await sendRaw('127.0.1.2', '127.0.1.2', two.port, [impostor]);

    const expected = { ...noDrops(), magic: 1, hmac: 2, malformed: 1, source: 1, replay: 1, jump: 1, self: 1 };
    await waitFor('the drops', () => two.transport.drops().self === 1 && two.transport.drops().malformed === 1 && two.transport.drops().source === 1);
    await settle();
    assert.equal(two.transport.drops(), expected);
    assert.is(two.delivered.length, 4);

    one.transport.send(next, { addresses: [] });
    await waitFor('the channel to carry on', () => two.delivered.length === 6);
  });
});

test('drops are logged at most once per reason per 10 s, with how many there were', () => {
  let now = 0;
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const log: HeartbeatLog = (level, message, fields) => lines.push([level, message, fields]);
  return withPair(async (_one, two) => {
    const garbage = Buffer.from('not a heartbeat');
    await sendRaw('127.0.1.1', '127.0.1.2', two.port, [garbage, garbage, garbage]);
    await waitFor('the drops', () => two.transport.drops().magic === 3);
    now += 10_000;
    await sendRaw('127.0.1.1', '127.0.1.2', two.port, [garbage]);
    await waitFor('the next drop', () => two.transport.drops().magic === 4);
    assert.equal(lines, [
      ['warn', 'dropped heartbeat packets (magic)', { reason: 'magic', source: '127.0.1.1', count: 1 }],
      ['warn', 'dropped heartbeat packets (magic)', { reason: 'magic', source: '127.0.1.1', count: 3 }],
    ]);
  }, { log, now: () => now });
});

test('a sender whose address is missing logs it, keeps trying, and never throws', async () => {
  const missing = '203.0.113.254';
  const local = Object.values(networkInterfaces()).flat().map((i) => i?.address);
  assert.not.ok(local.includes(missing), `${missing} must not be an address of this machine`);
  let now = 0;
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const transport = new UdpHeartbeats({
    ctx,
    selfIndex: 0,
    port: await freePort(),
    networks: [{
      net: '203.0.113.0/24', iface: 'eth9', localAddress: missing, prefix: 24,
      partnerAddress: '203.0.113.12', broadcast: '203.0.113.255',
    }],
    log: (level, message, fields) => lines.push([level, message, fields]),
    now: () => now,
  });
  try {
    await transport.start(() => assert.unreachable('nothing can arrive'));
    assert.is(lines.length, 1);
    const [level, message, fields] = lines[0]!;
    assert.is(level, 'warn');
    assert.match(message, `cannot bind the heartbeat sender to ${missing} on eth9`);
    assert.equal(fields, { net: '203.0.113.0/24', iface: 'eth9', localAddress: missing, error: 'EADDRNOTAVAIL', count: 1 });

    for (let i = 0; i < 3; i++) {
      transport.send(heartbeat(server1, 1, i + 1), { addresses: [] });
      await settle();
    }
    assert.is(lines.length, 1, 'retries within 10 s are not logged');
    now += 10_000;
    transport.send(heartbeat(server1, 1, 4), { addresses: [] });
    await waitFor('the next line', () => lines.length === 2);
    assert.equal(lines[1]![2]!.count, 4, 'the three retries before and this one');

    const unencodable = { ...heartbeat(server1, 1, 5), seq: -1 };
    transport.send(unencodable, { addresses: [] });
    assert.equal(lines.at(-1)!.slice(0, 2), ['error', 'cannot encode a heartbeat']);
  } finally {
    await transport.close();
  }
});

test.run();
