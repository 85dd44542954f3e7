// The group's service address. Our own group's goes on our primary interface; the partner's on our SECONDARY
// interface, which is on the partner's primary network: that is HA-NFS's takeover, the clients keep talking to the
// same address. Before adding it, a duplicate-address probe (arping -D) makes sure nobody still answers for it.
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

async function addressPresent(ctx: ResourceContext, iface: string, ip: string): Promise<boolean> {
  const shown = await runOrFail(ctx, ['ip', '-o', '-4', 'addr', 'show', 'dev', iface], COMMAND_TIMEOUT_MS.ip);
  return parseIpv4Addresses(shown.stdout).includes(ip);
}

/**
 * arping -D exits 0 when nobody answered within its deadline, and 1 as soon as someone answers (about 20 ms): the
 * old owner still holds the address, and taking it now would give the clients two servers. The default probe is one
 * request and a 1 s deadline (arping takes whole seconds only): a host that holds the address answers within
 * milliseconds, and every second of the deadline is a second of every takeover (it was 2 s, a third of one).
 */
async function probeAddressFree(ctx: ResourceContext, values: AddressValues): Promise<void> {
  const result = await ctx.runner.run(commandArgv(ctx, 'arpProbe', values), { timeoutMs: COMMAND_TIMEOUT_MS.arping });
  if (result.code === 0 && !result.timedOut) return;
  if (result.code === 1 && !result.timedOut) {
    const mac = /\[([0-9A-Fa-f:]{17})\]/.exec(result.stdout)?.[1] ?? 'unknown';
    throw new Error(`${values.ip} is still answered by another host (MAC ${mac}): not taking it`);
  }
  throw new Error(`duplicate address probe failed: ${commandFailed(result)}`);
}

export async function addServiceAddress(ctx: ResourceContext, group: GroupId): Promise<void> {
  const values = addressValues(ctx, group);
  if (await addressPresent(ctx, values.interface, values.ip)) return;
  await probeAddressFree(ctx, values);
  await runOrFail(ctx, commandArgv(ctx, 'addressAdd', values), COMMAND_TIMEOUT_MS.ip);
}

export async function removeServiceAddress(ctx: ResourceContext, group: GroupId): Promise<void> {
  const values = addressValues(ctx, group);
  if (!(await addressPresent(ctx, values.interface, values.ip))) return;
  await runOrFail(ctx, commandArgv(ctx, 'addressDel', values), COMMAND_TIMEOUT_MS.ip);
}
