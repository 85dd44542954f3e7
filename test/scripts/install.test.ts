// scripts/install for real, staged into a temporary directory with --destdir (never into this machine's system):
// the files it puts in place, that the staged program runs on its own, and that systemd accepts the units.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function install(args: string[]) {
  const r = spawnSync('bash', [join(ROOT, 'scripts/install'), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withDest(body: (dest: string) => void): void {
  const dest = mkdtempSync(join(tmpdir(), 'hanfs-install-'));
  try {
    body(dest);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

test('install --destdir stages the program, the command, the units, the sysctl and the examples', () => withDest((dest) => {
  const r = install(['--destdir', dest]);
  assert.is(r.code, 0, r.stderr);
  for (const path of [
    'usr/local/bin/hanfs', 'usr/local/lib/hanfs/bin/hanfs', 'usr/local/lib/hanfs/dist/agent/cli/main.js',
    'usr/local/lib/systemd/system/hanfs-agent.service', 'usr/local/lib/systemd/system/hanfs-watch.service',
    'etc/sysctl.d/90-hanfs.conf', 'etc/hanfs/pair.yaml.example', 'usr/local/share/doc/hanfs/README.md',
    'usr/local/share/doc/hanfs/examples/knfsd-pair.yaml', 'usr/lib/ocf/resource.d/hanfs/vserver',
  ]) assert.ok(existsSync(join(dest, path)), path);
  assert.match(readFileSync(join(dest, 'usr/local/bin/hanfs'), 'utf8'), new RegExp(`\nexec ${process.execPath} /usr/local/lib/hanfs/bin/hanfs "\\$@"\n$`));
  assert.is(statSync(join(dest, 'etc/hanfs')).mode & 0o777, 0o700, 'the configuration directory holds the secret');
  assert.is(statSync(join(dest, 'usr/local/bin/hanfs')).mode & 0o777, 0o755);
  assert.is(statSync(join(dest, 'usr/lib/ocf/resource.d/hanfs/vserver')).mode & 0o777, 0o755, 'Pacemaker runs the OCF agent by path');
  assert.match(readFileSync(join(dest, 'usr/lib/ocf/resource.d/hanfs/vserver'), 'utf8'), /^HANFS=\/usr\/local\/bin\/hanfs$/m);
  // Production dependencies only, the native addons with them.
  const modules = join(dest, 'usr/local/lib/hanfs/node_modules');
  assert.ok(existsSync(join(modules, 'unix-dgram/build/Release/unix_dgram.node')));
  for (const dev of ['typescript', 'tsx', 'esbuild', '@esbuild']) assert.not.ok(existsSync(join(modules, dev)), `no development dependency: ${dev}`);
  // The compiled program only: no TypeScript to run (bin/hanfs runs dist/ with plain node).
  assert.not.ok(existsSync(join(dest, 'usr/local/lib/hanfs/agent')), 'no TypeScript sources');
  assert.not.ok(existsSync(join(dest, 'usr/local/lib/hanfs/test')), 'no tests');

  // The staged program works on its own: it checks the example configuration it was installed with.
  const check = spawnSync(process.execPath, [join(dest, 'usr/local/lib/hanfs/bin/hanfs'), 'config', 'check', join(dest, 'etc/hanfs/pair.yaml.example')], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  assert.match(check.stdout, /^metrics:\n {2}listen: 127\.0\.0\.1:9405$/m);

  const agent = readFileSync(join(dest, 'usr/local/lib/systemd/system/hanfs-agent.service'), 'utf8');
  assert.match(agent, /^ExecStart=\/usr\/local\/bin\/hanfs agent --config \/etc\/hanfs\/pair.yaml$/m);
  assert.match(agent, /^Documentation=file:\/usr\/local\/share\/doc\/hanfs\/README.md$/m);
  assert.not.match(agent, /@[A-Z]+@/);
  const watch = readFileSync(join(dest, 'usr/local/lib/systemd/system/hanfs-watch.service'), 'utf8');
  assert.match(watch, /^ExecStart=\/usr\/local\/bin\/hanfs watch --config \/etc\/hanfs\/watch.yaml$/m);

  // systemd's own check of the units, with the command path pointed at the staged one (it must exist).
  const verify = join(dest, 'verify');
  mkdirSync(verify);
  for (const [unit, text] of [['hanfs-agent.service', agent], ['hanfs-watch.service', watch]] as const) {
    writeFileSync(join(verify, unit), text.replaceAll('/usr/local/bin/hanfs', join(dest, 'usr/local/bin/hanfs')));
  }
  const v = spawnSync('systemd-analyze', ['verify', join(verify, 'hanfs-agent.service'), join(verify, 'hanfs-watch.service')], { encoding: 'utf8' });
  if ((v.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('systemd-analyze (Debian package systemd) is needed to check the units');
  assert.is(v.status, 0, v.stderr);
  assert.is(v.stderr, '', 'no warnings');
}));

test('the staged OCF agent runs hanfs ocf: meta-data valid for ocf-tester\'s DTD; without hanfs, stopped', () => withDest((dest) => {
  assert.is(install(['--destdir', dest, '--ocfdir', '/usr/lib/ocf-test']).code, 0);
  const staged = join(dest, 'usr/lib/ocf-test/resource.d/hanfs/vserver');
  assert.ok(existsSync(staged), '--ocfdir is respected');
  // The staged command execs the program where it will be installed, not where it is staged: point it there.
  const command = join(dest, 'hanfs-staged');
  writeFileSync(command, `#!/bin/sh\nexec ${process.execPath} ${join(dest, 'usr/local/lib/hanfs/bin/hanfs')} "$@"\n`, { mode: 0o755 });
  const agentText = readFileSync(staged, 'utf8');
  const agent = join(dest, 'vserver');
  writeFileSync(agent, agentText.replace('HANFS=/usr/local/bin/hanfs', `HANFS=${command}`), { mode: 0o755 });
  const md = spawnSync(agent, ['meta-data'], { encoding: 'utf8' });
  assert.is(md.status, 0, md.stderr);
  assert.match(md.stdout, /<resource-agent name="vserver"/);
  const lint = spawnSync('xmllint', ['--noout', '--valid', '-'], { input: md.stdout, cwd: '/usr/share/resource-agents', encoding: 'utf8' });
  if ((lint.error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT' && existsSync('/usr/share/resource-agents/ra-api-1.dtd')) {
    assert.is(lint.status, 0, lint.stderr);
  }
  assert.is(spawnSync(agent, ['notify']).status, 3, 'OCF_ERR_UNIMPLEMENTED');

  // hanfs not installed on this node: a probe finds the resource stopped, a stop succeeds, a start cannot (OCF_ERR_INSTALLED).
  const absent = join(dest, 'vserver-absent');
  writeFileSync(absent, agentText.replace('HANFS=/usr/local/bin/hanfs', `HANFS=${join(dest, 'no/hanfs')}`), { mode: 0o755 });
  const probeEnv = { ...process.env, OCF_RESKEY_CRM_meta_interval: '0' };
  assert.is(spawnSync(absent, ['monitor'], { env: probeEnv }).status, 7);
  assert.is(spawnSync(absent, ['monitor'], { env: { ...process.env, OCF_RESKEY_CRM_meta_interval: '10000' } }).status, 5);
  assert.is(spawnSync(absent, ['stop']).status, 0);
  assert.is(spawnSync(absent, ['start']).status, 5);
  assert.is(install(['--destdir', dest, '--ocfdir', 'relative']).code, 64);
}));

test('install again: the program is replaced, a configuration in place is left alone; another prefix', () => withDest((dest) => {
  assert.is(install(['--destdir', dest]).code, 0);
  writeFileSync(join(dest, 'etc/hanfs/pair.yaml'), 'pair: mine\n');
  writeFileSync(join(dest, 'usr/local/lib/hanfs/stale-file'), '');
  assert.is(install(['--destdir', dest]).code, 0);
  assert.is(readFileSync(join(dest, 'etc/hanfs/pair.yaml'), 'utf8'), 'pair: mine\n');
  assert.not.ok(existsSync(join(dest, 'usr/local/lib/hanfs/stale-file')));

  const opt = install(['--destdir', dest, '--prefix', '/opt/hanfs']);
  assert.is(opt.code, 0, opt.stderr);
  assert.match(readFileSync(join(dest, 'etc/systemd/system/hanfs-agent.service'), 'utf8'), /^ExecStart=\/opt\/hanfs\/bin\/hanfs agent /m);

  const bad = install(['--destdir', dest, '--prefix', 'relative']);
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /relative is not an absolute path/);
  assert.is(install(['--bogus']).code, 64);
}));

test.run();
