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

function config(secretMode: number): string {
  const secret = join(dir, `secret-${secretMode.toString(8)}`);
  writeFileSync(secret, 'a shared secret of at least sixteen bytes\n');
  chmodSync(secret, secretMode);
  const path = join(dir, `watch-${secretMode.toString(8)}.yaml`);
  writeFileSync(path, `pairs:
  - pair: x
    secretFile: ${secret}
    nodes:
      a: { primary: { address: 198.51.100.1/24 }, secondary: { address: 203.0.113.1/24 } }
      b: { primary: { address: 203.0.113.2/24 }, secondary: { address: 198.51.100.2/24 } }
networks: [{ interface: lo, address: 198.51.100.99/24 }]
controlSocket: ${socket}
`);
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

test('a secret file anyone but root could read is refused (the agent’s check)', async () => {
  assert.match(await refusal(config(0o644)), /mode 0644, must be exactly 0600/);
});

test('a second watcher on the same control socket is refused before it listens for heartbeats', async () => {
  const first = createServer();
  await new Promise<void>((resolve) => first.listen(socket, resolve));
  try {
    assert.match(await refusal(config(0o600)), /already listening on .*watch\.sock/);
  } finally {
    first.close();
  }
});

test.run();
