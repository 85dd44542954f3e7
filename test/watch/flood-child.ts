// An attacker (or a broken host) on both of the lab's networks, run in server2's namespaces by the watcher's lab
// test: it records the servers' real heartbeat broadcasts for a while, then floods both broadcast addresses with
// random bytes, bit flips and truncations of real heartbeats, replays of them (from the right source address and
// from the wrong one, on their own network and on the other), and well-formed heartbeats signed with a wrong secret
// that say server2 serves both addresses. Prints what it sent as one JSON line.
//
// argv[2]: JSON { port, captureMs, floodMs, everyMs, perRound, nets: [{ from, broadcast }], pair, nodes }
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { encodeHeartbeat } from '../../agent/net/heartbeat-codec.ts';
import { bindSocket, closeSocket } from '../../agent/net/heartbeat-socket.ts';
import { Prng } from '../../agent/sim/prng.ts';
import { heartbeat } from '../net/heartbeat-fixtures.ts';

interface Options {
  port: number;
  captureMs: number;
  floodMs: number;
  everyMs: number;
  perRound: number;
  /** Our address on each network (the source of what we send there) and that network's broadcast address. */
  nets: Array<{ from: string; broadcast: string }>;
  pair: string;
  nodes: [string, string];
}

const opts = JSON.parse(process.argv[2]!) as Options;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function socketAt(address: string, port: number, reuseAddr = false): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr });
  await bindSocket(socket, port, address);
  socket.setBroadcast(true);
  return socket;
}

// Listening next to the agent and the watcher: broadcasts reach every socket bound to them.
const captured: Buffer[] = [];
const listeners = await Promise.all(opts.nets.map((n) => socketAt(n.broadcast, opts.port, true)));
for (const l of listeners) l.on('message', (packet) => captured.push(packet));
await sleep(opts.captureMs);
await Promise.all(listeners.map(closeSocket));
if (captured.length === 0) throw new Error('no heartbeat captured');

const prng = new Prng(2024);
const wrongSecret = { pair: opts.pair, nodes: opts.nodes, secret: Buffer.from('not the secret of this pair, at all') };
const kinds = {
  garbage: () => randomBytes(prng.int(0, 600)),
  flipped: () => {
    const packet = Buffer.from(prng.pick(captured));
    const bit = prng.int(0, packet.length * 8 - 1);
    packet[bit >> 3]! ^= 1 << (bit & 7);
    return packet;
  },
  truncated: () => prng.pick(captured).subarray(0, prng.int(0, 120)),
  replayed: () => prng.pick(captured),
  forged: () => encodeHeartbeat(wrongSecret, heartbeat(opts.nodes[1], 2 ** 31, prng.int(1, 2 ** 31)), {
    addresses: ['198.51.100.11', '203.0.113.12'],
  }),
};
const sent: Record<string, number> = Object.fromEntries(Object.keys(kinds).map((k) => [k, 0]));
const senders = await Promise.all(opts.nets.map((n) => socketAt(n.from, 0)));
const end = Date.now() + opts.floodMs;
while (Date.now() < end) {
  for (let i = 0; i < opts.perRound; i++) {
    const [kind, make] = prng.pick(Object.entries(kinds));
    const net = prng.int(0, senders.length - 1);
    senders[net]!.send(make(), opts.port, opts.nets[net]!.broadcast);
    sent[kind]!++;
  }
  await sleep(opts.everyMs);
}
await Promise.all(senders.map(closeSocket));
console.log(JSON.stringify({ captured: captured.length, sent }));
