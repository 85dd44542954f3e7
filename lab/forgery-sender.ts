// A client that holds everything a watcher holds (the pair's config with the servers' public keys) and tries to
// change server1's state, run in client1's network namespace by lab/forgery.ts. It can forge its source address
// (a raw socket): each packet comes from server2's own address on the network it is sent on, so that only the
// heartbeat's own proofs stand between it and server1's core.
//
// - `attack`: records the servers' broadcasts for a while (kept in `capturedFile` for `replay`), then sends
//   server1 a fence of server2's made with the watcher's key material, the same from client1's own address,
//   server2's net-B heartbeats relayed onto net A, server2's net-A heartbeats replayed, and (with the pair's secret,
//   as if it had leaked) a fence whose term jumps far ahead.
// - `replay`: after server1's agent restarted, sends it server2's heartbeats recorded before the restart.
// Prints what it sent as one JSON line: { kind: count }.
//
// argv[2]: JSON ForgeryOptions (lab/forgery.ts)
import { generateKeyPairSync } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import raw from 'raw-socket';
import { encodeHeartbeat } from '../agent/net/heartbeat-codec.ts';
import { bindSocket, closeSocket } from '../agent/net/heartbeat-socket.ts';
import { rawIpSender, udpPacket } from '../agent/net/ipv4-packet.ts';
import { publicKeyFromText } from '../agent/net/keys.ts';
import { heartbeat } from '../test/net/heartbeat-fixtures.ts';
import type { ForgeryOptions } from './forgery.ts';

const opts = JSON.parse(process.argv[2]!) as ForgeryOptions;
const [netA, netB] = opts.nets;
const sender = rawIpSender(raw.Protocol.UDP);
const sent: Record<string, number> = {};

/** One packet to server1 on `net`, from server2's address there (or `from`). */
async function send(kind: string, net: ForgeryOptions['nets'][number], packet: Buffer, from = net.server2): Promise<void> {
  await sender.send(udpPacket(from, opts.port, net.server1, opts.port, packet), net.server1);
  sent[kind] = (sent[kind] ?? 0) + 1;
  await new Promise((r) => setTimeout(r, 2));
}

interface Captured { net: number; source: string; packet: string }

async function capture(): Promise<Captured[]> {
  const captured: Captured[] = [];
  const sockets = await Promise.all(opts.nets.map(async (n, i) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await bindSocket(socket, opts.port, n.broadcast);
    socket.on('message', (packet, from) => captured.push({ net: i, source: from.address, packet: packet.toString('base64') }));
    return socket;
  }));
  await new Promise((r) => setTimeout(r, opts.captureMs));
  await Promise.all(sockets.map(closeSocket));
  return captured;
}

const fromServer2 = (captured: Captured[], net: number) =>
  captured.filter((c) => c.net === net && c.source === opts.nets[net]!.server2).map((c) => Buffer.from(c.packet, 'base64'));

async function attack(): Promise<void> {
  const captured = await capture();
  writeFileSync(opts.capturedFile, JSON.stringify(captured));
  if (fromServer2(captured, 0).length === 0 || fromServer2(captured, 1).length === 0) throw new Error('no heartbeat of server2 captured');
  // server2 "fences" server1 with the highest term the wire carries, made with what a watcher holds: the public
  // keys (standing in for the secret it does not have) and a key of its own.
  const watcherMaterial = {
    pair: opts.pair, nodes: opts.nodes, signingKey: generateKeyPairSync('ed25519').privateKey,
    secret: publicKeyFromText(opts.server2PublicKey).export({ format: 'der', type: 'spki' }),
  };
  const fence = (term: number) => {
    const hb = heartbeat('server2', 1, 1);
    return { ...hb, outbox: { ...hb.outbox, fence: { term, active: true } } };
  };
  for (let i = 0; i < 20; i++) {
    await send('forged with the watcher key material', netA, encodeHeartbeat(watcherMaterial, netA.net, fence(2 ** 32 - 1), { addresses: [] }));
    await send("forged, from client1's own address", netA, encodeHeartbeat(watcherMaterial, netA.net, fence(2 ** 32 - 1), { addresses: [] }), netA.client);
  }
  for (const packet of fromServer2(captured, 1)) await send('relayed from net B onto net A', netA, packet);
  for (const packet of fromServer2(captured, 0)) await send('replayed on net A', netA, packet);
  // The pair's secret leaked: even so, a fence cannot jump terms ahead.
  const leaked = { pair: opts.pair, nodes: opts.nodes, secret: readFileSync(opts.secretFile).subarray(0, -1), signingKey: watcherMaterial.signingKey };
  for (let i = 0; i < 5; i++) {
    await send('with the leaked secret, a fence term jumping ahead', netA, encodeHeartbeat(leaked, netA.net, fence(1_000_000 + i), { addresses: [] }));
  }
}

async function replay(): Promise<void> {
  const captured = JSON.parse(readFileSync(opts.capturedFile, 'utf8')) as Captured[];
  for (const packet of fromServer2(captured, 0)) await send('replayed after the restart', netA, packet);
  for (const packet of fromServer2(captured, 1)) await send('replayed after the restart', netB, packet);
}

try {
  await (opts.mode === 'attack' ? attack() : replay());
} finally {
  sender.close();
}
console.log(JSON.stringify(sent));
