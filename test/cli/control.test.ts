// The commands that talk to the agent, run as a child process against a stand-in agent on a real control socket:
// what they print and their exit codes. The human status is compared with status-human.txt, figures aside
// (UPDATE_SNAPSHOTS=1 rewrites it after a deliberate change).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Timeline } from '../../agent/operate/timeline.ts';
import { until } from '../daemon/pair.ts';
import { degradedStatus, failedStatus, hanfs, hasSetpriv, healthyStatus, withAgent, withCliAs } from './fixtures.ts';

const HUMAN = new URL('./status-human.txt', import.meta.url);
const answer = (result: unknown) => () => result;

test('status: exit 0 healthy, 1 degraded, 2 failed; --json prints the agent\'s answer as it is', async () => {
  const healthy = healthyStatus();
  assert.equal(healthy.health, { level: 'healthy', reasons: [] });
  await withAgent(answer(healthy), async (socket) => {
    const human = await hanfs(['status', '--socket', socket]);
    assert.is(human.code, 0, human.stderr);
    if (process.env.UPDATE_SNAPSHOTS) writeFileSync(HUMAN, human.stdout);
    // The layout and the words, not the figures: those follow the core's timing, which is not this test's.
    const figuresOut = (text: string) => text.replace(/\d+(\.\d+)?/g, '#').replace(/ +/g, ' ');
    assert.fixture(figuresOut(human.stdout), figuresOut(readFileSync(HUMAN, 'utf8')));
    const json = await hanfs(['status', '--json', '--socket', socket]);
    assert.is(json.code, 0);
    assert.equal(JSON.parse(json.stdout), healthy);
  });

  const degraded = degradedStatus();
  await withAgent(answer(degraded), async (socket) => {
    const r = await hanfs(['status', '--socket', socket]);
    assert.is(r.code, 1);
    assert.match(r.stdout, /\nhealth: degraded\n {2}- maintenance is on: this node starts no failover of its own\n$/);
  });

  const failed = failedStatus();
  assert.is(failed.detector.stage, 'dead');
  await withAgent(answer(failed), async (socket) => {
    const r = await hanfs(['status', '--socket', socket]);
    assert.is(r.code, 2);
    assert.match(r.stdout, /\nhealth: failed\n {2}- group node2 is served by neither node\n/);
  });
});

test('status without an agent: exit 3 and why; as another user than root: exit 4 before trying', async () => {
  const missing = await hanfs(['status', '--socket', '/run/hanfs-test-nonexistent/agent.sock']);
  assert.is(missing.code, 3);
  assert.is(missing.stderr, 'hanfs status: /run/hanfs-test-nonexistent/agent.sock: no agent socket (is the agent running?)\n');
  const noConfig = await hanfs(['status', '--config', '/nonexistent/pair.yaml']);
  assert.is(noConfig.code, 3);
  assert.match(noConfig.stderr, /cannot read the configuration for the socket's path: ENOENT/);

  if (!hasSetpriv()) throw new Error('setpriv (util-linux) is needed to run the CLI as another user');
  await withAgent(answer(healthyStatus()), (socket) => withCliAs(65534, async (asNobody) => {
    for (const args of [['status'], ['maintenance', 'on'], ['events']]) {
      const r = await asNobody([...args, '--socket', socket]);
      assert.is(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
      assert.is(r.stderr, `hanfs ${args[0]}: the agent's control socket is root's alone: run this as root (e.g. sudo hanfs ${args[0]})\n`);
      assert.is(r.stdout, '');
    }
  }));
});

test('operator commands print what the agent did, or why it refused (exit 1)', async () => {
  const asked: unknown[] = [];
  await withAgent(({ command, args }) => {
    asked.push([command, args]);
    if (command === 'takeover') return ['takeover refused: this node is fenced, not normal'];
    return [`${command}: done`];
  }, async (socket) => {
    const on = await hanfs(['maintenance', 'on', '--socket', socket]);
    assert.equal([on.code, on.stdout], [0, 'maintenance: done\n']);
    const restart = await hanfs(['resource', 'restart', 'node1/nfs_server', '--socket', socket]);
    assert.equal([restart.code, restart.stdout], [0, 'resource_restart: done\n']);
    const refused = await hanfs(['takeover', '--socket', socket]);
    assert.equal([refused.code, refused.stdout], [1, 'takeover refused: this node is fenced, not normal\n']);
    const usage = await hanfs(['maintenance', 'sometimes', '--socket', socket]);
    assert.is(usage.code, 64, 'a bad command line is not a refusal');
  });
  assert.equal(asked, [['maintenance', { on: true }], ['resource_restart', { resource: 'node1/nfs_server' }], ['takeover', undefined]]);
});

test('events prints the timeline; --follow keeps printing what comes', async () => {
  const timeline = new Timeline({ wallClock: () => Date.parse('2025-01-01T10:00:00Z') });
  timeline.add({ kind: 'transition', from: 'probing', to: 'fencing_partner', cause: 'partner silent on every network, ICMP and the disk' });
  timeline.add({ kind: 'resource', group: 'node2', resource: 'filesystem', op: 'start', ok: true, error: null, durationMs: 11 });
  timeline.add({ kind: 'exec', command: 'ip addr add 203.0.113.12/24 dev sec', outcome: 'error', code: 2, durationMs: 3 });
  timeline.add({ kind: 'move', move: 'takeover', completed: true, endedIn: 'serving_both', durationMs: 5635 });
  const handle = ({ args }: { args?: unknown }) => {
    const a = (args ?? {}) as { after?: number };
    return { generation: 3, lastId: timeline.lastId(), entries: timeline.since(a.after ?? 0) };
  };
  await withAgent(handle, async (socket) => {
    const r = await hanfs(['events', '--socket', socket]);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, [
      '2025-01-01T10:00:00.000Z  transition     probing → fencing_partner: partner silent on every network, ICMP and the disk',
      '2025-01-01T10:00:00.000Z  resource       start node2/filesystem: done (11 ms)',
      '2025-01-01T10:00:00.000Z  exec           ip addr add 203.0.113.12/24 dev sec: exit code 2 (3 ms)',
      '2025-01-01T10:00:00.000Z  move           takeover completed in 5.6 s',
      '',
    ].join('\n'));

    // --follow: the first lines, then an entry added while it runs. It runs until stopped (here by its PID).
    const bin = fileURLToPath(new URL('../../bin/hanfs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'events', '--follow', '--json', '--socket', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    try {
      await until(() => out.split('\n').length > 4, 10_000);
      timeline.add({ kind: 'command', command: 'release', answer: ["release of the partner's group requested by the operator"] });
      await until(() => out.split('\n').length > 5, 5000);
      const last = JSON.parse(out.trim().split('\n').at(-1)!) as { id: number; kind: string; command: string };
      assert.equal([last.id, last.kind, last.command], [5, 'command', 'release']);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

test.run();
