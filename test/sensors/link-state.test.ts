import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkWatcher, linkUp, readOperstate } from '../../agent/sensors/link-state.ts';
import { createNetnsPair, ip, spawnInNetns } from './netns-pair.ts';

/** A stand-in for /sys/class/net: each interface a directory of attribute files (a missing file cannot be read). */
interface FakeSysfs {
  root: string;
  set(iface: string, attr: string, value: string): void;
}

function fakeSysfs(interfaces: Record<string, Record<string, string>>): FakeSysfs {
  const root = mkdtempSync(join(tmpdir(), 'hanfs-sysfs-'));
  const set = (iface: string, attr: string, value: string) => {
    mkdirSync(join(root, iface), { recursive: true });
    writeFileSync(join(root, iface, attr), `${value}\n`);
  };
  for (const [iface, attrs] of Object.entries(interfaces)) {
    for (const [attr, value] of Object.entries(attrs)) set(iface, attr, value);
  }
  return { root, set };
}

test('operstate folds to up, down or unknown; a missing interface is down', () => {
  const sys = fakeSysfs({
    eth0: { operstate: 'up' }, eth1: { operstate: 'down' }, veth0: { operstate: 'lowerlayerdown' },
    wlan0: { operstate: 'dormant' }, tun0: { operstate: 'unknown' },
  });
  try {
    assert.is(readOperstate('eth0', sys.root), 'up');
    assert.is(readOperstate('eth1', sys.root), 'down');
    assert.is(readOperstate('veth0', sys.root), 'down');
    assert.is(readOperstate('wlan0', sys.root), 'down');
    assert.is(readOperstate('tun0', sys.root), 'unknown');
    assert.is(readOperstate('gone0', sys.root), 'down');
    assert.is(linkUp('gone0', sys.root), false);
  } finally {
    rmSync(sys.root, { recursive: true, force: true });
  }
});

test('an unknown operstate is up only with IFF_UP and carrier', () => {
  const sys = fakeSysfs({
    working: { operstate: 'unknown', flags: '0x1003', carrier: '1' },
    'admin-down': { operstate: 'unknown', flags: '0x1002' },
    'no-carrier': { operstate: 'unknown', flags: '0x1003', carrier: '0' },
    'up-but-no-flags-file': { operstate: 'unknown', carrier: '1' },
  });
  try {
    assert.is(linkUp('working', sys.root), true);
    assert.is(linkUp('admin-down', sys.root), false);
    assert.is(linkUp('no-carrier', sys.root), false);
    assert.is(linkUp('up-but-no-flags-file', sys.root), false);
  } finally {
    rmSync(sys.root, { recursive: true, force: true });
  }
});

test('LinkWatcher: the first poll reports every network, later ones only changes', () => {
  const sys = fakeSysfs({ eth0: { operstate: 'up' }, eth1: { operstate: 'down' } });
  try {
    const watcher = new LinkWatcher([{ net: 'a', iface: 'eth0' }, { net: 'b', iface: 'eth1' }], sys.root);
    assert.equal(watcher.poll(), [{ net: 'a', up: true }, { net: 'b', up: false }]);
    assert.equal(watcher.poll(), []);
    sys.set('eth1', 'operstate', 'up');
    sys.set('eth0', 'operstate', 'lowerlayerdown');
    assert.equal(watcher.poll(), [{ net: 'a', up: false }, { net: 'b', up: true }]);
    assert.equal(watcher.poll(), []);
  } finally {
    rmSync(sys.root, { recursive: true, force: true });
  }
});

interface PollAnswer {
  changes: Array<{ net: string; up: boolean }>;
  operstate: Record<string, string>;
}

test('in a namespace: veth carrier loss, admin down and loopback (operstate unknown) transitions are seen', async () => {
  const pair = createNetnsPair('link');
  const child = spawnInNetns(pair.a, 'test/sensors/link-child.ts', [JSON.stringify([
    { net: 'a', iface: 'veth-a' }, { net: 'lo', iface: 'lo' }, { net: 'gone', iface: 'nosuch0' },
  ])]);
  try {
    const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const poll = async (): Promise<PollAnswer> => {
      child.stdin.write('poll\n');
      const next = await answers.next();
      if (next.done) throw new Error('the link child ended');
      return JSON.parse(next.value) as PollAnswer;
    };
    // The kernel's linkwatch may take up to a second to update operstate after a carrier change.
    const pollUntilChange = async (): Promise<PollAnswer> => {
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        const answer = await poll();
        if (answer.changes.length > 0) return answer;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('no change seen within 3 s');
    };

    const first = await poll();
    assert.equal(first.changes, [{ net: 'a', up: true }, { net: 'lo', up: false }, { net: 'gone', up: false }]);
    assert.equal(first.operstate, { 'veth-a': 'up', lo: 'down', nosuch0: 'down' });
    assert.equal((await poll()).changes, []);

    ip('-n', pair.b, 'link', 'set', 'veth-b', 'down');
    const peerDown = await pollUntilChange();
    assert.equal(peerDown.changes, [{ net: 'a', up: false }]);
    assert.is(peerDown.operstate['veth-a'], 'down');

    ip('-n', pair.b, 'link', 'set', 'veth-b', 'up');
    assert.equal((await pollUntilChange()).changes, [{ net: 'a', up: true }]);

    ip('-n', pair.a, 'link', 'set', 'lo', 'up');
    const loUp = await pollUntilChange();
    assert.equal(loUp.changes, [{ net: 'lo', up: true }]);
    assert.is(loUp.operstate.lo, 'unknown');

    ip('-n', pair.a, 'link', 'set', 'veth-a', 'down');
    assert.equal((await pollUntilChange()).changes, [{ net: 'a', up: false }]);
  } finally {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    pair.remove();
  }
});

test.run();
