// Telling a guest's workload what to do: a line on its control port (ttyS2, a unix socket QEMU listens on), then a
// wait for the guest's reply on its results port. The replies: start → `started dir=...`, stop → `stopped` (every
// loop has ended, each open file verified), verify → `verified files=N bad=M`.
import { connect } from 'node:net';
import { waitUntil } from '../wait.ts';
import { guestFile } from './registry.ts';
import { resultLines } from './results.ts';

export type GuestCommand = 'start' | 'stop' | 'verify' | 'clean' | 'poweroff';

const REPLY: Record<GuestCommand, string | null> = { start: 'started', stop: 'stopped', verify: 'verified', clean: 'cleaned', poweroff: null };

/** Writes one line to the guest's control port, without waiting for its reply. */
export function send(prefix: string, name: string, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(guestFile(prefix, name, 'control.sock'));
    socket.on('error', (err) => reject(new Error(`guest ${name}'s control port: ${err.message}`)));
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('close', () => resolve());
  });
}

/** Sends the command and returns the guest's reply line (none for poweroff). */
export async function commandGuest(prefix: string, name: string, command: GuestCommand, timeoutMs = 60_000): Promise<string> {
  const before = resultLines(prefix, name).length;
  await send(prefix, name, command);
  const word = REPLY[command];
  if (!word) return '';
  let reply = '';
  await waitUntil(async () => {
    const fresh = resultLines(prefix, name).slice(before);
    reply = fresh.find((l) => l.startsWith(`${word}`) || l.startsWith(`${command}-failed`) || l.startsWith('unknown-command')) ?? '';
    return reply !== '';
  }, timeoutMs, `guest ${name} answers ${command}`, () => '', 100);
  if (!reply.startsWith(word)) throw new Error(`guest ${name}: ${reply}`);
  return reply;
}
