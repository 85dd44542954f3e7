// The driver as the agent sees it: every kind dispatched, stops of stopped resources doing nothing, and every
// failure reported as one line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RESOURCE_ORDER } from '../../agent/core/types.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf, type PairOptions } from './fixtures.ts';

function withDriver(options: PairOptions, body: (d: { runner: FakeRunner; resources: SystemResources; dir: string }) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hanfs-system-'));
    try {
      const runner = new FakeRunner();
      const view = viewOf({ mountPoint: join(dir, 'srv1'), ...options });
      await body({ runner, resources: new SystemResources({ view, runner, log: recordingLog().log, runDir: join(dir, 'run') }), dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

for (const profile of ['ganesha', 'knfsd'] as const) {
  test(`${profile}: stopping a stopped group succeeds and only looks (ip addr show), for both groups`, withDriver({ profile }, async ({ runner, resources }) => {
    for (const group of ['server1', 'server2']) {
      for (const kind of [...RESOURCE_ORDER].reverse()) {
        // knfsd's exports and server stop are commands whatever the state (exportfs -u, rpc.nfsd 0 are idempotent).
        if (profile === 'knfsd' && (kind === 'exports' || kind === 'nfs_server')) continue;
        assert.equal(await resources.run(group, kind, kind, 'stop'), { ok: true }, `${group}/${kind}`);
      }
    }
    assert.equal(runner.lines(), ['ip -o -4 addr show dev pri', 'ip -o -4 addr show dev sec']);
    assert.equal(resources.monitor(), []);
  }));
}

test('ganesha: exports cannot start without their server', withDriver({}, async ({ resources }) => {
  assert.equal(await resources.run('server1', 'exports', 'exports', 'start'), {
    ok: false, error: 'Ganesha of group server1 is not running, so neither are its exports',
  });
}));

test('ganesha: a start command that cannot run fails at once, with the command', withDriver(
  { commands: { start: ['/nonexistent/ganesha.nfsd', '-f', '{configFile}'] } },
  async ({ resources, dir }) => {
    const result = await resources.run('server1', 'nfs_server', 'nfs_server', 'start');
    assert.equal(result, {
      ok: false, error: `/nonexistent/ganesha.nfsd -f ${dir}/run/server1/ganesha.conf: could not start: spawn /nonexistent/ganesha.nfsd ENOENT`,
    });
    assert.equal(resources.monitor(), [], 'a server that never started is not watched');
  },
));

test('a template with a placeholder the action does not know: config check refuses it, and were it run, a one-line failure names it', async () => {
  const commands = { mount: ['mount', '{fsType}', '{device}', '{mountpoint}'] };
  assert.throws(() => viewOf({ commands }), /did you mean \{mountPoint\}/);
  // The resource layer does not rely on the check: a config that bypassed it fails at the command, not with a throw.
  await withDriver({}, async ({ runner, dir }) => {
    const view = viewOf({ mountPoint: join(dir, 'srv1') });
    Object.assign(view.pair.nfs.commands, commands);
    const resources = new SystemResources({ view, runner, log: recordingLog().log, runDir: join(dir, 'run') });
    const result = await resources.run('server1', 'filesystem', 'filesystem', 'start');
    assert.is(result.ok, false);
    assert.match(result.error ?? '', /^unknown placeholder \{mountpoint\} in command mount/);
  })();
});

test('a group that is not in the pair is a failure, not an exception', withDriver({}, async ({ resources }) => {
  assert.equal(await resources.run('server9', 'filesystem', 'filesystem', 'start'), {
    ok: false, error: "group server9 is not one of the pair's (server1, server2)",
  });
}));

test.run();
