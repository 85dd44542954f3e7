// Watchdogs. The core arms the watchdog to the end of its lease, so that a machine whose agent is frozen is reset
// before its partner may take its resources over.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Clock, LogFn, Scheduler, Watchdog, WatchdogDevice } from '../ports.ts';

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

/** The device file itself, e.g. /dev/watchdog. */
export function watchdogDeviceFile(path: string): WatchdogDevice {
  let fd: number | null = null;
  return {
    open: () => {
      fd = openSync(path, 'w');
    },
    pet: () => {
      if (fd !== null) writeSync(fd, '1');
    },
    close: (magic) => {
      if (fd === null) return;
      if (magic) writeSync(fd, 'V');
      closeSync(fd);
      fd = null;
    },
  };
}

/** How often the agent pets its device: well inside the shortest device timeout it accepts (1 s). */
export function watchdogPetMs(t: { heartbeatIntervalMs: number }): number {
  return Math.max(50, t.heartbeatIntervalMs / 2);
}

/**
 * /dev/watchdog (for example softdog). Linux sets its timeout by ioctl, which Node cannot call, so the device keeps
 * the timeout it was loaded with (softdog's soft_margin) and this pets it on every tick while the lease is still
 * good; once the lease runs out the petting stops and the device resets the machine one timeout later. That
 * timeout therefore belongs in the fence margin: keep it short (1 s). The simulator runs this same class against
 * its model of the device.
 */
export class DeviceWatchdog implements Watchdog {
  private opened = false;
  private until: number | null = null;
  private cancelPets: (() => void) | null = null;

  constructor(
    private readonly device: WatchdogDevice,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly petMs: number,
  ) {}

  arm(until: number | null): void {
    this.until = until;
    if (until === null) return this.disarm();
    if (!this.opened) {
      this.device.open();
      this.opened = true;
      this.cancelPets = this.scheduler.every(this.petMs, () => this.pet());
    }
    this.pet();
  }

  private pet(): void {
    if (this.opened && this.until !== null && this.clock.now() < this.until) this.device.pet();
  }

  private disarm(): void {
    this.stopPetting();
    if (this.opened) this.device.close(true);
    this.opened = false;
  }

  /**
   * The agent is exiting (SIGTERM). Its NFS server, mounts and address keep running (KillMode=process), so while it
   * still owns anything the device stays armed: the file is closed without the magic close, the petting stops, and
   * the machine resets one timeout later unless a restarted agent takes over the petting first. The partner's
   * fence wait counts on exactly that. Only a watchdog with nothing to guard is disarmed.
   */
  close(): void {
    if (this.until === null) return this.disarm();
    this.stopPetting();
    if (this.opened) this.device.close(false);
    this.opened = false;
  }

  private stopPetting(): void {
    this.cancelPets?.();
    this.cancelPets = null;
  }
}
