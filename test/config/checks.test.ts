// What hanfs config check catches beyond types: placeholders the agent would not fill in, client lists Ganesha or
// exportfs would not take, lease and grace times the knfsd profile ignores, and "did you mean" for typos. One
// error per mistake: a mistyped key does not also report the key it was meant to be as missing.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { placeholderNames } from '../../agent/exec/templates.ts';
import { formatConfigError, type ConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { commandPlaceholders, defaultCommands, fencePlaceholders, nfsProfiles } from '../../config/profiles.ts';
import { closest } from '../../config/suggest.ts';

const labText = readFileSync(new URL('../../config/examples/lab.yaml', import.meta.url), 'utf8');

/** The lab example changed by `edit`: its errors as printed (no file name), [] when it is valid. */
function errors(edit: (raw: any) => void): string[] {
  const raw = parse(labText);
  edit(raw);
  const result = parseConfig(stringify(raw), 'lab.yaml');
  return result.ok ? [] : result.errors.map((error: ConfigError) => formatConfigError(error).replace(/^lab\.yaml:\d+:\d+: /, ''));
}

test('closest: the known word one typo away, in any letter case; none when nothing is near or two are as near', () => {
  assert.is(closest('partnr', ['node', 'partner']), 'partner');
  assert.is(closest('pidfile', ['configFile', 'logFile', 'pidFile']), 'pidFile');
  assert.is(closest('primry', ['primary', 'secondary']), 'primary');
  assert.is(closest('mountpiont', ['mountPoint', 'mountOptions']), 'mountPoint');
  assert.is(closest('xyz', ['node', 'partner']), undefined);
  assert.is(closest('ab', ['ac', 'ad']), undefined);
});

test('an unknown key: did you mean the known one; the key it was meant to be is not reported missing too', () => {
  const mistyped = errors((raw) => {
    raw.nodes.server1.primry = raw.nodes.server1.primary;
    delete raw.nodes.server1.primary;
  });
  assert.is(mistyped.length, 1, mistyped.join('\n'));
  assert.match(mistyped[0]!, /^nodes\.server1\.primry: expected one of the known keys \(hostname, .*primary, secondary, mailbox, disks, exports, protocols\), got \{"interface":"pri","address":"198\.51\.100\.11\/24"\}; did you mean primary\?$/);
  const [optional] = errors((raw) => (raw.heartbeatport = 7405));
  assert.match(optional!, /^heartbeatport: expected one of the known keys \(.*\), got 7405; did you mean heartbeatPort\?$/);
  const [far] = errors((raw) => (raw.nfs.bogus = 1));
  assert.match(far!, /^nfs\.bogus: expected one of the known keys \(profile, leaseSeconds, graceSeconds, commands\), got 1$/);
});

test('a mistyped choice: did you mean', () => {
  assert.equal(errors((raw) => (raw.nfs.profile = 'ganesh')), ['nfs.profile: expected one of "ganesha", "knfsd", got "ganesh"; did you mean "ganesha"?']);
});

test('a placeholder the command is not run with: one error at its argument, with what was probably meant', () => {
  assert.equal(errors((raw) => (raw.fenceCommand = ['fence_ipmilan', '--ip={partnr}-bmc', '--action=off'])), [
    'fenceCommand[1]: expected only the placeholders of the fence command ({node}, {partner}), got "--ip={partnr}-bmc"; did you mean {partner}?',
  ]);
  assert.equal(errors((raw) => (raw.nfs.commands = { start: ['ganesha.nfsd', '-F', '-f', '{configFile}', '-p', '{pidfile}'] })), [
    'nfs.commands.start[5]: expected only the placeholders of the start command ({configFile}, {logFile}, {pidFile}), got "{pidfile}"; did you mean {pidFile}?',
  ]);
  assert.equal(errors((raw) => (raw.nfs.commands = { umount: ['umount', '{target}'] })), [
    'nfs.commands.umount[1]: expected only the placeholders of the umount command ({device}, {mountPoint}, {fsType}), got "{target}"',
  ]);
  assert.equal(errors((raw) => (raw.nfs.commands = { mount: ['mount', '{device}', '{mountPoint}', '-t', '{fsType}'] })), [], 'known placeholders pass');
});

test('a mistyped command name: did you mean, and its placeholders are not reported on top', () => {
  assert.equal(errors((raw) => (raw.nfs.commands = { umnt: ['umount', '{whatever}'] })), [
    'nfs.commands.umnt: expected a command the ganesha profile knows (addressAdd, addressDel, arpAnnounce, arpProbe, journalReplay, fsck, mount, umount, start, reloadExports, forgetConnections, rpcbind, statd, smNotify), got ["umount","{whatever}"]; did you mean umount?',
  ]);
});

test('every default template uses only the placeholders its command is run with', () => {
  for (const profile of nfsProfiles) {
    for (const [name, argv] of Object.entries(defaultCommands(profile))) {
      const known = commandPlaceholders[name];
      assert.ok(known, `${name} has its placeholders listed`);
      for (const placeholder of argv.flatMap(placeholderNames)) assert.ok(known.includes(placeholder), `${profile} ${name}: {${placeholder}}`);
    }
  }
  assert.equal(fencePlaceholders, ['node', 'partner']);
});

test('Ganesha clients: a comma-separated list passes; a space-separated one is one error with the list meant', () => {
  const setClients = (clients: string) => (raw: any) => (raw.nodes.server1.exports[0].clients = clients);
  assert.equal(errors(setClients('198.51.100.0/24, 203.0.113.5,@admins')), []);
  assert.equal(errors(setClients('198.51.100.0/24 203.0.113.5')), [
    'nodes.server1.exports[0].clients: expected clients separated by commas, each a host, an address, a network like 198.51.100.0/24, '
      + 'a wildcard or an @netgroup, got "198.51.100.0/24 203.0.113.5"; did you mean "198.51.100.0/24, 203.0.113.5"?',
  ]);
  const [semicolon] = errors(setClients('a; b'));
  assert.match(semicolon!, /^nodes\.server1\.exports\[0\]\.clients: expected clients separated by commas, .*, got "a; b"$/);
});

/** The lab example with the knfsd profile. */
const knfsd = (edit: (raw: any) => void = () => {}) => (raw: any) => {
  raw.nfs.profile = 'knfsd';
  edit(raw);
};

test('knfsd clients: one per export (exportfs CLIENT:PATH)', () => {
  assert.equal(errors(knfsd((raw) => (raw.nodes.server1.exports[0].clients = '198.51.100.0/24'))), []);
  assert.equal(errors(knfsd((raw) => (raw.nodes.server1.exports[0].clients = 'a,b'))), [
    'nodes.server1.exports[0].clients: expected one client (a host, an address, a network, a wildcard or an @netgroup): '
      + 'the knfsd profile exports each export to one client, got "a,b"',
  ]);
});

test('NFSv3: a group is NFSv4 only unless it says [3, 4]; its exports serve what it serves unless they say fewer', () => {
  const config = (edit: (raw: any) => void) => {
    const raw = parse(labText);
    edit(raw);
    const result = parseConfig(stringify(raw), 'lab.yaml');
    if (!result.ok) throw new Error(result.errors.map(formatConfigError).join('\n'));
    return result.config.nodes;
  };
  const plain = config(() => {});
  assert.equal([plain.server1!.protocols, plain.server1!.exports[0]!.protocols], [[4], [4]], 'the default: NFSv4 only');
  const v3 = config((raw) => {
    raw.nodes.server1.protocols = [4, 3, 3];
    raw.nodes.server1.exports.push({ path: raw.nodes.server1.exports[0].path, pseudo: '/v4only', protocols: [4] });
  });
  assert.equal(v3.server1!.protocols, [3, 4], 'sorted, each once');
  assert.equal(v3.server1!.exports.map((e) => e.protocols), [[3, 4], [4]]);
  assert.equal(v3.server2!.protocols, [4]);
});

test('NFSv3: an export asking for it on an NFSv4-only group is refused with what to change', () => {
  assert.equal(errors((raw) => (raw.nodes.server1.exports[0].protocols = [3, 4])), [
    'nodes.server1.exports[0].protocols: expected versions group server1 serves: it is NFSv4 only (nodes.server1.protocols: [4]), '
      + 'got [3,4]; to serve NFSv3 with NLM locks, set nodes.server1.protocols: [3, 4] (NLM keeps Ganesha from ending grace '
      + 'early after a move, for every client of the group)',
  ]);
  assert.equal(errors((raw) => (raw.nodes.server2.exports[0].protocols = [3])).length, 1, 'an NFSv3-only export too');
});

test('NFSv3: a group says [4] or [3, 4]; only one group of the pair can serve NFSv3', () => {
  const groupChoice = 'expected [4] (NFSv4 only) or [3, 4] (NFSv3 with NLM locks, and NFSv4)';
  assert.equal(errors((raw) => (raw.nodes.server1.protocols = [3])), [`nodes.server1.protocols: ${groupChoice}, got [3]`]);
  assert.equal(errors((raw) => (raw.nodes.server1.protocols = 'v3')), [`nodes.server1.protocols: ${groupChoice}, got "v3"`]);
  assert.equal(errors((raw) => (raw.nodes.server1.protocols = [])), [`nodes.server1.protocols: ${groupChoice}, got []`]);
  assert.equal(errors((raw) => (raw.nodes.server1.exports[0].protocols = [2])), ['nodes.server1.exports[0].protocols: expected [3], [4] or [3, 4], got [2]']);
  const [both, ...more] = errors((raw) => {
    raw.nodes.server1.protocols = [3, 4];
    raw.nodes.server2.protocols = [3, 4];
  });
  assert.is(more.length, 0);
  assert.match(both!, /^nodes\.server2\.protocols: expected \[4\]: only one group of the pair can serve NFSv3, and nodes\.server1 does \(.*rpcbind.*\), got \[3,4\]$/);
});

test('protocols given to the knfsd profile are errors: the kernel server serves what /etc/nfs.conf enables', () => {
  const given = errors(knfsd((raw) => {
    raw.nodes.server1.protocols = [3, 4];
    raw.nodes.server2.exports[0].protocols = [4];
  }));
  assert.equal(given.map((line) => line.split(':')[0]), ['nodes.server1.protocols', 'nodes.server2.exports[0].protocols']);
  assert.match(given[0]!, /expected no protocols with the knfsd profile \(.*vers3 and vers4 in the \[nfsd\] section of \/etc\/nfs\.conf/);
});

test('leaseSeconds and graceSeconds given to the knfsd profile are errors, not silently ignored', () => {
  assert.equal(errors(knfsd()), []);
  assert.equal(errors(knfsd((raw) => Object.assign(raw.nfs, { leaseSeconds: 10, graceSeconds: 10 }))), ['leaseSeconds', 'graceSeconds'].map((key) =>
    `nfs.${key}: expected no ${key} with the knfsd profile (the kernel server takes its lease and grace times from /proc/fs/nfsd, `
      + 'which lease-time and grace-time in the [nfsd] section of /etc/nfs.conf set), got 10'));
  assert.equal(errors(knfsd((raw) => (raw.nfs.leaseSeconds = 1))), ['nfs.leaseSeconds: expected at least 2, got 1'], 'one error for one value');
  assert.equal(errors((raw) => Object.assign(raw.nfs, { leaseSeconds: 10, graceSeconds: 10 })), [], 'Ganesha takes them');
});

test.run();
