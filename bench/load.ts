// False takeovers under load: every core saturated by stress-ng for a while, on the host (the load is CPU only; the
// lab's namespaces share the host's CPUs), while the labs idle; counted afterwards from their logs: takeovers (the
// goal is none) and, for hanfs, how often an agent began to suspect its partner.
import { agentLog } from '../lab/agent-log.ts';
import { SERVERS } from '../lab/config.ts';
import { saturateCpus } from '../lab/load.ts';
import type { BenchSystem } from './systems.ts';

export interface LoadResult {
  system: string;
  describe: string;
  /** Silence after which the backup acts: the same for the systems compared. */
  silenceMs: number;
  seconds: number;
  takeovers: number;
  /** hanfs only: transitions into `suspecting` (heartbeats silent for interval × misses on every network). */
  suspicions: number | null;
}

export async function falseTakeovers(
  labs: { sys: BenchSystem; prefix: string }[], seconds: number, started: (pid: number) => void,
): Promise<LoadResult[]> {
  const since = Date.now();
  await saturateCpus(seconds, started);
  return labs.map(({ sys, prefix }) => ({
    system: sys.name, describe: sys.describe, silenceMs: sys.silenceMs, seconds,
    takeovers: sys.takeoversSince(prefix, since),
    suspicions: sys.kind === 'hanfs'
      ? SERVERS.reduce((n, s) => n + agentLog(prefix, s, since).filter((l) => l.event === 'transition' && l.message.includes('→ suspecting')).length, 0)
      : null,
  }));
}
