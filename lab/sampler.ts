// Who holds what, sampled every few milliseconds while a scenario runs: every sample in which a service address or
// a disk had two owners, and the longest window in which one did. The tests, the demo, the fault matrix and the
// benchmarks all judge double ownership by this one sampler.
import { ownership } from './inspect.ts';

export interface OwnershipReport {
  /** One line per sample with a double owner: "198.51.100.11: server1, server2". */
  doubles: string[];
  /** The longest stretch, in ms, from the first sample with a double owner to the next sample without one. */
  longestDoubleMs: number;
  samples: number;
}

export interface OwnershipSampler {
  /** What has been seen so far. */
  now(): OwnershipReport;
  stop(): Promise<OwnershipReport>;
}

/** `machines`: whose addresses and mounts are sampled (the pair's servers by default; a cluster lab's nodes). */
export function sampleOwnership(prefix: string, everyMs = 10, machines?: readonly string[]): OwnershipSampler {
  let running = true;
  const report: OwnershipReport = { doubles: [], longestDoubleMs: 0, samples: 0 };
  let doubleSince: number | null = null;
  const done = (async () => {
    while (running) {
      const o = await ownership(prefix, machines);
      const at = Date.now();
      const lines = [...Object.entries(o.addresses), ...Object.entries(o.disks)]
        .filter(([, who]) => who.length > 1).map(([what, who]) => `${what}: ${who.join(', ')}`);
      report.samples++;
      report.doubles.push(...lines);
      if (lines.length > 0) doubleSince ??= at;
      else if (doubleSince !== null) {
        report.longestDoubleMs = Math.max(report.longestDoubleMs, at - doubleSince);
        doubleSince = null;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
    if (doubleSince !== null) report.longestDoubleMs = Math.max(report.longestDoubleMs, Date.now() - doubleSince);
  })();
  return {
    now: () => ({ ...report, doubles: [...report.doubles] }),
    stop: async () => {
      running = false;
      await done;
      return report;
    },
  };
}
