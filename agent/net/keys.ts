// Each server's Ed25519 signing key. Heartbeats carry two proofs: the pair's HMAC, which only the two servers can
// make and which alone counts for the pair's own decisions (fences, handovers, takeovers, grants), and a signature
// by the sending server, which client watchers check with the servers' public keys. A watcher therefore holds
// nothing that lets it speak for a server: it can verify heartbeats, never make one.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readRootOnlyFile, writeRootOnlyFile } from './secret.ts';

/** A public key as the config holds it: the raw 32 bytes in base64url (the JWK "x" of an Ed25519 key). */
export const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function publicKeyFromText(text: string): KeyObject {
  if (!PUBLIC_KEY_PATTERN.test(text)) throw new Error(`not an Ed25519 public key (43 characters of base64url): ${text}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
}

export function publicKeyText(key: KeyObject): string {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return jwk.x!;
}

/** This node's signing key: a root-only PEM file (PKCS#8) holding an Ed25519 private key. */
export async function loadSigningKey(path: string): Promise<KeyObject> {
  const pem = await readRootOnlyFile(path, 'signing key file');
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`signing key file ${path}: not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`signing key file ${path}: a ${key.asymmetricKeyType} key, must be Ed25519 (hanfs key generate)`);
  }
  return key;
}

/** Writes a new signing key (mode 0600, never over an existing file) and returns its public key's text. */
export async function generateSigningKey(path: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeRootOnlyFile(path, 'signing key file', privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  return publicKeyText(privateKey);
}
