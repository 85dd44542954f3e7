// Runs inside client1's network namespace (lab/flood.ts starts it): listens for the servers' real heartbeats for a
// moment, then sends COUNT packets to both servers' addresses on both networks, round robin over five kinds:
// random bytes, real heartbeats replayed as they were, real ones with one bit flipped (a forged MAC), real ones cut
// short, and the "HNFS" magic followed by garbage. Prints one JSON line: {"packets":N,"captured":N,"durationMs":N}.
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';

const [count, port, ...targets] = process.argv.slice(2);
const total = Number(count);
const captured: Buffer[] = [];
const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (msg) => {
  if (captured.length < 64) captured.push(Buffer.from(msg));
});
await new Promise<void>((resolve) => socket.bind(Number(port), '0.0.0.0', resolve));
await new Promise((r) => setTimeout(r, 1500));

function packet(i: number): Buffer {
  const real = captured.length > 0 ? captured[i % captured.length]! : randomBytes(131);
  switch (i % 5) {
    case 0: return randomBytes(randomInt(0, 400));
    case 1: return real;
    case 2: {
      const forged = Buffer.from(real);
      const bit = randomInt(0, forged.length * 8);
      forged[bit >> 3]! ^= 1 << (bit & 7);
      return forged;
    }
    case 3: return real.subarray(0, randomInt(0, real.length));
    default: return Buffer.concat([Buffer.from('HNFS'), randomBytes(randomInt(0, 200))]);
  }
}

const started = performance.now();
let sent = 0;
while (sent < total) {
  // In batches, each awaited: a burst larger than the socket's buffer would only be dropped by our own kernel.
  const batch = Math.min(200, total - sent);
  await Promise.all(Array.from({ length: batch }, (_, k) => new Promise<void>((resolve) => {
    const target = targets[(sent + k) % targets.length]!;
    socket.send(packet(sent + k), Number(port), target, () => resolve());
  })));
  sent += batch;
}
socket.close();
console.log(JSON.stringify({ packets: sent, captured: captured.length, durationMs: Math.round(performance.now() - started) }));
