// Cutting the servers off from each other while clients still reach both: a bridge filter in each network's
// namespace drops what goes between the servers' ports (s1 and s2), in both directions (or only server2's heartbeats
// to server1), and nothing else.
import { sh, shQuiet } from './exec.ts';
import { nsName } from './topology.ts';

const TABLE = 'hanfs_partition';

/** Cuts (or heals) the servers' traffic on the given networks; healing always heals both. */
export async function partitionServers(prefix: string, cut: boolean, nets: ReadonlyArray<'neta' | 'netb'> = ['neta', 'netb']): Promise<void> {
  await filterBetweenServers(prefix, cut ? nets : [], [['s1', 's2', []], ['s2', 's1', []]]);
}

/**
 * Drops (or passes again) server2's heartbeats to server1 on both networks, and nothing else: server1 still answers
 * ICMP and still reaches the disk, and server2 still hears server1.
 */
export async function dropHeartbeatsToServer1(prefix: string, drop: boolean, port = 7405): Promise<void> {
  await filterBetweenServers(prefix, drop ? ['neta', 'netb'] : [], [['s2', 's1', ['udp', 'dport', String(port)]]]);
}

/** Replaces the filter on every network: on `nets`, drops what goes from one port to another and matches. */
async function filterBetweenServers(
  prefix: string, nets: ReadonlyArray<'neta' | 'netb'>, drops: Array<[from: string, to: string, match: string[]]>,
): Promise<void> {
  for (const net of ['neta', 'netb'] as const) {
    const ns = ['ip', 'netns', 'exec', nsName(prefix, net)];
    await shQuiet([...ns, 'nft', 'delete', 'table', 'bridge', TABLE]);
    if (!nets.includes(net)) continue;
    await sh([...ns, 'nft', 'add', 'table', 'bridge', TABLE]);
    await sh([...ns, 'nft', 'add', 'chain', 'bridge', TABLE, 'forward', '{ type filter hook forward priority 0; }']);
    for (const [from, to, match] of drops) {
      await sh([...ns, 'nft', 'add', 'rule', 'bridge', TABLE, 'forward', 'iifname', from, 'oifname', to, ...match, 'drop']);
    }
  }
}
