// hanfs config check's note for an NFSv4 lease that Linux clients do not live with (config/lease-note.ts).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { leaseNotes } from '../../config/lease-note.ts';
import { parseConfig } from '../../config/load.ts';
import type { PairConfig } from '../../config/schema.ts';

function lab(nfs: Record<string, unknown>): PairConfig {
  const raw = parse(readFileSync(new URL('../../config/examples/lab.yaml', import.meta.url), 'utf8'));
  raw.nfs = { profile: 'ganesha', ...nfs };
  const result = parseConfig(stringify(raw), 'lab.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

test('a lease under 7 s is noted with what it costs a Linux client; 7 s and the default 10 s are not', () => {
  assert.equal(leaseNotes(lab({ leaseSeconds: 2, graceSeconds: 2 })), [
    'nfs.leaseSeconds: 2 s: a Linux NFSv4 client that holds no open file and sends nothing for just over 1 s gets EIO at '
    + 'its next call (Ganesha expires it in whole seconds, Linux checks its lease only every 5 s); use 7 or more',
  ]);
  assert.equal(leaseNotes(lab({ leaseSeconds: 6, graceSeconds: 6 })).length, 1);
  assert.equal(leaseNotes(lab({ leaseSeconds: 7, graceSeconds: 7 })), []);
  assert.equal(leaseNotes(lab({})), [], 'the defaults');
});

test.run();
