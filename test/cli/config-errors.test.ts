// Every command that reads a configuration exits 78 (EX_CONFIG) when it is invalid or unreadable, which the systemd
// units do not restart on: hanfs watch used to exit 1 and be restarted in a loop.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hanfs } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'hanfs-config-errors-'));
const bad = join(dir, 'bad.yaml');
writeFileSync(bad, 'pair: x\nbogus: 1\n');
const missing = join(dir, 'missing.yaml');

test.after(() => rmSync(dir, { recursive: true, force: true }));

const commands: Array<[string, string[]]> = [
  ['hanfs config check', ['config', 'check']],
  ['hanfs watch', ['watch', '--dry-run', '--config']],
  ['hanfs watch', ['watch', '--status', '--config']],
  ['hanfs group start', ['group', 'start', 'node1', '--config']],
];

for (const [name, args] of commands) {
  test(`${args.slice(0, -1).join(' ')}: an invalid or unreadable configuration exits 78 and says where`, async () => {
    const invalid = await hanfs([...args, bad]);
    assert.is(invalid.code, 78, invalid.stderr);
    assert.ok(invalid.stderr.includes(`${bad}:2:8: bogus: expected one of the known keys`), invalid.stderr);
    assert.ok(invalid.stderr.startsWith(name === 'hanfs config check' ? bad : `${name}: invalid configuration:\n`), invalid.stderr);
    const unreadable = await hanfs([...args, missing]);
    assert.is(unreadable.code, 78, unreadable.stderr);
    assert.ok(unreadable.stderr.includes(`${missing}: cannot read: ENOENT`), unreadable.stderr);
  });
}

test('hanfs-watch.service does not restart the watcher after exit 78, as hanfs-agent.service does not the agent', () => {
  for (const unit of ['hanfs-watch.service', 'hanfs-agent.service']) {
    const text = readFileSync(new URL(`../../config/systemd/${unit}`, import.meta.url), 'utf8');
    assert.match(text, /^RestartPreventExitStatus=78$/m, unit);
  }
});

test.run();
