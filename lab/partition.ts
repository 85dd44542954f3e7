// Cutting the servers off from each other while clients still reach both: a bridge filter in each network's
// namespace drops what goes between the servers' ports (s1 and s2), in both directions, and nothing else.
import { sh, shQuiet } from './exec.ts';
import { nsName } from './topology.ts';

const TABLE = 'hanfs_partition';

/** Cuts (or heals) the servers' traffic on the given networks; healing always heals both. */
export async function partitionServers(prefix: string, cut: boolean, nets: ReadonlyArray<'neta' | 'netb'> = ['neta', 'netb']): Promise<void> {
  for (const net of ['neta', 'netb'] as const) {
    const ns = ['ip', 'netns', 'exec', nsName(prefix, net)];
    await shQuiet([...ns, 'nft', 'delete', 'table', 'bridge', TABLE]);
    if (!cut || !nets.includes(net)) continue;
    await sh([...ns, 'nft', 'add', 'table', 'bridge', TABLE]);
    await sh([...ns, 'nft', 'add', 'chain', 'bridge', TABLE, 'forward', '{ type filter hook forward priority 0; }']);
    await sh([...ns, 'nft', 'add', 'rule', 'bridge', TABLE, 'forward', 'iifname', 's1', 'oifname', 's2', 'drop']);
    await sh([...ns, 'nft', 'add', 'rule', 'bridge', TABLE, 'forward', 'iifname', 's2', 'oifname', 's1', 'drop']);
  }
}
