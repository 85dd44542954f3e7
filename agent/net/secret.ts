// The pair's shared secret, which keys the HMAC of heartbeats and mailbox records. Whoever can read it can forge
// a partner's heartbeats and fences, so the agent refuses a secret that anyone but root could have read or written.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export const MIN_SECRET_BYTES = 16;
const GENERATED_SECRET_BYTES = 32;

export async function loadSecret(path: string): Promise<Buffer> {
  let file;
  try {
    // O_NONBLOCK: a FIFO in the secret's place must be refused, not wait forever for a writer.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(`secret file ${path}: cannot open it (${errno(err)})`);
  }
  try {
    // fstat of the open file, not stat of the path: what is checked is what is read.
    const st = await file.stat();
    if (!st.isFile()) throw new Error(`secret file ${path}: not a regular file (${fileKind(st)})`);
    if (st.uid !== 0) throw new Error(`secret file ${path}: owned by uid ${st.uid}, must be owned by root (uid 0)`);
    const mode = st.mode & 0o7777;
    if (mode !== 0o600) {
      throw new Error(`secret file ${path}: mode ${octal(mode)}, must be exactly 0600 (read and write for root only)`);
    }
    const content = await file.readFile();
    const secret = content.at(-1) === 0x0a ? content.subarray(0, -1) : content;
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(`secret file ${path}: ${secret.length} bytes, must hold at least ${MIN_SECRET_BYTES} (a trailing newline does not count)`);
    }
    return secret;
  } finally {
    await file.close();
  }
}

/** Writes a new random secret (hex, with mode 0600); never replaces an existing one, which the partner shares. */
export async function generateSecret(path: string): Promise<void> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errno(err) === 'EEXIST') throw new Error(`secret file ${path}: already exists, refusing to overwrite it`);
    throw new Error(`secret file ${path}: cannot create it (${errno(err)})`);
  }
  try {
    // The umask may have taken bits away from the mode given to open; set it exactly.
    await file.chmod(0o600);
    await file.writeFile(`${randomBytes(GENERATED_SECRET_BYTES).toString('hex')}\n`);
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
