// Whether the service addresses this node holds are still on their interfaces. An address can vanish under a
// running group: an admin's `ip addr flush`, ifupdown or NetworkManager taking the interface over, or (seen in the
// lab) a power switch flushing a server that had already booted again. The group then reports online behind an
// address nobody answers: its clients hang, and neither node moves. A missing address is a failed health check of
// the group's service_ip resource, which the core restarts (the address added again and announced) up to its limit.
//
// The check is os.networkInterfaces() (getifaddrs, no process forked) at most once per interval, on the agent's
// tick. libuv lists only interfaces that are up and running: an interface without carrier is missing whole, and
// tells nothing of its addresses (the link monitor reports it). Its addresses are looked at again once it runs.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { GroupId } from '../core/types.ts';
import type { ResourceContext } from './context.ts';
import { addressValues } from './service-ip.ts';

export interface AddressTrouble {
  group: GroupId;
  resource: string;
  detail: string;
}

export type InterfaceLister = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

const CHECK_INTERVAL_MS = 1_000;

export class ServiceAddressWatch {
  private readonly held = new Map<GroupId, { resource: string; interface: string; ip: string }>();
  private lastCheck = -Infinity;

  constructor(
    private readonly ctx: ResourceContext,
    private readonly list: InterfaceLister = networkInterfaces,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = CHECK_INTERVAL_MS,
  ) {}

  /** The group's service_ip resource started here: its address is watched from now on. */
  watch(group: GroupId, resource: string): void {
    const { interface: iface, ip } = addressValues(this.ctx, group);
    this.held.set(group, { resource, interface: iface, ip });
  }

  forget(group: GroupId): void {
    this.held.delete(group);
  }

  /** The watched addresses gone from an interface that runs; nothing between two checks. */
  check(): AddressTrouble[] {
    const now = this.now();
    if (this.held.size === 0 || now - this.lastCheck < this.intervalMs) return [];
    this.lastCheck = now;
    const interfaces = this.list();
    const gone: AddressTrouble[] = [];
    for (const [group, held] of this.held) {
      const listed = interfaces[held.interface];
      if (!listed || listed.some((a) => a.family === 'IPv4' && a.address === held.ip)) continue;
      gone.push({ group, resource: held.resource, detail: `service address ${held.ip} is no longer on ${held.interface}` });
    }
    return gone;
  }
}
