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
  // Each server's hardware is its own: one server's power-off (a second or two of lab/machine.sh) must not stop the
  // board from seeing the other's pets, nor make them look late. The last pet is the file's own mtime.
  const fired = new Set<Server>();
  const lastMtime = new Map<Server, bigint>();
  for (;;) {
    const on = existsSync(switchFile(prefix));
    for (const server of SERVERS) {
      const file = watchdogDevice(prefix, server);
      if (!existsSync(file)) continue;
      const st = statSync(file, { bigint: true });
      if (st.mtimeNs !== lastMtime.get(server)) {
        lastMtime.set(server, st.mtimeNs);
        fired.delete(server);
        continue;
      }
      const armed = st.size > 0n && lastByte(file, Number(st.size)) !== 'V';
      const now = Date.now();
      if (on && armed && !fired.has(server) && now - Number(st.mtimeNs / 1_000_000n) >= timeoutMs) {
        fired.add(server);
        appendFileSync(watchdogLog(prefix), `${now} ${server}\n`);
        void powerOff(prefix, server).catch((err: Error) => appendFileSync(watchdogLog(prefix), `${Date.now()} ${server} power-off failed: ${err.message}\n`));
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

void run(process.argv[2]!, Number(process.argv[3]));
