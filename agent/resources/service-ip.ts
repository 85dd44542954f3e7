// The group's service address. Our own group's goes on our primary interface; the partner's on our SECONDARY
// interface, which is on the partner's primary network: that is HA-NFS's takeover, the clients keep talking to the
// same address. No duplicate-address probe stands before it: the address is added only once the protocol has proved
// that the partner let it go (its release, or its lease expired after our fence), and a probe that waits for
// nobody to answer costs its whole deadline (1 s) of every takeover. The probe runs just after, beside the
// gratuitous ARP (arp-announce.ts), as an alarm for a third host answering for the address.
import { addressOf } from '../../config/ipv4.ts';
import type { GroupId } from '../core/types.ts';
import { commandFailed } from '../exec/templates.ts';
import { COMMAND_TIMEOUT_MS, commandArgv, groupConfig, runOrFail, type ResourceContext } from './context.ts';

export function serviceInterface(ctx: ResourceContext, group: GroupId): string {
  const self = ctx.view.selfNode;
  return group === ctx.view.self ? self.primary.interface : self.secondary.interface;
}

/** Template values for the group's address: `address` with its prefix length, `ip` without. */
export type AddressValues = { address: string; ip: string; interface: string };

export function addressValues(ctx: ResourceContext, group: GroupId): AddressValues {
  const address = groupConfig(ctx, group).primary.address;
  return { address, ip: addressOf(address), interface: serviceInterface(ctx, group) };
}

/** The IPv4 addresses (without prefix) in the output of `ip -o -4 addr show`. */
export function parseIpv4Addresses(output: string): string[] {
  return [...output.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
}

export async function addressPresent(ctx: ResourceContext, iface: string, ip: string): Promise<boolean> {
  const shown = await runOrFail(ctx, ['ip', '-o', '-4', 'addr', 'show', 'dev', iface], COMMAND_TIMEOUT_MS.ip);
  return parseIpv4Addresses(shown.stdout).includes(ip);
}

/**
 * Whether another host answers for the address: the MAC that answered, or null. arping -D exits 0 when nobody
 * answered within its deadline, and 1 as soon as someone does (about 20 ms). Our own kernel does not answer a probe
 * sent from this host, so the address may already be ours. The default probe is one request and a 1 s deadline.
 */
export async function otherOwner(ctx: ResourceContext, values: AddressValues): Promise<string | null> {
  const result = await ctx.runner.run(commandArgv(ctx, 'arpProbe', values), { timeoutMs: COMMAND_TIMEOUT_MS.arping });
  if (result.code === 0 && !result.timedOut) return null;
  if (result.code === 1 && !result.timedOut) return /\[([0-9A-Fa-f:]{17})\]/.exec(result.stdout)?.[1] ?? 'unknown';
  throw new Error(`duplicate address probe failed: ${commandFailed(result)}`);
}

export async function addServiceAddress(ctx: ResourceContext, group: GroupId): Promise<void> {
  const values = addressValues(ctx, group);
  if (await addressPresent(ctx, values.interface, values.ip)) return;
  await runOrFail(ctx, commandArgv(ctx, 'addressAdd', values), COMMAND_TIMEOUT_MS.ip);
}

export async function removeServiceAddress(ctx: ResourceContext, group: GroupId): Promise<void> {
  const values = addressValues(ctx, group);
  if (!(await addressPresent(ctx, values.interface, values.ip))) return;
  await runOrFail(ctx, commandArgv(ctx, 'addressDel', values), COMMAND_TIMEOUT_MS.ip);
}
