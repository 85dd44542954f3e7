// hanfs config check's note for an NFSv3 group whose service address has no name (sm-notify sends names only),
// with the name lookup replaced: which groups are looked up, and what the note says.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../config/load.ts';
import type { PairConfig } from '../../config/schema.ts';
import { serviceNameProblems } from '../../config/service-names.ts';

function lab(edit: (raw: any) => void): PairConfig {
  const raw = parse(readFileSync(new URL('../../config/examples/lab.yaml', import.meta.url), 'utf8'));
  edit(raw);
  const result = parseConfig(stringify(raw), 'lab.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

test('only NFSv3 groups are looked up; a name found is no problem', async () => {
  const asked: string[] = [];
  const found = async (ip: string) => {
    asked.push(ip);
    return 'srv1.example';
  };
  assert.equal(await serviceNameProblems(lab(() => {}), found), []);
  assert.equal(asked, [], 'NFSv4-only groups need no name');
  assert.equal(await serviceNameProblems(lab((raw) => (raw.nodes.server1.protocols = [3, 4])), found), []);
  assert.equal(asked, ['198.51.100.11']);
});

test('an NFSv3 group whose address has no name: what sm-notify would do, and what to add', async () => {
  const missing = async () => {
    throw Object.assign(new Error('getnameinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  };
  assert.equal(await serviceNameProblems(lab((raw) => (raw.nodes.server1.protocols = [3, 4])), missing), [
    'nodes.server1.protocols: NFSv3 clients learn of a move from sm-notify, which sends the name of 198.51.100.11, never the '
      + 'address, and 198.51.100.11 has no name on this machine (ENOTFOUND): every notification would fail here; add it to '
      + '/etc/hosts or DNS on both servers',
  ]);
});

test('with the knfsd profile every group is notified, so every service address needs a name', async () => {
  const raw = parse(readFileSync(new URL('../../config/examples/knfsd-pair.yaml', import.meta.url), 'utf8'));
  const parsed = parseConfig(stringify(raw), 'knfsd-pair.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const problems = await serviceNameProblems(parsed.config, async () => {
    throw Object.assign(new Error('getnameinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  });
  assert.equal(problems.map((p) => p.split(':')[0]), ['nodes.alpha.primary.address', 'nodes.beta.primary.address']);
});

test.run();
