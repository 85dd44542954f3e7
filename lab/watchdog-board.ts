// The lab's watchdog hardware: a process in the host's namespaces (outside every server's), started with the lab
// (watchdog-board-run.ts). Each server's agent pets a file of its own as its watchdog device (the lab's config names
// it); while a scenario has switched the hardware on, a server whose file has not been written for the timeout,
// and whose last write was not the magic close 'V', is powered off, as a watchdog resets a machine whose agent
// stopped petting: frozen whole, or killed while its kernel lives. The other scenarios (an agent restarted and
// adopting what runs, the intent log's resumed transitions) model a watchdog slower than the restart: off.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import type { Server } from './config.ts';
import { labPath } from './state.ts';

const RUNNER = new URL('./watchdog-board-run.ts', import.meta.url).pathname;

/** The lab's watchdog timeout: the lease (3 s) holds two of them and the fence margin. */
export const LAB_WATCHDOG_MS = 1000;

export function watchdogDevice(prefix: string, server: Server): string {
  return labPath(prefix, `${server}-watchdog`);
}

/** The hardware switch: the board acts only while it is on (scenarios that model a whole-machine fault). */
export function switchFile(prefix: string): string {
  return labPath(prefix, 'watchdog-on');
}

export function setWatchdogHardware(prefix: string, on: boolean): void {
  if (on) writeFileSync(switchFile(prefix), '');
  else rmSync(switchFile(prefix), { force: true });
}

/** The lines the board wrote: one per power-off, "<ms since epoch> <server>". */
export function watchdogLog(prefix: string): string {
  return labPath(prefix, 'watchdog.log');
}

/** Starts the board, detached; its PID goes into the lab's state, so that `down` kills it. */
export function startWatchdogBoard(prefix: string): number {
  const board = spawn(process.execPath, ['--import', 'tsx', RUNNER, prefix, String(LAB_WATCHDOG_MS)], { detached: true, stdio: 'ignore' });
  board.unref();
  return board.pid!;
}
