// The agent's control socket: a Unix socket, mode 0600 (root only), one JSON request line in, one JSON answer out.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

/** Answers one request; may return a promise. A throw (or rejection) becomes the answer's error. */
export type ControlHandler = (request: { command: string; args?: unknown }) => unknown;

const MAX_REQUEST = 4096;

export async function listenControl(path: string, handle: ControlHandler): Promise<Server> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await removeStaleSocket(path);
  const server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) return conn.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      conn.pause();
      void answer(buf.slice(0, nl), handle).then((a) => conn.end(`${JSON.stringify(a)}\n`));
    });
    conn.on('error', () => conn.destroy());
  });
  // Restrictive from the first instant: no window in which another user could connect.
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  await chmod(path, 0o600);
  return server;
}

/** Never rejects: whatever goes wrong is the answer's error. */
async function answer(line: string, handle: ControlHandler): Promise<unknown> {
  let request: { command?: unknown; args?: unknown };
  try {
    request = JSON.parse(line) as typeof request;
  } catch {
    return { ok: false, error: 'the request is not JSON' };
  }
  if (typeof request.command !== 'string') return { ok: false, error: 'the request has no "command"' };
  try {
    return { ok: true, result: await handle({ command: request.command, args: request.args }) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** A socket file left by an agent that died: remove it, but never one that a live agent still answers on. */
async function removeStaleSocket(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another agent is already listening on ${path}`);
  await rm(path, { force: true });
}

/** The client side, for the CLI: sends one request and returns the parsed answer. */
export function askControl(path: string, command: string, args?: unknown, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${JSON.stringify({ command, args })}\n`));
    c.on('data', (chunk: string) => (buf += chunk));
    c.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf));
      } catch {
        reject(new Error(`unreadable answer from ${path}`));
      }
    });
    c.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' ? 'no agent socket (is the agent running?)'
        : err.code === 'EACCES' ? 'permission denied (the control socket is for root only)'
        : err.code === 'ECONNREFUSED' ? 'nobody answers on the socket (the agent is not running)'
        : err.message;
      reject(Object.assign(new Error(`${path}: ${why}`), { code: err.code }));
    });
  });
}
