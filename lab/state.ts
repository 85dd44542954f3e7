// Where a lab lives and what it has made. Everything is recorded as soon as it exists, so that `down` can remove
// it all even after `up` or a test died half way.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabState {
  prefix: string;
  loops: Record<string, string>;
  agents: Record<string, number>;
  /** The lab's "management board": a process in the host's namespaces, through which a fence command reaches the lab. */
  bmc?: number;
  /** The lab's watchdog hardware (lab/watchdog-board.ts): powers off a server whose agent stopped petting. */
  watchdogBoard?: number;
  /** client1's `hanfs watch`, when a test started one. */
  watcher?: number;
  /** keepalived's processes per server, when the lab runs keepalived instead of the agents (the benchmarks). */
  keepalived?: Record<string, number[]>;
}

export function runDir(prefix: string): string {
  return `/run/hanfs-lab/${prefix}`;
}

export function labPath(prefix: string, name: string): string {
  return join(runDir(prefix), name);
}

export function readState(prefix: string): LabState | null {
  const file = labPath(prefix, 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LabState) : null;
}

export function writeState(state: LabState): void {
  mkdirSync(runDir(state.prefix), { recursive: true });
  writeFileSync(labPath(state.prefix, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

/** The prefix from --prefix, else HANFS_LAB_PREFIX, else "hanfs"; it must make valid namespace names. */
export function resolvePrefix(option?: string): string {
  const prefix = option ?? process.env.HANFS_LAB_PREFIX ?? 'hanfs';
  if (!/^[a-z][a-z0-9-]{0,23}$/.test(prefix)) throw new Error(`lab prefix "${prefix}": a letter, then up to 23 of a-z, 0-9, -`);
  return prefix;
}
