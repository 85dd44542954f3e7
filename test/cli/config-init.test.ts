// `hanfs config init`: the smallest working configuration from flags. What it prints must pass `hanfs config check`
// as it is; a mistake in a flag is a usage error naming the configuration's path and the flag; --out never replaces
// a file without --force and writes one the agent accepts (root's, not group- or world-writable). Run as a child
// process, as an operator runs it.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flagFor } from '../../agent/cli/config-init.ts';
import { formatConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { hanfs } from './fixtures.ts';

const KEY_A = 'exNcy81z6HYY993OyvFzjfU9kXdq8-1igjiDUE2ALTo';
const KEY_B = 'FDgfOR4CcP2Q_4cwuFYimiGeBCqe98RRPaHcKXRA_FE';
const dir = mkdtempSync(join(tmpdir(), 'hanfs-config-init-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The guide's pair (docs/deploy.md), as flags; `edit` changes them before they are joined. */
function guideFlags(edit: (flags: { top: string[]; a: string[]; b: string[] }) => void = () => {}): string[] {
  const flags = {
    top: ['--pair', 'prod-nfs', '--mailbox', '/dev/disk/by-id/wwn-0x5000c500a1b2c300', '--watchdog', '/dev/watchdog', '--watchdog-timeout', '1000'],
    a: ['--node', 'nfs-a', '--public-key', KEY_A, '--primary', 'eno1=198.51.100.21/24', '--secondary', 'eno2=203.0.113.21/24',
      '--disk', '/dev/disk/by-id/wwn-0x5000c500a1b2c301', '--mount-point', '/export/a'],
    b: ['--node', 'nfs-b', '--public-key', KEY_B, '--primary', 'eno1=203.0.113.22/24', '--secondary', 'eno2=198.51.100.22/24',
      '--disk', '/dev/disk/by-id/wwn-0x5000c500a1b2c311', '--mount-point', '/export/b'],
  };
  edit(flags);
  return ['config', 'init', ...flags.top, ...flags.a, ...flags.b];
}

test('prints the smallest configuration: what was given, the defaults left out; config check accepts it as is', async () => {
  const r = await hanfs(guideFlags());
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  const parsed = parseConfig(r.stdout, 'init.yaml');
  if (!parsed.ok) assert.unreachable(parsed.errors.map(formatConfigError).join('\n'));
  const keys = r.stdout.split('\n').filter((line) => /^[a-z]/i.test(line)).map((line) => line.split(':')[0]);
  assert.equal(keys, ['pair', 'secretFile', 'watchdog', 'nfs', 'nodes'], 'no setting that has a default');
  assert.match(r.stdout, /^ {4}primary: \{ interface: eno1, address: 198\.51\.100\.21\/24 \}$/m);
  assert.match(r.stdout, /^ {4}disks: \[ \{ device: \/dev\/disk\/by-id\/wwn-0x5000c500a1b2c311, mountPoint: \/export\/b, fsType: ext4 \} \]$/m);
  assert.match(r.stdout, /^ {4}exports: \[ \{ path: \/export\/a, pseudo: \/export\/a \} \]$/m);
  if (parsed.ok) {
    assert.equal(Object.keys(parsed.config.nodes), ['nfs-a', 'nfs-b'], 'the order of the flags');
    assert.is(parsed.config.nodes['nfs-b']!.mailbox, '/dev/disk/by-id/wwn-0x5000c500a1b2c300');
    assert.equal(parsed.config.watchdog, { device: '/dev/watchdog', timeoutMs: 1000 });
    assert.is(parsed.config.secretFile, '/etc/hanfs/secret');
    assert.is(parsed.config.fenceCommand, null);
  }
  // hanfs config check on the file as printed (the keys are not on this machine: notes, not errors).
  const file = join(dir, 'printed.yaml');
  writeFileSync(file, r.stdout, { mode: 0o644 });
  const check = await hanfs(['config', 'check', file]);
  assert.is(check.code, 0, check.stderr);
});

test('the optional flags: export, pseudo path, clients, xfs, knfsd, another secret, the fence command after --', async () => {
  const r = await hanfs([...guideFlags(({ top, a }) => {
    top.push('--secret-file', '/etc/hanfs/prod.secret', '--profile', 'knfsd');
    a.push('--fs-type', 'xfs', '--export', '/export/a/data', '--pseudo', '/a', '--clients', '198.51.100.0/24');
  }), '--', 'fence_ipmilan', '--ip={partner}-bmc', '--action=off']);
  assert.is(r.code, 0, r.stderr);
  const parsed = parseConfig(r.stdout, 'init.yaml');
  if (!parsed.ok) return assert.unreachable(parsed.errors.map(formatConfigError).join('\n'));
  const a = parsed.config.nodes['nfs-a']!;
  assert.equal([a.disks[0]!.fsType, a.exports[0]!.path, a.exports[0]!.pseudo, a.exports[0]!.clients], ['xfs', '/export/a/data', '/a', '198.51.100.0/24']);
  assert.equal(parsed.config.fenceCommand, ['fence_ipmilan', '--ip={partner}-bmc', '--action=off']);
  assert.is(parsed.config.nfs.profile, 'knfsd');
  assert.is(parsed.config.secretFile, '/etc/hanfs/prod.secret');
});

test('--watchdog none', async () => {
  const r = await hanfs(guideFlags(({ top }) => top.splice(4, 4, '--watchdog', 'none')));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^watchdog: none$/m);
});

test('a mistake is a usage error (exit 64) per line, naming the path and the flag behind it; nothing printed', async () => {
  const r = await hanfs(guideFlags(({ b }) => {
    b[7] = 'eno2=192.0.2.22/24'; // nfs-b's secondary, not on nfs-a's primary network
    b[b.length - 1] = '/export/a'; // nfs-a's mount point again
  }));
  assert.is(r.code, 64);
  assert.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.at(-1), 'run hanfs config init --help for its usage');
  assert.ok(lines.slice(0, -1).every((line) => line.startsWith('hanfs config init: nodes.nfs-b.')), r.stderr);
  assert.ok(lines.some((line) => line.includes('nodes.nfs-b.secondary.address (--secondary of --node nfs-b): expected an address in the subnet of nodes.nfs-a.primary')), r.stderr);
  assert.ok(lines.some((line) => line.includes('nodes.nfs-b.disks[0].mountPoint (--mount-point of --node nfs-b): expected a mount point not already used')), r.stderr);
  assert.ok(lines.some((line) => line.includes('(--mount-point of --node nfs-b, which --pseudo defaults to)')), r.stderr);

  const placeholder = await hanfs([...guideFlags(), '--', 'fence_ipmilan', '--ip={partnr}-bmc']);
  assert.is(placeholder.code, 64);
  assert.match(placeholder.stderr, /^hanfs config init: fenceCommand\[1\] \(the fence command after --\): .*did you mean \{partner\}\?$/m);

  const longWatchdog = await hanfs(guideFlags(({ top }) => (top[7] = '3000')));
  assert.is(longWatchdog.code, 64);
  assert.match(longWatchdog.stderr, /^hanfs config init: timing\.selfFenceLeaseMs \(--watchdog-timeout, too long for the default lease\): expected at least 2 × watchdog\.timeoutMs/m);
});

test('the nodes: twice, each complete, each flag after its --node and once', async () => {
  const cases: Array<[string[], string]> = [
    [guideFlags(({ b }) => b.splice(0)), 'give --node twice, once for each server of the pair (got 1)'],
    [guideFlags(({ b }) => b.splice(2, 4)), '--node nfs-b lacks --public-key, --primary'],
    [['config', 'init', '--pair', 'p', '--mailbox', '/m', '--disk', '/d'], "option '--disk <device>' argument '/d' is invalid. give --node NAME first"],
    [guideFlags(({ a }) => a.push('--disk', '/dev/sdz')), "option '--disk <device>' argument '/dev/sdz' is invalid. given twice for --node nfs-a"],
    [guideFlags(({ a }) => (a[5] = '198.51.100.21/24')), 'expected INTERFACE=ADDRESS/PREFIX, like eno1=198.51.100.21/24'],
    [guideFlags(({ top }) => top.splice(6, 2, '--watchdog', '/dev/hanfs-no-such-watchdog')), 'the kernel does not report a timeout for /dev/hanfs-no-such-watchdog: give --watchdog-timeout'],
  ];
  for (const [args, message] of cases) {
    const r = await hanfs(args);
    assert.is(r.code, 64, `${message}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith('hanfs config init: ') && r.stderr.includes(message), r.stderr);
    assert.is(r.stdout, '');
  }
});

test('--out: a new file, mode 0644 and root\'s; never over an existing one without --force; config check accepts it', async () => {
  const out = join(dir, 'pair.yaml');
  const first = await hanfs([...guideFlags(), '--out', out]);
  assert.equal([first.code, first.stdout, first.stderr], [0, `wrote ${out}\n`, '']);
  assert.is(statSync(out).mode & 0o777, 0o644);
  if (process.getuid?.() === 0) assert.is(statSync(out).uid, 0);
  const check = await hanfs(['config', 'check', out]);
  assert.is(check.code, 0, check.stderr);

  const written = readFileSync(out, 'utf8');
  const again = await hanfs([...guideFlags(({ top }) => (top[1] = 'other')), '--out', out]);
  assert.is(again.code, 1);
  assert.is(again.stderr, `hanfs config init: ${out} exists: --force replaces it\n`);
  assert.is(readFileSync(out, 'utf8'), written, 'left as it was');
  const forced = await hanfs([...guideFlags(({ top }) => (top[1] = 'other')), '--out', out, '--force']);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(readFileSync(out, 'utf8'), /^pair: other$/m);
  assert.equal((await import('node:fs')).readdirSync(dir).filter((f) => f.includes('hanfs-init')), [], 'no temporary file left');
});

test('flagFor names the flag given, or the one a default came from', () => {
  const nodes = [{ name: 'a', mountPoint: '/x' }, { name: 'b', mountPoint: '/y', exportPath: '/y/e' }] as const;
  const draft = { nodes: [nodes[0], nodes[1]] as [typeof nodes[0], typeof nodes[1]] };
  assert.is(flagFor('nodes.a.exports[0].pseudo', draft), '--mount-point of --node a, which --pseudo defaults to');
  assert.is(flagFor('nodes.b.exports[0].pseudo', draft), '--export of --node b, which --pseudo defaults to');
  assert.is(flagFor('nodes.b.exports[0].path', draft), '--export of --node b');
  assert.is(flagFor('nodes.a.mailbox', draft), '--mailbox');
  assert.is(flagFor('nodes.a.protocols', draft), '--node a');
  assert.is(flagFor('watchdog.timeoutMs', draft), '--watchdog, --watchdog-timeout');
});

test('--help lists every flag', async () => {
  const r = await hanfs(['config', 'init', '--help']);
  assert.is(r.code, 0);
  for (const flag of ['--pair', '--mailbox', '--secret-file', '--watchdog', '--watchdog-timeout', '--profile', '--out', '--force', '--node',
    '--public-key', '--primary', '--secondary', '--disk', '--mount-point', '--fs-type', '--export', '--pseudo', '--clients']) {
    assert.match(r.stdout, new RegExp(`^ {2}${flag} `, 'm'), flag);
  }
  assert.match(r.stdout, /^Usage: hanfs config init \[options\] \[fence-command\.\.\.\]$/m);
});

test.run();
