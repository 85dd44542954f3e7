import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PacketSender } from '../../agent/net/ipv4-packet.ts';
import { TICKLE_SPACING_MS, tickleAck, tickleClients } from '../../agent/resources/tickle.ts';
import { recordingLog } from './fixtures.ts';

/** The one's-complement sum over the TCP pseudo header and segment: 0xffff when the checksum is right. */
function tcpChecksumHolds(packet: Buffer): boolean {
  const tcp = packet.subarray(20);
  const words = Buffer.concat([packet.subarray(12, 20), Buffer.from([0, 6, 0, tcp.length]), tcp]);
  let sum = 0;
  for (let i = 0; i < words.length; i += 2) sum += words.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

test('a tickle ACK: IPv4 from the service address and NFS port, ACK only, sequence and acknowledgement 0', () => {
  const packet = tickleAck({ ip: '198.51.100.11', port: 2049 }, { ip: '198.51.100.101', port: 931 });
  assert.is(packet.length, 40);
  assert.equal([...packet.subarray(0, 1)], [0x45]);
  assert.is(packet.readUInt16BE(2), 40);
  assert.is(packet[9], 6);
  assert.equal([...packet.subarray(12, 16)], [198, 51, 100, 11]);
  assert.equal([...packet.subarray(16, 20)], [198, 51, 100, 101]);
  assert.is(packet.readUInt16BE(20), 2049);
  assert.is(packet.readUInt16BE(22), 931);
  assert.is(packet.readUInt32BE(24), 0);
  assert.is(packet.readUInt32BE(28), 0);
  assert.is(packet[32], 0x50);
  assert.is(packet[33], 0x10);
  assert.ok(tcpChecksumHolds(packet));
  assert.ok(tcpChecksumHolds(tickleAck({ ip: '203.0.113.12', port: 2049 }, { ip: '203.0.113.250', port: 65535 })));
});

test('a bad address is refused', () => {
  assert.throws(() => tickleAck({ ip: '198.51.100.300', port: 2049 }, { ip: '198.51.100.1', port: 1 }), /not an IPv4 address/);
});

function fakeSender(fail: (to: string) => boolean = () => false) {
  const sent: Array<{ to: string; at: number; port: number }> = [];
  let closed = 0;
  const started = Date.now();
  const open = (): PacketSender => ({
    send: async (packet, to) => {
      if (fail(to)) throw new Error('EPERM');
      sent.push({ to, at: Date.now() - started, port: packet.readUInt16BE(22) });
    },
    close: () => { closed++; },
  });
  return { sent, open, closed: () => closed };
}

test(`every peer gets ${TICKLE_SPACING_MS.length} tickles, spaced past Linux's rate limit of challenge ACKs; the socket is closed`, async () => {
  const fake = fakeSender();
  const { log, lines } = recordingLog();
  const peers = [{ ip: '198.51.100.101', port: 931 }, { ip: '198.51.100.102', port: 700 }];
  await tickleClients({ group: 'server1', server: { ip: '198.51.100.11', port: 2049 }, peers, log, open: fake.open });
  assert.is(fake.sent.length, peers.length * TICKLE_SPACING_MS.length);
  const rounds = [0, 1, 2].map((r) => fake.sent.slice(r * 2, r * 2 + 2));
  rounds.forEach((round, r) => {
    assert.equal(round.map((s) => `${s.to} ${s.port}`), ['198.51.100.101 931', '198.51.100.102 700']);
    assert.ok(round[0]!.at >= TICKLE_SPACING_MS[r]! - 5, `round ${r + 1} at ${round[0]!.at} ms`);
  });
  assert.is(fake.closed(), 1);
  assert.equal(lines.map((l) => l.message), ['tickled 2 NFS client connection(s) of 198.51.100.11']);
});

test('no peers: no socket; a failed send is a warning and the others still go; no raw socket is a warning', async () => {
  const none = fakeSender();
  await tickleClients({ group: 'server1', server: { ip: '198.51.100.11', port: 2049 }, peers: [], log: recordingLog().log, open: none.open });
  assert.is(none.closed(), 0);

  const partly = fakeSender((to) => to === '198.51.100.102');
  const { log, lines } = recordingLog();
  await tickleClients({ group: 'server1', server: { ip: '198.51.100.11', port: 2049 },
    peers: [{ ip: '198.51.100.101', port: 931 }, { ip: '198.51.100.102', port: 700 }], log, open: partly.open });
  assert.is(partly.sent.length, 3);
  assert.is(lines.filter((l) => l.level === 'warn')[0]!.message, 'tickle ACKs for 198.51.100.11, round 1: 1 of 2 not sent (EPERM)');

  const denied = recordingLog();
  await tickleClients({ group: 'server1', server: { ip: '198.51.100.11', port: 2049 }, peers: [{ ip: '198.51.100.101', port: 931 }],
    log: denied.log, open: () => { throw new Error('Operation not permitted'); } });
  assert.match(denied.lines[0]!.message, /no raw TCP socket \(Operation not permitted\); clients reconnect at their next retransmission/);
});

test.run();
