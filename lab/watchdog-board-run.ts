// The lab's watchdog board, as a process (see watchdog-board.ts): polls each server's watchdog file and powers
// off a server whose agent stopped petting while the hardware is switched on. Runs until the lab kills it.
//
// argv[2]: the lab's prefix; argv[3]: the timeout in ms.
import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { powerOff } from './agents.ts';
import { SERVERS, type Server } from './config.ts';
import { switchFile, watchdogDevice, watchdogLog } from './watchdog-board.ts';

const POLL_MS = 20;

function lastByte(file: string, size: number): string {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

async function run(prefix: string, timeoutMs: number): Promise<void> {
  const seen = new Map<Server, { mtimeNs: bigint; at: number; fired: boolean }>();
  for (;;) {
    const now = Date.now();
    const on = existsSync(switchFile(prefix));
    for (const server of SERVERS) {
      const file = watchdogDevice(prefix, server);
      if (!existsSync(file)) continue;
      const st = statSync(file, { bigint: true });
      const prev = seen.get(server);
      if (!prev || st.mtimeNs !== prev.mtimeNs) {
        seen.set(server, { mtimeNs: st.mtimeNs, at: now, fired: false });
        continue;
      }
      const armed = st.size > 0n && lastByte(file, Number(st.size)) !== 'V';
      if (on && armed && !prev.fired && now - prev.at >= timeoutMs) {
        prev.fired = true;
        appendFileSync(watchdogLog(prefix), `${now} ${server}\n`);
        await powerOff(prefix, server);
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

void run(process.argv[2]!, Number(process.argv[3]));
