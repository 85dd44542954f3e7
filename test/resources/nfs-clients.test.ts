import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientConnections, MAX_TICKLED, connectedClients, formatClients, parseClients } from '../../agent/resources/nfs-clients.ts';
import type { PacketSender } from '../../agent/net/ipv4-packet.ts';
import { FakeRunner, recordingLog, viewOf } from './fixtures.ts';

test('the record: one "ip port" per line, sorted, no duplicates; lines that do not parse are left out', () => {
  const peers = [{ ip: '198.51.100.102', port: 700 }, { ip: '198.51.100.101', port: 931 }, { ip: '198.51.100.102', port: 700 }];
  assert.is(formatClients(peers), '198.51.100.101 931\n198.51.100.102 700\n');
  assert.equal(parseClients('198.51.100.101 931\n\ngarbage\n198.51.100.300 1\n198.51.100.1 0\n198.51.100.1 65536\n 198.51.100.102 700 \n'),
    [{ ip: '198.51.100.101', port: 931 }, { ip: '198.51.100.102', port: 700 }]);
  assert.equal(parseClients(''), []);
});

test('a record longer than any pair serves is cut at MAX_TICKLED entries (a forged one must not become a flood)', () => {
  const lines = Array.from({ length: MAX_TICKLED + 5 }, (_, i) => `198.51.100.${1 + (i % 250)} ${1 + i}`).join('\n');
  assert.is(parseClients(lines).length, MAX_TICKLED);
});

test('connected clients are read from both TCP tables of /proc', async () => {
  const proc = await mkdtemp(join(tmpdir(), 'hanfs-proc-'));
  try {
    await mkdir(join(proc, 'net'));
    const head = '  sl  local_address rem_address   st\n';
    await writeFile(join(proc, 'net', 'tcp'), `${head}   0: 0B6433C6:0801 656433C6:03A3 01 0 0 0 0 0 0 1\n`);
    await writeFile(join(proc, 'net', 'tcp6'), `${head}   0: 0000000000000000FFFF00000B6433C6:0801 0000000000000000FFFF0000666433C6:02BC 01 0 0 0 0 0 0 2\n`);
    assert.equal(await connectedClients('198.51.100.11', 2049, proc), [{ ip: '198.51.100.101', port: 931 }, { ip: '198.51.100.102', port: 700 }]);
  } finally {
    await rm(proc, { recursive: true });
  }
});

test("resume tickles the connections its group's last server recorded; release records ours (none here) durably", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanfs-clients-'));
  try {
    const view = viewOf({ mountPoint: dir });
    const file = join(dir, '.hanfs', 'nfs-clients');
    await mkdir(join(dir, '.hanfs'));
    await writeFile(file, '198.51.100.101 931\n198.51.100.102 700\n');
    const sent: string[] = [];
    const open = (): PacketSender => ({ send: async (p, to) => { sent.push(`${to} ${p.readUInt16BE(22)}`); }, close: () => {} });
    const { log } = recordingLog();
    const clients = new ClientConnections({ view, runner: new FakeRunner(), log, runDir: dir }, open);
    await clients.resume('server1');
    await clients.idle();
    assert.equal(sent, Array(3).fill(['198.51.100.101 931', '198.51.100.102 700']).flat());
    // Nobody is connected to 198.51.100.11 on this machine: the last record says so.
    await clients.release('server1');
    assert.is(await readFile(file, 'utf8'), '');
    await clients.release('server1');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('recordOnce, for a process that does not stay (the OCF monitor and stop), replaces a record that differs from who is connected', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hanfs-clients-'));
  try {
    const file = join(dir, '.hanfs', 'nfs-clients');
    const { log, lines } = recordingLog();
    const clients = new ClientConnections({ view: viewOf({ mountPoint: dir }), runner: new FakeRunner(), log, runDir: dir });
    // No record yet and nobody connected to 198.51.100.11 on this machine: nothing to write.
    await clients.recordOnce('server1');
    await mkdir(join(dir, '.hanfs'));
    await writeFile(file, '198.51.100.101 931\n');
    await clients.recordOnce('server1');
    assert.is(await readFile(file, 'utf8'), '');
    assert.equal(lines, []);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test.run();
