// The core's timing as a pair's configuration sets it. A module of its own: the agent's wiring needs it, and
// nothing of the configuration's parser (the agent parses in a thread of its own: agent/daemon/config-thread.ts).
import type { CoreTiming } from '../agent/core/types.ts';
import type { PairConfig } from './schema.ts';

/** The core's timing from a pair's config: the watchdog's timeout is part of it (0 without a device). */
export function coreTiming(config: PairConfig): CoreTiming {
  const t = config.timing;
  const wd = config.watchdog;
  return {
    heartbeatIntervalMs: t.heartbeatIntervalMs,
    missesBeforeSuspicion: t.missesBeforeSuspicion,
    icmpTimeoutMs: t.icmpTimeoutMs,
    diskIntervalMs: t.diskIntervalMs,
    diskIoTimeoutMs: t.diskIoTimeoutMs,
    diskProbeTimeoutMs: t.diskProbeTimeoutMs,
    selfFenceLeaseMs: t.selfFenceLeaseMs,
    fenceAfterMs: t.fenceAfterMs,
    watchdogTimeoutMs: wd === undefined || wd === 'none' ? 0 : wd.timeoutMs,
  };
}
