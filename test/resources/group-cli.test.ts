// `hanfs group start|stop` as a process, on this host with the example lab config: stopping a group that is not
// held here does nothing and succeeds (as the agent's stops do), and bad input is a clear error. The lab's
// keepalived benchmark runs the real takeover through it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const HANFS = fileURLToPath(new URL('../../bin/hanfs', import.meta.url));
const LAB_CONFIG = fileURLToPath(new URL('../../config/examples/lab.yaml', import.meta.url));

function group(...args: string[]) {
  const r = spawnSync(process.execPath, [HANFS, 'group', ...args], { encoding: 'utf8', timeout: 30_000 });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message: string; event?: string });
  return { code: r.status, lines, stderr: r.stderr };
}

test('stop of a group held nowhere here: every step but the skipped address runs, in reverse order, and succeeds', () => {
  const r = group('stop', 'server1', '--config', LAB_CONFIG, '--node', 'server2', '--skip', 'service_ip');
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.lines.filter((l) => l.event === 'resource').map((l) => l.message.split(':')[0]), [
    'stop server1/nsm_notify', 'stop server1/arp', 'stop server1/exports', 'stop server1/nfs_server', 'stop server1/filesystem', 'stop server1/log_replay',
  ]);
  assert.is(r.lines.at(-1)?.message, 'stop server1: done (nsm_notify, arp, exports, nfs_server, filesystem, log_replay)');
});

test('an unknown group or kind to skip is refused before anything runs', () => {
  const unknown = group('stop', 'server3', '--config', LAB_CONFIG, '--node', 'server1');
  assert.is(unknown.code, 64, 'a group the configuration does not have is a bad command line');
  assert.match(unknown.stderr, /^hanfs group stop: server3 is not one of the pair's groups \(server1, server2\)/);
  assert.equal(unknown.lines, []);
  const badSkip = group('start', 'server1', '--config', LAB_CONFIG, '--skip', 'vip');
  assert.is(badSkip.code, 64, 'a bad option is a usage error, as for every command');
  assert.match(badSkip.stderr, /unknown resource kind vip \(known: log_replay, filesystem/);
  assert.equal(badSkip.lines, []);
});

test.run();
