// Each server's signing key: made by `hanfs key generate`, refused when others may read it or when it is not an
// Ed25519 key, and its public key in the config's form.
import { generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSigningKey, loadSigningKey, PUBLIC_KEY_PATTERN, publicKeyFromText, publicKeyText } from '../../agent/net/keys.ts';
import { inTempDir } from './temp-dir.ts';

test('generate writes a root-only key, never over an existing file, and returns the public key the config takes', () =>
  inTempDir('keys', async (dir) => {
    const path = join(dir, 'signing.key');
    const pub = await generateSigningKey(path);
    assert.match(pub, PUBLIC_KEY_PATTERN);
    assert.is((await stat(path)).mode & 0o777, 0o600);
    const key = await loadSigningKey(path);
    assert.is(publicKeyText(key), pub);
    assert.is(publicKeyText(publicKeyFromText(pub)), pub);
    const before = await readFile(path, 'utf8');
    try {
      await generateSigningKey(path);
      assert.unreachable('replaced an existing key');
    } catch (err) {
      assert.match((err as Error).message, /already exists, refusing to overwrite it/);
    }
    assert.is(await readFile(path, 'utf8'), before);
  }));

test('a key others may read, or one that is not Ed25519, is refused with the reason', () =>
  inTempDir('keys', async (dir) => {
    const open = join(dir, 'open.key');
    await generateSigningKey(open);
    await chmod(open, 0o644);
    try {
      await loadSigningKey(open);
      assert.unreachable('accepted a world-readable key');
    } catch (err) {
      assert.match((err as Error).message, /mode 0644, must be exactly 0600/);
    }
    const rsa = join(dir, 'rsa.key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(rsa, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
    try {
      await loadSigningKey(rsa);
      assert.unreachable('accepted an RSA key');
    } catch (err) {
      assert.match((err as Error).message, /a rsa key, must be Ed25519/);
    }
  }));

test('a public key in the config is 43 characters of base64url, nothing else', () => {
  assert.throws(() => publicKeyFromText('not a key'), /not an Ed25519 public key/);
  assert.throws(() => publicKeyFromText(`${'A'.repeat(43)}=`), /not an Ed25519 public key/);
});

test.run();
