// The control socket's requests, for real over a Unix socket in a temporary directory, against a stand-in
// controller that records what reaches it (the core's answers are the core's tests').
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OperatorRequest } from '../../agent/core/types.ts';
import { controlHandler, restartRequest, type EventsAnswer } from '../../agent/operate/control-commands.ts';
import { askControl, listenControl } from '../../agent/process/control-socket.ts';
import { MaintenanceFlag } from '../../agent/operate/maintenance-flag.ts';
import type { AgentStatus } from '../../agent/operate/status.ts';
import { Timeline } from '../../agent/operate/timeline.ts';

async function withAgent(body: (ask: (command: string, args?: unknown) => Promise<unknown>, seen: OperatorRequest[], flag: MaintenanceFlag, timeline: Timeline) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-control-'));
  const seen: OperatorRequest[] = [];
  const flag = new MaintenanceFlag(join(dir, 'state'), 'lab', 'server1');
  const timeline = new Timeline();
  const server = await listenControl(join(dir, 'agent.sock'), controlHandler({
    controller: { command: (r) => (seen.push(r), [`did ${r.command}`]) },
    status: () => ({ phase: 'normal' }) as AgentStatus,
    timeline, maintenance: flag, generation: 7,
  }));
  try {
    await body((command, args) => askControl(join(dir, 'agent.sock'), command, args), seen, flag, timeline);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('maintenance goes to the core and is kept on disk, so that a restarted agent is still in maintenance', () =>
  withAgent(async (ask, seen, flag) => {
    assert.equal(await ask('maintenance', { on: true }), { ok: true, result: ['did maintenance_on'] });
    assert.ok(existsSync(flag.path));
    assert.ok(await flag.isOn());
    assert.equal(await ask('maintenance', { on: false }), { ok: true, result: ['did maintenance_off'] });
    assert.not.ok(await flag.isOn());
    assert.equal(await ask('maintenance', { on: 'yes' }), { ok: false, error: 'maintenance needs args.on, true or false' });
    assert.equal(seen, [{ command: 'maintenance_on' }, { command: 'maintenance_off' }]);
  }));

test('resource restart names a resource, or a group and a resource', () =>
  withAgent(async (ask, seen) => {
    await ask('resource_restart', { resource: 'nfs_server' });
    await ask('resource_restart', { resource: 'server2/exports' });
    const bad = await ask('resource_restart', { resource: 'a/b/c' }) as { ok: boolean; error: string };
    assert.not.ok(bad.ok);
    assert.match(bad.error, /RESOURCE or GROUP\/RESOURCE/);
    assert.equal(seen, [
      { command: 'restart_resource', group: null, resource: 'nfs_server' },
      { command: 'restart_resource', group: 'server2', resource: 'exports' },
    ]);
    assert.throws(() => restartRequest(undefined), /needs args.resource/);
  }));

test('events: what came after the id the reader has, with the generation; unknown commands are named', () =>
  withAgent(async (ask, _seen, _flag, timeline) => {
    for (const m of ['one', 'two', 'three']) timeline.add({ kind: 'agent', message: m });
    const all = (await ask('events')) as { ok: true; result: EventsAnswer };
    assert.equal([all.result.generation, all.result.lastId, all.result.entries.length], [7, 3, 3]);
    const after = (await ask('events', { after: 2 })) as { ok: true; result: EventsAnswer };
    assert.equal(after.result.entries.map((e) => e.id), [3]);
    assert.equal(await ask('events', { after: -1 }), { ok: false, error: 'events: args.after must be an event id (an integer ≥ 0)' });
    assert.equal(await ask('status'), { ok: true, result: { phase: 'normal' } });
    const unknown = (await ask('reboot')) as { ok: false; error: string };
    assert.is(unknown.error, 'unknown command reboot (known: status, events, reintegrate, takeover, release, maintenance, resource_restart)');
  }));

test.run();
