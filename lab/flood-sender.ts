// An attacker (or a broken host) on both of the lab's networks, run in a lab node's network namespace by
// lab/flood.ts: it records the servers' real heartbeat broadcasts for a while, then floods its targets with random
// bytes, the "HNFS" magic followed by garbage, bit flips and truncations of real heartbeats, replays of them (on
// their own network and on the other), and well-formed heartbeats made with a wrong secret and key that say the
// sender serves both service addresses. Stops after `packets` packets or `floodMs`, whichever comes first. Prints what it
// sent as one JSON line: { captured, sent: { kind: count }, durationMs }.
//
// argv[2]: JSON FloodOptions (lab/flood.ts)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { encodeHeartbeat } from '../agent/net/heartbeat-codec.ts';
import { bindSocket, closeSocket } from '../agent/net/heartbeat-socket.ts';
import { Prng } from '../agent/sim/prng.ts';
import { heartbeat } from '../test/net/heartbeat-fixtures.ts';
import type { FloodOptions } from './flood.ts';

const opts = JSON.parse(process.argv[2]!) as FloodOptions;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function socketAt(address: string, port: number, reuseAddr = false): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr });
  await bindSocket(socket, port, address);
  socket.setBroadcast(true);
  return socket;
}

// Listening next to the agents and watchers: broadcasts reach every socket bound to them.
const captured: Buffer[] = [];
const listeners = await Promise.all(opts.nets.map((n) => socketAt(n.broadcast, opts.port, true)));
for (const l of listeners) l.on('message', (packet) => captured.length < 256 && captured.push(packet));
await sleep(opts.captureMs);
await Promise.all(listeners.map(closeSocket));
if (captured.length === 0) throw new Error('no heartbeat captured');

const prng = new Prng(2024);
const wrongSecret = {
  pair: opts.pair, nodes: opts.nodes, secret: Buffer.from('not the secret of this pair, at all'),
  signingKey: generateKeyPairSync('ed25519').privateKey,
};
const kinds: Record<string, (net: string) => Buffer> = {
  garbage: () => randomBytes(prng.int(0, 600)),
  magic: () => Buffer.concat([Buffer.from('HNFS'), randomBytes(prng.int(0, 200))]),
  flipped: () => {
    const packet = Buffer.from(prng.pick(captured));
    const bit = prng.int(0, packet.length * 8 - 1);
    packet[bit >> 3]! ^= 1 << (bit & 7);
    return packet;
  },
  truncated: () => prng.pick(captured).subarray(0, prng.int(0, 120)),
  replayed: () => prng.pick(captured),
  forged: (net) => encodeHeartbeat(wrongSecret, net, heartbeat(opts.nodes[1], 2 ** 30, prng.int(1, 2 ** 31)), {
    addresses: ['198.51.100.11', '203.0.113.12'],
  }),
};
const sent: Record<string, number> = Object.fromEntries(Object.keys(kinds).map((k) => [k, 0]));
const senders = await Promise.all(opts.nets.map((n) => socketAt(n.from, 0)));
const started = Date.now();
const end = started + (opts.floodMs ?? Infinity);
let total = 0;
while (Date.now() < end && total < (opts.packets ?? Infinity)) {
  // Each round awaited: a burst larger than the socket's buffer would only be dropped by our own kernel.
  const round: Promise<void>[] = [];
  for (let i = 0; i < opts.perRound && total < (opts.packets ?? Infinity); i++, total++) {
    const [kind, make] = prng.pick(Object.entries(kinds));
    const net = prng.int(0, senders.length - 1);
    const target = prng.pick(opts.nets[net]!.targets);
    round.push(new Promise((resolve) => senders[net]!.send(make(opts.nets[net]!.net), opts.port, target, () => resolve())));
    sent[kind]!++;
  }
  await Promise.all(round);
  if (opts.everyMs > 0) await sleep(opts.everyMs);
}
await Promise.all(senders.map(closeSocket));
console.log(JSON.stringify({ captured: captured.length, sent, durationMs: Date.now() - started }));
