// "The address answers from this server": the server holds it on its interface, alone (both servers' addresses
// read with one `ip` each: the lighter the poll, the finer its resolution on a busy machine), and client1's ARP
// request for it is answered with that interface's MAC. Polled every 10 ms; the time reported is the moment the ARP
// reply came back to the client.
import { SERVERS, type Server } from '../lab/config.ts';
import { sh } from '../lab/exec.ts';
import { addressesOf } from '../lab/inspect.ts';
import { onNode } from '../lab/mountns.ts';
import { nsName } from '../lab/topology.ts';
import { waitUntil } from '../lab/wait.ts';

/** The lab's two service addresses: the client's interface on each one's network, and each server's interface on it. */
export const SERVICE = {
  server1: { ip: '198.51.100.11', clientIface: 'neta', iface: { server1: 'pri', server2: 'sec' } },
  server2: { ip: '203.0.113.12', clientIface: 'netb', iface: { server1: 'sec', server2: 'pri' } },
} as const;

async function macOf(prefix: string, server: Server, iface: string): Promise<string> {
  const [link] = JSON.parse(await sh(['ip', '-n', nsName(prefix, server), '-j', 'link', 'show', 'dev', iface])) as Array<{ address: string }>;
  return link!.address.toLowerCase();
}

/** The MAC in arping's "Unicast reply from IP [MAC]" line, if any. */
export function arpReplyMac(output: string): string | null {
  return /reply from [\d.]+ \[([0-9A-Fa-f:]{17})\]/.exec(output)?.[1]?.toLowerCase() ?? null;
}

/** Resolves with the moment `group`'s address answered client1 from `server`. */
export async function addressAnsweredBy(prefix: string, group: Server, server: Server, timeoutMs: number): Promise<number> {
  const s = SERVICE[group];
  const mac = await macOf(prefix, server, s.iface[server]);
  let answeredAt = 0;
  await waitUntil(async () => {
    const held = await Promise.all(SERVERS.map(async (x) => Object.values(await addressesOf(prefix, x)).flat()));
    const holders = SERVERS.filter((_, i) => held[i]!.some((a) => a.startsWith(`${s.ip}/`)));
    if (holders.length !== 1 || holders[0] !== server) return false;
    const out = await sh(onNode(prefix, 'client1', ['arping', '-c', '1', '-w', '1', '-I', s.clientIface, s.ip])).catch(() => '');
    answeredAt = Date.now();
    return arpReplyMac(out) === mac;
  }, timeoutMs, `${s.ip} answered by ${server}`, () => '', 10);
  return answeredAt;
}
