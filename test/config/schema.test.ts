import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { formatConfigError, type ConfigError } from '../../config/errors.ts';
import { loadConfig, parseConfig, selectNode, type LoadResult } from '../../config/load.ts';
import { defaultCommands } from '../../config/profiles.ts';
import type { PairConfig } from '../../config/schema.ts';

const examplesDir = new URL('../../config/examples/', import.meta.url).pathname;
const labText = readFileSync(join(examplesDir, 'lab.yaml'), 'utf8');

// The lab example changed by `edit`, run through the loader.
function labWith(edit: (raw: any) => void): LoadResult {
  const raw = parse(labText);
  edit(raw);
  return parseConfig(stringify(raw), 'lab.yaml');
}

function validConfig(result: LoadResult): PairConfig {
  if (!result.ok) assert.unreachable(result.errors.map(formatConfigError).join('\n'));
  return (result as { config: PairConfig }).config;
}

function errorsAt(result: LoadResult, path: string): Extract<ConfigError, { kind: 'invalid' }>[] {
  assert.is(result.ok, false, 'the config should be rejected');
  const errors = (result as { errors: ConfigError[] }).errors;
  const found = errors.filter((error) => error.kind === 'invalid' && error.path === path);
  if (found.length === 0) assert.unreachable(`no error at ${path}; got:\n${errors.map(formatConfigError).join('\n')}`);
  return found as Extract<ConfigError, { kind: 'invalid' }>[];
}

function errorAt(result: LoadResult, path: string): Extract<ConfigError, { kind: 'invalid' }> {
  const [error, ...others] = errorsAt(result, path);
  assert.is(others.length, 0, `one error at ${path}`);
  return error!;
}

function assertRejected(edit: (raw: any) => void, path: string, expectedFragment: string): void {
  const expectations = errorsAt(labWith(edit), path).map((error) => error.expected);
  assert.ok(
    expectations.some((expected) => expected.includes(expectedFragment)),
    `${JSON.stringify(expectations)} should mention "${expectedFragment}"`,
  );
}

const exampleFiles = readdirSync(examplesDir).filter((file) => file.endsWith('.yaml'));

test('there are the four example files', () => {
  assert.equal(exampleFiles.sort(), ['ganesha-pair.yaml', 'knfsd-pair.yaml', 'lab.yaml', 'minimal.yaml']);
});

for (const file of exampleFiles) {
  test(`example ${file} is valid`, async () => {
    validConfig(await loadConfig(join(examplesDir, file)));
  });
}

test('defaults are filled in', () => {
  const config = validConfig(parseConfig(labText, 'lab.yaml'));
  assert.is(config.heartbeatPort, 7405);
  assert.is(config.reintegrate, 'manual');
  assert.is(config.controlSocket, '/run/hanfs/agent.sock');
  assert.equal(config.log, { level: 'info', file: null });
  assert.equal(config.timing, {
    heartbeatIntervalMs: 500,
    missesBeforeSuspicion: 4,
    icmpTimeoutMs: 500,
    diskIntervalMs: 500,
    diskIoTimeoutMs: 1000,
    diskProbeTimeoutMs: 2000,
    selfFenceLeaseMs: 5000,
    deepCheckCron: '*/10 * * * * *',
    fenceAfterMs: 5000,
  });
  assert.is(config.resources.restartLimit, 3);
  assert.is(config.fenceCommand, null);
  assert.is(config.nfs.leaseSeconds, 10);
  assert.is(config.nfs.graceSeconds, 10);
  assert.equal(config.nfs.commands, defaultCommands('ganesha'));
  const server1 = config.nodes['server1'];
  assert.is(server1?.hostname, 'server1');
  assert.equal(server1?.disks[0], { device: '/dev/loop5', mountPoint: '/srv/server1', fsType: 'ext4', journalDevice: null, mountOptions: [] });
  assert.equal(server1?.exports[0], { path: '/srv/server1', pseudo: '/srv1', access: 'rw', clients: '*', squash: 'root', protocols: [4] });
  assert.equal(server1?.protocols, [4], 'NFSv4 only');
});

test('metrics are off unless metrics.listen names HOST:PORT', () => {
  assert.equal(validConfig(labWith((raw) => { delete raw.metrics; })).metrics, { listen: null });
  assert.equal(validConfig(labWith((raw) => { raw.metrics = { listen: '[::1]:9405' }; })).metrics, { listen: '[::1]:9405' });
  assertRejected((raw) => { raw.metrics = { listen: 'localhost' }; }, 'metrics.listen', 'HOST:PORT');
  assertRejected((raw) => { raw.metrics = { listen: '127.0.0.1:70000' }; }, 'metrics.listen', 'port 1–65535');
});

test('a command override replaces only the named template', () => {
  const config = validConfig(labWith((raw) => { raw.nfs.commands = { umount: ['umount', '-l', '{mountPoint}'] }; }));
  assert.equal(config.nfs.commands['umount'], ['umount', '-l', '{mountPoint}']);
  assert.equal(config.nfs.commands['mount'], defaultCommands('ganesha')['mount']);
});

test('the resolved config is itself a valid config', () => {
  const config = validConfig(parseConfig(labText, 'lab.yaml'));
  assert.equal(validConfig(parseConfig(stringify(config), 'resolved.yaml')), config);
});

test('an unknown key is reported at its path and line', () => {
  const text = labText.replace('    mailbox: /dev/loop7\n', '    mailbox: /dev/loop7\n    mailbx: /dev/loop8\n');
  const error = errorAt(parseConfig(text, 'lab.yaml'), 'nodes.server1.mailbx');
  assert.ok(error.expected.includes('mailbox'), 'the known keys are listed');
  assert.is(error.found, '"/dev/loop8"');
  assert.is(error.line, text.split('\n').indexOf('    mailbx: /dev/loop8') + 1);
});

test('a wrong type names the path, the value and the expectation, with line:column', () => {
  const text = labText.replace('pair: lab\n', 'pair: lab\nheartbeatPort: seven\n');
  const error = errorAt(parseConfig(text, 'lab.yaml'), 'heartbeatPort');
  const line = text.split('\n').indexOf('heartbeatPort: seven') + 1;
  assert.is(formatConfigError(error), `lab.yaml:${line}:16: heartbeatPort: expected a number, got "seven"`);
});

test('a missing required value is reported as (missing)', () => {
  const error = errorAt(labWith((raw) => { delete raw.nfs.profile; }), 'nfs.profile');
  assert.is(error.found, '(missing)');
  assert.is(error.expected, 'one of "ganesha", "knfsd"');
});

test('a YAML syntax error has line:column', () => {
  const result = parseConfig('pair: lab\nnodes:\n  server1: [1\n  server2: 2\n', 'broken.yaml');
  assert.is(result.ok, false);
  const [error] = (result as { errors: ConfigError[] }).errors;
  assert.is(error?.kind, 'syntax');
  assert.match(formatConfigError(error!), /^broken\.yaml:\d+:\d+: YAML syntax error: /);
});

test('an unreadable file is an error, not an exception', async () => {
  const result = await loadConfig('/nonexistent/hanfs.yaml');
  assert.is(result.ok, false);
  assert.match(formatConfigError((result as { errors: ConfigError[] }).errors[0]!), /^\/nonexistent\/hanfs\.yaml: cannot read: ENOENT/);
});

test('the pair has exactly two nodes', () => {
  assertRejected((raw) => { delete raw.nodes.server2; }, 'nodes', 'exactly two nodes');
  assertRejected((raw) => { raw.nodes.server3 = raw.nodes.server2; }, 'nodes', 'exactly two nodes');
});

test('names are lower-case', () => {
  assertRejected((raw) => { raw.pair = 'Lab'; }, 'pair', 'a-z, 0-9 or -');
  assertRejected((raw) => { raw.nodes.Server2 = raw.nodes.server2; delete raw.nodes.server2; }, 'nodes.Server2', 'a-z, 0-9 or -');
});

test('addresses are IPv4 with a prefix length', () => {
  assertRejected((raw) => { raw.nodes.server1.primary.address = '198.51.100.11'; }, 'nodes.server1.primary.address', 'prefix length');
  assertRejected((raw) => { raw.nodes.server1.primary.address = '198.51.100.256/24'; }, 'nodes.server1.primary.address', 'IPv4');
});

test("each node's service subnet is the partner's secondary subnet", () => {
  assertRejected(
    (raw) => { raw.nodes.server2.secondary.address = '192.0.2.12/24'; },
    'nodes.server2.secondary.address',
    'subnet of nodes.server1.primary (198.51.100.0/24)',
  );
  assertRejected(
    (raw) => { raw.nodes.server2.primary.address = '192.0.2.12/24'; },
    'nodes.server1.secondary.address',
    'subnet of nodes.server2.primary (192.0.2.0/24)',
  );
});

test("a node's two networks are different subnets", () => {
  assertRejected((raw) => { raw.nodes.server1.secondary.address = '198.51.100.13/24'; }, 'nodes.server1.secondary.address', "outside the primary's subnet");
});

test('all four addresses are distinct', () => {
  assertRejected(
    (raw) => { raw.nodes.server2.secondary.address = '198.51.100.11/24'; },
    'nodes.server2.secondary.address',
    'not already used by nodes.server1.primary.address',
  );
});

test('interface names are valid Linux names', () => {
  assertRejected((raw) => { raw.nodes.server1.primary.interface = 'a-very-long-name'; }, 'nodes.server1.primary.interface', 'Linux interface name');
  assertRejected((raw) => { raw.nodes.server1.primary.interface = 'eth/0'; }, 'nodes.server1.primary.interface', 'Linux interface name');
  assertRejected((raw) => { raw.nodes.server1.primary.interface = 'eth 0'; }, 'nodes.server1.primary.interface', 'Linux interface name');
});

test("a node's primary and secondary interfaces differ", () => {
  assertRejected((raw) => { raw.nodes.server1.secondary.interface = 'pri'; }, 'nodes.server1.secondary.interface', "other than the primary's");
});

test('the disk I/O deadline is shorter than the probe timeout', () => {
  assertRejected((raw) => { raw.timing = { diskIoTimeoutMs: 2000, selfFenceLeaseMs: 10000 }; }, 'timing.diskIoTimeoutMs', 'less than timing.diskProbeTimeoutMs (2000)');
});

test('a probe waits longer than one mailbox cycle', () => {
  assertRejected((raw) => { raw.timing = { diskIntervalMs: 1000 }; }, 'timing.diskProbeTimeoutMs', 'more than diskIntervalMs + diskIoTimeoutMs (2000)');
});

test('a watchdog is required: a device, or none said explicitly', () => {
  assertRejected((raw) => { delete raw.watchdog; }, 'watchdog', 'or none to run without one');
  assertRejected((raw) => { raw.watchdog = '/dev/watchdog'; }, 'watchdog', 'none, or { device');
});

test('the lease covers two watchdog timeouts and the fence margin', () => {
  assertRejected((raw) => { raw.watchdog = { device: '/dev/watchdog', timeoutMs: 2500 }; }, 'timing.selfFenceLeaseMs', '2 × watchdog.timeoutMs');
});

test('the self-fence lease covers two mailbox cycles', () => {
  assertRejected((raw) => { raw.timing = { selfFenceLeaseMs: 2999 }; }, 'timing.selfFenceLeaseMs', '= 3000');
  assertRejected((raw) => { raw.timing = { fenceAfterMs: 3999 }; }, 'timing.fenceAfterMs', '= 4000');
});

test('heartbeat interval and miss count have lower bounds', () => {
  assertRejected((raw) => { raw.timing = { heartbeatIntervalMs: 9 }; }, 'timing.heartbeatIntervalMs', 'at least 10');
  assertRejected((raw) => { raw.timing = { missesBeforeSuspicion: 1 }; }, 'timing.missesBeforeSuspicion', 'at least 2');
});

test('the deep-check schedule is a 6-field cron expression', () => {
  assertRejected((raw) => { raw.timing = { deepCheckCron: '*/10 * * * *' }; }, 'timing.deepCheckCron', '6 fields');
});

test('the NFSv4 lease is at least 2 seconds', () => {
  assertRejected((raw) => { raw.nfs.leaseSeconds = 1; }, 'nfs.leaseSeconds', 'at least 2');
});

test('pseudo paths are unique across the pair', () => {
  assertRejected(
    (raw) => { raw.nodes.server2.exports[0].pseudo = '/srv1'; },
    'nodes.server2.exports[0].pseudo',
    'not already used by nodes.server1.exports[0].pseudo',
  );
});

test('disk devices are unique across the pair and differ from the mailbox', () => {
  assertRejected(
    (raw) => { raw.nodes.server2.disks[0].device = '/dev/loop5'; },
    'nodes.server2.disks[0].device',
    'not already used by nodes.server1.disks[0].device',
  );
  assertRejected(
    (raw) => { raw.nodes.server1.disks[0].journalDevice = '/dev/loop7'; },
    'nodes.server1.disks[0].journalDevice',
    'not already used by nodes.server1.mailbox',
  );
});

test("an export lies under one of its node's mount points", () => {
  assertRejected((raw) => { raw.nodes.server1.exports[0].path = '/srv/server10'; }, 'nodes.server1.exports[0].path', 'under one of');
  assertRejected((raw) => { raw.nodes.server1.exports[0].path = '/srv/server2'; }, 'nodes.server1.exports[0].path', '/srv/server1');
  validConfig(labWith((raw) => { raw.nodes.server1.exports[0].path = '/srv/server1/sub'; }));
});

test("command names must be ones the profile knows, and the error lists them", () => {
  assertRejected((raw) => { raw.nfs.commands = { serverStart: ['rpc.nfsd', '8'] }; }, 'nfs.commands.serverStart', 'ganesha profile knows (addressAdd');
  validConfig(labWith((raw) => { raw.nfs = { profile: 'knfsd', commands: { serverStart: ['rpc.nfsd', '16'] } }; }));
});

test('a Ganesha grace period shorter than the lease is refused: a client renewing just before a crash could miss it', () => {
  assertRejected((raw) => { raw.nfs = { profile: 'ganesha', leaseSeconds: 10, graceSeconds: 5 }; }, 'nfs.graceSeconds', 'at least nfs.leaseSeconds (10)');
  validConfig(labWith((raw) => { raw.nfs = { profile: 'ganesha', leaseSeconds: 10, graceSeconds: 10 }; }));
});

test('selectNode by explicit name', () => {
  const selection = selectNode(validConfig(parseConfig(labText, 'lab.yaml')), 'server2', 'elsewhere');
  assert.ok(selection.ok);
  if (selection.ok) {
    assert.is(selection.self.name, 'server2');
    assert.is(selection.partner.name, 'server1');
  }
});

test('selectNode by hostname, full or short', () => {
  const config = validConfig(labWith((raw) => { raw.nodes.server1.hostname = 'nfs-left'; }));
  for (const hostname of ['nfs-left', 'nfs-left.example.net']) {
    const selection = selectNode(config, undefined, hostname);
    assert.ok(selection.ok && selection.self.name === 'server1', hostname);
  }
  const byKey = selectNode(config, undefined, 'server2');
  assert.ok(byKey.ok && byKey.self.name === 'server2');
});

test('selectNode explains when nothing matches', () => {
  const config = validConfig(parseConfig(labText, 'lab.yaml'));
  const unknownName = selectNode(config, 'server3');
  assert.ok(!unknownName.ok && unknownName.error.includes('no node is named "server3"'));
  const unknownHost = selectNode(config, undefined, 'laptop');
  assert.ok(!unknownHost.ok && unknownHost.error.includes('"laptop"') && unknownHost.error.includes('server1 (hostname server1)'));
});

test.run();
