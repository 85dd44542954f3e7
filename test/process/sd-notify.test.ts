// The systemd notifications, for real: a unix datagram socket bound in a temporary directory stands in for
// systemd's NOTIFY_SOCKET (no systemd runs here), and the messages that reach it are checked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'unix-dgram';
import { SdNotify } from '../../agent/process/sd-notify.ts';
import type { LogFn } from '../../agent/ports.ts';

async function withSystemd(body: (path: string, received: string[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-notify-'));
  const path = join(dir, 'notify');
  const received: string[] = [];
  const systemd = createSocket('unix_dgram', (msg) => received.push(msg.toString()));
  systemd.bind(path);
  try {
    await body(path, received);
  } finally {
    systemd.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('READY with a status, STATUS on each transition, WATCHDOG at half the interval, then STOPPING', () =>
  withSystemd(async (path, received) => {
    const lines: string[] = [];
    const log: LogFn = (_l, m) => lines.push(m);
    const notify = await SdNotify.fromEnv({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) }, log);
    assert.ok(notify.active);
    notify.ready('starting: agent running');
    notify.stepped({ type: 'tick' }, [{ type: 'transition', from: 'starting', to: 'normal', cause: 'own group online' }], {} as never);
    await sleep(350); // pings at 100 ms: three by now
    notify.stopping();
    await sleep(150);
    notify.close();
    assert.is(received[0], 'READY=1\nSTATUS=starting: agent running');
    assert.is(received[1], 'STATUS=normal: own group online');
    const pings = received.filter((m) => m === 'WATCHDOG=1').length;
    assert.ok(pings >= 2 && pings <= 4, `${pings} pings`);
    assert.is(received.at(-1), 'STOPPING=1', 'no ping after STOPPING');
    assert.equal(lines, []);
  }));

test('a watchdog meant for another process is left alone', () =>
  withSystemd(async (path, received) => {
    const notify = await SdNotify.fromEnv({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000', WATCHDOG_PID: '1' }, () => {});
    notify.ready('normal');
    await sleep(150);
    notify.close();
    assert.equal(received, ['READY=1\nSTATUS=normal']);
  }));

test('without NOTIFY_SOCKET nothing is sent and nothing is loaded', async () => {
  let loaded = false;
  const notify = await SdNotify.fromEnv({}, () => {}, async () => {
    loaded = true;
    throw new Error('not to be called');
  });
  assert.not.ok(notify.active);
  notify.ready('normal');
  notify.stopping();
  notify.close();
  assert.not.ok(loaded);
});

test('a socket that is gone is logged, never thrown', async () => {
  const lines: string[] = [];
  const notify = await SdNotify.fromEnv({ NOTIFY_SOCKET: '/nonexistent/notify' }, (_l, m) => lines.push(m));
  notify.ready('normal');
  await sleep(20);
  notify.close();
  assert.equal(lines.length, 1);
  assert.is(lines[0], 'systemd notification "READY=1" failed: ENOENT');
});

test.run();
