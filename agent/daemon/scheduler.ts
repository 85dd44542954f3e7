// Node's own timers behind the Scheduler port.
import type { Scheduler } from '../ports.ts';

export const timerScheduler: Scheduler = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};
