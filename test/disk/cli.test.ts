import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MailboxDump } from '../../agent/disk/dump.ts';
import { openNode, outbox, runDiskCli, SECRET, status, withDevice } from './fixtures.ts';

const LAB_CONFIG = fileURLToPath(new URL('../../config/examples/lab.yaml', import.meta.url));
const INIT = ['--pair', 'lab', '--nodes', 'server1,server2'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function dumpJson(device: string, ...args: string[]): MailboxDump {
  const result = runDiskCli(['dump', device, '--json', ...args]);
  assert.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as MailboxDump;
}

function uuidOf(device: string): string {
  const { header } = dumpJson(device);
  assert.is(header.state, 'valid');
  return (header as { uuid: string }).uuid;
}

test('disk init writes a mailbox, then refuses to overwrite it without --force', () => withDevice('file', async (device) => {
  const first = runDiskCli(['init', device, ...INIT]);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /^initialised .*: pair lab, slot 0 server1, slot 1 server2, 512-byte sectors/);
  const uuid = uuidOf(device);
  assert.match(uuid, UUID);

  const again = runDiskCli(['init', device, ...INIT]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /holds the hanfs mailbox of pair "lab" \(nodes server1, server2; uuid [0-9a-f-]+; no records written yet\); refusing to overwrite it without --force/);
  assert.is(uuidOf(device), uuid, 'nothing was written');

  const server2 = await openNode(device, 1);
  try {
    await server2.cycle({ slot: status('server2'), outbox: outbox({ ping: 1 }), intents: [] }, 2000);
  } finally {
    await server2.close();
  }
  const forced = runDiskCli(['init', device, ...INIT, '--force']);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^replaced the hanfs mailbox of pair "lab" \(.*; last written \d+\.\d s ago\)/);
  const dump = dumpJson(device);
  assert.is.not((dump.header as { uuid: string }).uuid, uuid);
  assert.equal(dump.nodes.map(({ slot, inbox }) => [slot.state, inbox.state]), [['empty', 'empty'], ['empty', 'empty']], 'records cleared');
}));

test('disk init refuses a device holding other data, and a config that does not match', () => withDevice('file', async (device) => {
  writeFileSync(device, randomBytes(4096), { flag: 'r+' });
  const result = runDiskCli(['init', device, ...INIT]);
  assert.is(result.code, 1);
  assert.match(result.stderr, /holds data without a valid hanfs header \(sector 0: no HANFSMBX magic/);

  const mismatch = runDiskCli(['init', device, '--pair', 'lab', '--nodes', 'server2,server1', '--config', LAB_CONFIG, '--force']);
  assert.is(mismatch.code, 1);
  assert.match(mismatch.stderr, /describes pair lab with nodes server1,server2, not pair lab with nodes server2,server1/);
}));

test('disk dump of random data shows what it found and exits 65 (EX_DATAERR)', () => withDevice('file', async (device) => {
  writeFileSync(device, randomBytes(4096), { flag: 'r+' });
  for (const json of [[], ['--json']]) {
    const result = runDiskCli(['dump', device, ...json]);
    assert.is(result.code, 65, result.stderr);
    assert.match(result.stderr, /^hanfs disk dump: does not verify: header: corrupt: no HANFSMBX magic/);
    if (json.length > 0) assert.is((JSON.parse(result.stdout) as MailboxDump).header.state, 'corrupt');
    else assert.match(result.stdout, /^header +corrupt: no HANFSMBX magic/m);
  }
}));

test('disk init --config with an invalid configuration exits 78 (EX_CONFIG)', () => withDevice('file', async (device, dir) => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'pair: lab\n');
  const result = runDiskCli(['init', device, ...INIT, '--config', bad]);
  assert.is(result.code, 78);
  assert.is(result.stderr, `hanfs disk init: ${bad} is not a valid configuration (see hanfs config check ${bad})\n`);
}));

test('disk dump --json: the header, and per node its slot and inbox with their states', () => withDevice('file', async (device, dir) => {
  const init = runDiskCli(['init', device, ...INIT, '--config', LAB_CONFIG]);
  assert.is(init.code, 0, init.stderr);
  const server1 = await openNode(device, 0);
  try {
    await server1.cycle({ slot: status('server1', { counter: 4 }), outbox: outbox({ fence: { term: 2, active: true } }), intents: [] }, 2000);
  } finally {
    await server1.close();
  }
  // The secret file as an operator writes it, with a newline at the end, which is not part of the secret.
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, `${SECRET.toString('latin1')}\n`);

  const dump = dumpJson(device, '--secret-file', secretFile);
  assert.is(dump.device, device);
  assert.ok(dump.mode === 'direct' || dump.mode === 'dsync');
  assert.equal(dump.header, {
    state: 'valid', pairId: 'lab', uuid: (dump.header as { uuid: string }).uuid, sectorSize: 512, slotCount: 2,
    nodes: ['server1', 'server2'], timeouts: { diskIntervalMs: 500, diskIoTimeoutMs: 1000, selfFenceLeaseMs: 5000 },
  });
  assert.equal(dump.nodes.map(({ index, name, slot, inbox }) => [index, name, slot.sector, slot.state, inbox.sector, inbox.state]), [
    [0, 'server1', 1, 'verified', 2, 'empty'],
    [1, 'server2', 3, 'empty', 4, 'verified'],
  ]);
  const slot = dump.nodes[0]!.slot as Extract<MailboxDump['nodes'][number]['slot'], { state: 'verified' | 'unverified' }>;
  assert.is(slot.seq, 1);
  assert.ok(slot.ageMs >= 0 && slot.ageMs < 60_000, `age ${slot.ageMs}`);
  assert.ok(!Number.isNaN(Date.parse(slot.writtenAt)));
  assert.equal(slot.record, status('server1', { counter: 4 }));
  assert.equal((dump.nodes[1]!.inbox as { record: unknown }).record, outbox({ fence: { term: 2, active: true } }));

  assert.equal(dumpJson(device).nodes.map((node) => node.slot.state), ['unverified', 'empty'], 'without the secret');
  writeFileSync(secretFile, 'another secret');
  const another = runDiskCli(['dump', device, '--json', '--secret-file', secretFile]);
  assert.is(another.code, 65, 'what does not verify fails the dump (EX_DATAERR), after printing it all');
  const wrong = (JSON.parse(another.stdout) as MailboxDump).nodes.map((node) => [node.slot, node.inbox]);
  assert.equal(wrong[0]![0], { sector: 1, state: 'corrupt', reason: 'bad HMAC (damaged, or written with another secret)' });
  assert.is(another.stderr, [
    'hanfs disk dump: does not verify: slot of server1 (sector 1): corrupt: bad HMAC (damaged, or written with another secret)',
    'hanfs disk dump: does not verify: inbox of server2 (sector 4): corrupt: bad HMAC (damaged, or written with another secret)',
    '',
  ].join('\n'));

  const table = runDiskCli(['dump', device]);
  assert.is(table.code, 0);
  assert.match(table.stdout, /^pair +lab$/m);
  assert.match(table.stdout, /^server1 +1 +unverified +1 +1 +4 +normal +server1 /m);
  assert.match(table.stdout, /^server2 +4 +unverified +1 +term 2 active /m);
}));

test('disk dump of a device never initialised, and of one that cannot be opened', () => withDevice('file', async (device, dir) => {
  const dump = dumpJson(device);
  assert.equal({ header: dump.header, nodes: dump.nodes }, { header: { state: 'empty' }, nodes: [] });
  const missing = runDiskCli(['dump', join(dir, 'missing')]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /^hanfs disk dump: .*missing: stat failed: ENOENT/);
}));

test.run();
