import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ganeshaConfig, ganeshaPaths } from '../../agent/resources/ganesha-config.ts';
import { pairYaml, parsePair } from './fixtures.ts';

const paths = ganeshaPaths('/run/hanfs-test', 'server1');

function configFor(exportsYaml?: string, group = 'server1', protocols?: string): string {
  const pair = parsePair(pairYaml({ mountPoint: '/srv/server1', ...(exportsYaml ? { exportsYaml } : {}), ...(protocols ? { protocols } : {}) }));
  return ganeshaConfig(pair.nfs, pair.nodes[group]!, ganeshaPaths('/run/hanfs-test', group));
}

/** The text of each top-level block named `name`. */
function blocks(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^${name} \\{\\n([\\s\\S]*?)^\\}`, 'gm'))].map((m) => m[1]!);
}

test('paths: one folder per group under the run directory', () => {
  assert.equal(paths, {
    dir: '/run/hanfs-test/server1',
    configFile: '/run/hanfs-test/server1/ganesha.conf',
    logFile: '/run/hanfs-test/server1/ganesha.log',
    pidFile: '/run/hanfs-test/server1/ganesha.pid',
    krbDir: '/run/hanfs-test/server1/krb',
  });
});

test('one NFS_CORE_PARAM with the bind address, plugins dir, NFSv4 only', () => {
  const core = blocks(configFor(), 'NFS_CORE_PARAM');
  assert.is(core.length, 1, 'a second NFS_CORE_PARAM block is not merged by Ganesha');
  for (const line of ['Protocols = 4;', 'Bind_addr = 198.51.100.11;', 'Plugins_Dir = "/usr/lib/x86_64-linux-gnu/ganesha";',
    'Enable_NLM = false;', 'Enable_RQUOTA = false;']) {
    assert.ok(core[0]!.includes(line), `missing ${line}`);
  }
});

test('kerberos off with a private cache dir; grace, lease and recovery on the group disk', () => {
  const text = configFor();
  assert.equal(blocks(text, 'NFS_KRB5'), ['    Active_krb5 = false;\n    CCacheDir = "/run/hanfs-test/server1/krb";\n']);
  assert.equal(blocks(text, 'NFSv4'), [
    '    Grace_Period = 10;\n    Lease_Lifetime = 10;\n    RecoveryBackend = fs;\n'
      + '    RecoveryRoot = "/srv/server1/.hanfs/ganesha-recovery";\n',
  ]);
});

test('an export open to every client: RW, no CLIENT block', () => {
  assert.equal(blocks(configFor(), 'EXPORT'), [[
    '    Export_Id = 1;', '    Path = "/srv/server1";', '    Pseudo = "/srv1";', '    Access_Type = RW;',
    '    Squash = No_Root_Squash;', '    Protocols = 4;', '    Transports = TCP;', '    FSAL { Name = VFS; }', '',
  ].join('\n')]);
});

test('exports numbered in order; RO, root squash; a client list grants access only through its CLIENT block', () => {
  const exports = blocks(configFor(`
      - { path: /srv/server1/a, pseudo: /a }
      - { path: /srv/server1/b, pseudo: /b, access: ro, clients: 198.51.100.0/24 }`), 'EXPORT');
  assert.is(exports.length, 2);
  assert.ok(exports[0]!.includes('Export_Id = 1;') && exports[0]!.includes('Access_Type = RW;'));
  assert.ok(exports[0]!.includes('Squash = Root_Squash;'));
  assert.not.ok(exports[0]!.includes('CLIENT'));
  assert.ok(exports[1]!.includes('Export_Id = 2;') && exports[1]!.includes('Pseudo = "/b";'));
  assert.ok(exports[1]!.includes('    Access_Type = None;\n'), 'the export itself must grant nothing');
  assert.ok(exports[1]!.includes('CLIENT { Clients = 198.51.100.0/24; Access_Type = RO; }'));
});

test('the partner group binds its own service address', () => {
  const core = blocks(configFor(undefined, 'server2'), 'NFS_CORE_PARAM')[0]!;
  assert.ok(core.includes('Bind_addr = 203.0.113.12;'));
});

test('a path Ganesha would parse as syntax is refused, not written', () => {
  assert.throws(() => configFor('[{ path: "/srv/server1/a\\"b", pseudo: /a }]'), /cannot go into a Ganesha config/);
  // hanfs config check refuses these clients first; the generator refuses them too, whatever reaches it.
  const pair = parsePair(pairYaml({ mountPoint: '/srv/server1' }));
  const node = pair.nodes.server1!;
  for (const clients of ['a; b', 'a b', 'a,']) {
    const exports = [{ ...node.exports[0]!, clients }];
    assert.throws(() => ganeshaConfig(pair.nfs, { ...node, exports }, paths), /cannot go into a Ganesha config \(expected clients separated by commas/, clients);
  }
});

test('a comma-separated client list goes into one CLIENT block', () => {
  const text = configFor('[{ path: /srv/server1, pseudo: /a, clients: "198.51.100.0/24,  host1.example ,@admins" }]');
  assert.ok(text.includes('CLIENT { Clients = 198.51.100.0/24, host1.example, @admins; Access_Type = RW; }'), text);
});

test('an NFSv3 group: NFSv3 and NLM on, MOUNT and NLM at fixed ports on the service address, mounts by pseudo path', () => {
  const text = configFor(undefined, 'server1', '[3, 4]');
  assert.equal(blocks(text, 'NFS_CORE_PARAM'), [[
    '    Protocols = 3, 4;', '    Bind_addr = 198.51.100.11;', '    Plugins_Dir = "/usr/lib/x86_64-linux-gnu/ganesha";',
    '    Enable_NLM = true;', '    NLM_Port = 32803;', '    MNT_Port = 20048;', '    Mount_Path_Pseudo = true;', '    Enable_RQUOTA = false;', '',
  ].join('\n')]);
  assert.ok(blocks(text, 'EXPORT')[0]!.includes('    Protocols = 3, 4;\n'), 'the export serves what its group serves');
  assert.equal(blocks(text, 'NFSv4'), blocks(configFor(), 'NFSv4'), 'the NFSv4 recovery is the same');
  const other = blocks(configFor(undefined, 'server2', '[3, 4]'), 'NFS_CORE_PARAM')[0]!;
  assert.ok(other.includes('Protocols = 4;') && other.includes('Enable_NLM = false;'), 'the other group stays NFSv4 only');
});

test('an export of an NFSv3 group may stay NFSv4 only', () => {
  const exports = blocks(configFor(`
      - { path: /srv/server1/a, pseudo: /a }
      - { path: /srv/server1/b, pseudo: /b, protocols: [4] }`, 'server1', '[3, 4]'), 'EXPORT');
  assert.equal(exports.map((e) => /Protocols = ([^;]*);/.exec(e)?.[1]), ['3, 4', '4']);
});

test.run();
