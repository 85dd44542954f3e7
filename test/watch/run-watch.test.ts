// `hanfs watch` refuses a bad setup before it listens or touches a route, and leaves nothing open behind it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runWatch } from '../../agent/watch/run-watch.ts';

const dir = mkdtempSync(join(tmpdir(), 'hanfs-run-watch-'));
const socket = join(dir, 'watch.sock');

test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A watch config; `extra` goes into the pair (e.g. a secretFile, which a watcher must not name). */
function config(name: string, { extra = '', mode = 0o644 } = {}): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `pairs:
  - pair: x${extra}
    nodes:
      a: { publicKey: 97nq6ndijEhxAEugKQGXKkANFO-_-xJ2ZK-8DNOVT7A, primary: { address: 198.51.100.1/24 }, secondary: { address: 203.0.113.1/24 } }
      b: { publicKey: HNa642NFn_2Eff6qWEfGPY_svWY-u0sAg_yn7RJK80c, primary: { address: 203.0.113.2/24 }, secondary: { address: 198.51.100.2/24 } }
networks: [{ interface: lo, address: 198.51.100.99/24 }]
controlSocket: ${socket}
`);
  chmodSync(path, mode);
  return path;
}

async function refusal(path: string): Promise<string> {
  try {
    await runWatch({ config: path, dryRun: true });
  } catch (err) {
    return (err as Error).message;
  }
  return assert.unreachable('should refuse') as never;
}

test('a watcher holds no secret: a config that names the pair’s secret is refused', async () => {
  assert.match(await refusal(config('with-secret', { extra: '\n    secretFile: /etc/hanfs/secret' })), /pairs\[0\]\.secretFile: expected one of the known keys/);
});

test('a config file that others may change is refused', async () => {
  assert.match(await refusal(config('group-writable', { mode: 0o664 })), /mode 0664 lets its group change it/);
});

test('a second watcher on the same control socket is refused before it listens for heartbeats', async () => {
  const first = createServer();
  await new Promise<void>((resolve) => first.listen(socket, resolve));
  try {
    assert.match(await refusal(config('valid')), /already listening on .*watch\.sock/);
  } finally {
    first.close();
  }
});

test.run();
