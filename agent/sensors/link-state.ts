// Link state of the agent's network interfaces, read on every tick of the heartbeat loop: a few small sysfs reads,
// no child process and no systeminformation (its networkInterfaces() forks dozens of processes and omits down
// interfaces). /sys/class/net shows the network namespace /sys was mounted in; `ip netns exec` mounts it afresh.
import { readFileSync } from 'node:fs';
import type { NetId } from '../core/types.ts';

export type Operstate = 'up' | 'down' | 'unknown';

const SYS_CLASS_NET = '/sys/class/net';
const IFF_UP = 0x1;

/**
 * The kernel's RFC 2863 operstate, folded to three values: 'up'; 'unknown' (drivers that do not track it, such as
 * loopback, dummy or tun, report it while working); 'down' for everything else, including a missing interface,
 * 'lowerlayerdown' (a veth whose peer is down), 'dormant' and 'notpresent'.
 */
export function readOperstate(iface: string, sysClassNet = SYS_CLASS_NET): Operstate {
  const state = readAttribute(sysClassNet, iface, 'operstate');
  return state === 'up' || state === 'unknown' ? state : 'down';
}

/**
 * Whether the link carries traffic. The rule: operstate 'up' is up and 'down' is down; for 'unknown' the link is
 * up when it is administratively up (IFF_UP in `flags`) and has carrier (`carrier` reads 1; the kernel refuses to
 * read it while the interface is administratively down).
 */
export function linkUp(iface: string, sysClassNet = SYS_CLASS_NET): boolean {
  const state = readOperstate(iface, sysClassNet);
  if (state !== 'unknown') return state === 'up';
  const flags = Number.parseInt(readAttribute(sysClassNet, iface, 'flags') ?? '0', 16);
  return (flags & IFF_UP) !== 0 && readAttribute(sysClassNet, iface, 'carrier') === '1';
}

/** An attribute's trimmed text, or null when it cannot be read (the interface is gone, or no carrier to tell). */
function readAttribute(sysClassNet: string, iface: string, name: string): string | null {
  try {
    return readFileSync(`${sysClassNet}/${iface}/${name}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The controller's link source: what changed since the last poll, per network (the first poll reports all). */
export class LinkWatcher {
  private readonly last = new Map<NetId, boolean>();

  constructor(
    private readonly networks: ReadonlyArray<{ net: NetId; iface: string }>,
    private readonly sysClassNet = SYS_CLASS_NET,
  ) {}

  poll(): Array<{ net: NetId; up: boolean }> {
    const changes: Array<{ net: NetId; up: boolean }> = [];
    for (const { net, iface } of this.networks) {
      const up = linkUp(iface, this.sysClassNet);
      if (this.last.get(net) !== up) changes.push({ net, up });
      this.last.set(net, up);
    }
    return changes;
  }
}
