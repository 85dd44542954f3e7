// The pair's shared secret, which keys the HMAC of heartbeats and mailbox records. Whoever can read it can forge
// a partner's heartbeats and fences, so the agent refuses a secret that anyone but root could have read or written,
// and it never leaves the two servers (client watchers verify the servers' signatures instead: keys.ts).
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export const MIN_SECRET_BYTES = 16;
const GENERATED_SECRET_BYTES = 32;

export async function loadSecret(path: string): Promise<Buffer> {
  const content = await readRootOnlyFile(path, 'secret file');
  const secret = content.at(-1) === 0x0a ? content.subarray(0, -1) : content;
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(`secret file ${path}: ${secret.length} bytes, must hold at least ${MIN_SECRET_BYTES} (a trailing newline does not count)`);
  }
  return secret;
}

/**
 * A file only root may read or write (the pair's secret, a node's signing key): its content, or an error that names
 * the path and what is wrong with it.
 */
export async function readRootOnlyFile(path: string, what: string): Promise<Buffer> {
  let file;
  try {
    // O_NONBLOCK: a FIFO in the file's place must be refused, not wait forever for a writer.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(`${what} ${path}: cannot open it (${errno(err)})`);
  }
  try {
    // fstat of the open file, not stat of the path: what is checked is what is read.
    const st = await file.stat();
    if (!st.isFile()) throw new Error(`${what} ${path}: not a regular file (${fileKind(st)})`);
    if (st.uid !== 0) throw new Error(`${what} ${path}: owned by uid ${st.uid}, must be owned by root (uid 0)`);
    const mode = st.mode & 0o7777;
    if (mode !== 0o600) {
      throw new Error(`${what} ${path}: mode ${octal(mode)}, must be exactly 0600 (read and write for root only)`);
    }
    return await file.readFile();
  } finally {
    await file.close();
  }
}

/** Writes a new random secret (hex, with mode 0600); never replaces an existing one, which the partner shares. */
export async function generateSecret(path: string): Promise<void> {
  await writeRootOnlyFile(path, 'secret file', `${randomBytes(GENERATED_SECRET_BYTES).toString('hex')}\n`);
}

/** Creates `path` with mode 0600 and `content`, synced; refuses to replace a file that exists. */
export async function writeRootOnlyFile(path: string, what: string, content: string): Promise<void> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errno(err) === 'EEXIST') throw new Error(`${what} ${path}: already exists, refusing to overwrite it`);
    throw new Error(`${what} ${path}: cannot create it (${errno(err)})`);
  }
  try {
    // The umask may have taken bits away from the mode given to open; set it exactly.
    await file.chmod(0o600);
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
