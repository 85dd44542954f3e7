// Gratuitous ARP after the service address comes up, so that clients and switches stop sending to the MAC of the
// address's previous owner (without it a takeover took 11.4 s instead of 2.1 s in the lab). Like Pacemaker's
// IPaddr2: several announcements 200 ms apart. Each `arping -U -c 1` blocks about 1 s, so the resource does not
// wait for them: the series runs in the background, one arping launched every 200 ms, failures logged. Beside it, a
// duplicate-address probe (arping -D) raises an alarm, an error in the log, if another host also answers for the
// address: a third owner that the pair's protocol cannot see and an operator must remove.
import type { GroupId } from '../core/types.ts';
import { commandFailed, commandSucceeded } from '../exec/templates.ts';
import { COMMAND_TIMEOUT_MS, commandArgv, type ResourceContext } from './context.ts';
import { addressValues, otherOwner, type AddressValues } from './service-ip.ts';

const ANNOUNCEMENTS = 5;
const SPACING_MS = 200;

interface Series {
  cancelled: boolean;
}

export class ArpAnnouncer {
  private readonly series = new Map<GroupId, Series>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly ctx: ResourceContext) {}

  /** Starts a series for the group's address (replacing one still going on) and returns at once. */
  announce(group: GroupId): void {
    const values = addressValues(this.ctx, group);
    // Built now, so that a broken template fails the resource's start rather than the background.
    const argv = commandArgv(this.ctx, 'arpAnnounce', values);
    this.cancel(group);
    const series: Series = { cancelled: false };
    this.series.set(group, series);
    this.track(this.run(group, values.ip, argv, series).finally(() => {
      if (this.series.get(group) === series) this.series.delete(group);
    }));
    this.track(this.checkNoOtherOwner(group, values, series));
  }

  /**
   * Stops announcing for the group (arp's stop): the address is about to go, and an announcement after that would
   * pull its traffic back from a partner taking it over.
   */
  cancel(group: GroupId): void {
    const series = this.series.get(group);
    if (series) series.cancelled = true;
    this.series.delete(group);
  }

  /** Resolves once no announcement is scheduled or running. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private track(work: Promise<void>): void {
    const done = work.finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async checkNoOtherOwner(group: GroupId, values: AddressValues, series: Series): Promise<void> {
    try {
      const mac = await otherOwner(this.ctx, values);
      if (mac !== null && !series.cancelled) {
        this.ctx.log('error', `${values.ip} is also answered by another host (MAC ${mac}): two hosts answer for the service address; remove it from the other host`,
          { event: 'address_conflict', group, ip: values.ip, mac });
      }
    } catch (err) {
      this.ctx.log('warn', `${values.ip}: ${(err as Error).message}`, { event: 'resource', group });
    }
  }

  private async run(group: GroupId, ip: string, argv: string[], series: Series): Promise<void> {
    const sends: Promise<void>[] = [];
    for (let n = 1; n <= ANNOUNCEMENTS && !series.cancelled; n++) {
      sends.push(this.send(group, ip, argv, n));
      if (n < ANNOUNCEMENTS) await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
    }
    await Promise.all(sends);
  }

  private async send(group: GroupId, ip: string, argv: string[], n: number): Promise<void> {
    const result = await this.ctx.runner.run(argv, { timeoutMs: COMMAND_TIMEOUT_MS.arping });
    if (!commandSucceeded(result)) {
      this.ctx.log('warn', `gratuitous ARP ${n}/${ANNOUNCEMENTS} for ${ip} failed: ${commandFailed(result)}`, { event: 'resource', group });
    }
  }
}
