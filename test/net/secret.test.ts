import { execFileSync } from 'node:child_process';
import { chmod, chown, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSecret, loadSecret } from '../../agent/net/secret.ts';
import { inTempDir } from './temp-dir.ts';

const asRoot = process.getuid?.() === 0;

async function secretFile(dir: string, content: string, mode = 0o600): Promise<string> {
  const path = join(dir, 'secret');
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  return path;
}

async function refusal(path: string): Promise<string> {
  try {
    await loadSecret(path);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${path} was accepted`);
}

test('accepts a root-only file, without its trailing newline', async () => {
  if (!asRoot) return;
  await inTempDir('secret', async (dir) => {
    const path = await secretFile(dir, '0123456789abcdef0123\n');
    assert.equal(await loadSecret(path), Buffer.from('0123456789abcdef0123'));
  });
});

test('refuses a file others may read or write, naming the path and the mode', async () => {
  await inTempDir('secret', async (dir) => {
    for (const mode of [0o640, 0o604, 0o400, 0o700, 0o4600]) {
      const path = await secretFile(dir, '0123456789abcdef0123\n', mode);
      const message = await refusal(path);
      assert.ok(message.includes(path), message);
      if (asRoot) assert.match(message, `mode 0${mode.toString(8)}, must be exactly 0600`);
      await rm(path);
    }
  });
});

test('refuses a file not owned by root', async () => {
  if (!asRoot) return;
  await inTempDir('secret', async (dir) => {
    const path = await secretFile(dir, '0123456789abcdef0123\n');
    await chown(path, 1, 1);
    assert.match(await refusal(path), 'owned by uid 1, must be owned by root');
  });
});

test('refuses a secret shorter than 16 bytes; the newline does not count', async () => {
  if (!asRoot) return;
  await inTempDir('secret', async (dir) => {
    const path = await secretFile(dir, '0123456789abcde\n');
    assert.match(await refusal(path), '15 bytes, must hold at least 16');
    await rm(path);
    assert.is((await loadSecret(await secretFile(dir, '0123456789abcdef'))).length, 16);
  });
});

test('refuses what is not a regular file, without waiting on a FIFO', async () => {
  await inTempDir('secret', async (dir) => {
    assert.match(await refusal(dir), 'not a regular file (a directory)');
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    assert.match(await refusal(fifo), 'not a regular file (a FIFO)');
    assert.match(await refusal(join(dir, 'missing')), `secret file ${join(dir, 'missing')}: cannot open it (ENOENT)`);
  });
});

test('generates 32 random bytes in hex with mode 0600, and never overwrites', async () => {
  await inTempDir('secret', async (dir) => {
    const path = join(dir, 'secret');
    // A umask that would leave the file read-only: the mode must come out 0600 all the same.
    const oldUmask = process.umask(0o277);
    try {
      await generateSecret(path);
    } finally {
      process.umask(oldUmask);
    }
    const content = await readFile(path, 'utf8');
    assert.match(content, /^[0-9a-f]{64}\n$/);
    assert.is((await stat(path)).mode & 0o7777, 0o600);
    if (asRoot) assert.is((await loadSecret(path)).toString(), content.trim());

    try {
      await generateSecret(path);
      assert.unreachable('overwrote an existing secret');
    } catch (err) {
      assert.match((err as Error).message, `secret file ${path}: already exists, refusing to overwrite it`);
    }
    assert.is(await readFile(path, 'utf8'), content);
  });
});

test.run();
