// A flood of bad heartbeats from a lab node on both networks, at the agents and the client watchers: see
// flood-sender.ts for what is sent.
import { sh, inNetns } from './exec.ts';
import { nsName, type LabNode } from './topology.ts';

const SENDER = new URL('./flood-sender.ts', import.meta.url).pathname;

export interface FloodOptions {
  port: number;
  /** How long real heartbeats are recorded before the flood (ms). */
  captureMs: number;
  /** Stop after this many packets, or this long (ms), whichever comes first. */
  packets?: number;
  floodMs?: number;
  /** Packets per round, and the pause between rounds (ms). */
  perRound: number;
  everyMs: number;
  /** Per network: its name (the subnet), the flooder's address there (the source), its broadcast address, and where to send. */
  nets: Array<{ net: string; from: string; broadcast: string; targets: string[] }>;
  pair: string;
  nodes: [string, string];
}

export interface FloodReport {
  /** Real heartbeats recorded (and replayed). */
  captured: number;
  sent: Record<string, number>;
  durationMs: number;
}

export async function flood(prefix: string, node: LabNode, opts: FloodOptions): Promise<FloodReport> {
  const out = await sh(inNetns(nsName(prefix, node), [process.execPath, '--import', 'tsx', SENDER, JSON.stringify(opts)]),
    { timeoutMs: 300_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as FloodReport;
}

/** From client1, at both servers' addresses and both broadcast addresses, as fast as the sockets take it. */
export function floodHeartbeats(prefix: string, packets: number): Promise<FloodReport> {
  return flood(prefix, 'client1', {
    port: 7405, captureMs: 1500, packets, perRound: 200, everyMs: 0, pair: 'lab', nodes: ['server1', 'server2'],
    nets: [
      { net: '198.51.100.0/24', from: '198.51.100.50', broadcast: '198.51.100.255', targets: ['198.51.100.11', '198.51.100.12', '198.51.100.255'] },
      { net: '203.0.113.0/24', from: '203.0.113.50', broadcast: '203.0.113.255', targets: ['203.0.113.12', '203.0.113.11', '203.0.113.255'] },
    ],
  });
}
