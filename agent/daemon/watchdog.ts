// Watchdogs. The core arms the watchdog to the end of its lease, so that a machine whose agent is frozen is reset
// before its partner may take its resources over.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Clock, LogFn, Watchdog } from '../ports.ts';

/** No watchdog device: said once, loudly, since then only the agent itself stops serving when its lease runs out. */
export class NoWatchdog implements Watchdog {
  private warned = false;
  constructor(private readonly log: LogFn) {}
  arm(until: number | null): void {
    if (until !== null && !this.warned) {
      this.warned = true;
      this.log('warn', 'no watchdog device configured: a frozen agent cannot be reset when its lease runs out');
    }
  }
  close(): void {}
}

/**
 * /dev/watchdog (for example softdog). Linux sets its timeout by ioctl, which Node cannot call, so the device keeps
 * the timeout it was loaded with (softdog's soft_margin) and this pets it on every tick while the lease is still
 * good; once the lease runs out the petting stops and the device resets the machine one timeout later. That
 * timeout therefore belongs in the fence margin: keep it short (1 s).
 */
export class DeviceWatchdog implements Watchdog {
  private fd: number | null = null;
  private until: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly device: string, private readonly clock: Clock, private readonly petMs: number) {}

  arm(until: number | null): void {
    this.until = until;
    if (until === null) return this.disarm();
    if (this.fd === null) {
      this.fd = openSync(this.device, 'w');
      this.timer = setInterval(() => this.pet(), this.petMs);
    }
    this.pet();
  }

  private pet(): void {
    if (this.fd !== null && this.until !== null && this.clock.now() < this.until) writeSync(this.fd, '1');
  }

  /** The magic close ('V'): tells the driver that stopping the petting is deliberate. */
  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.fd !== null) {
      writeSync(this.fd, 'V');
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /**
   * The agent is exiting (SIGTERM). Its NFS server, mounts and address keep running (KillMode=process), so while it
   * still owns anything the device stays armed: the fd is closed without the magic close, the petting stops, and
   * the machine resets one timeout later unless a restarted agent takes over the petting first. The partner's
   * fence wait counts on exactly that. Only a watchdog with nothing to guard is disarmed.
   */
  close(): void {
    if (this.until === null) return this.disarm();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
