// A flood of bad heartbeats at both servers' agents, from client1 (a host on both networks, as an attacker or a
// broken device would be): see flood-sender.ts for what is sent.
import { sh } from './exec.ts';
import { onNode } from './mountns.ts';
import { SECONDARY_ADDRESS, SERVICE_ADDRESS } from './topology.ts';

const SENDER = new URL('./flood-sender.ts', import.meta.url).pathname;
const HEARTBEAT_PORT = 7405;

export interface FloodReport {
  packets: number;
  /** Real heartbeats heard and replayed (broadcast by the servers on both networks). */
  captured: number;
  durationMs: number;
}

export async function floodHeartbeats(prefix: string, packets: number): Promise<FloodReport> {
  const targets = [...Object.values(SERVICE_ADDRESS), ...Object.values(SECONDARY_ADDRESS)].map((a) => a.split('/')[0]!);
  const out = await sh(onNode(prefix, 'client1', [process.execPath, '--import', 'tsx', SENDER, String(packets), String(HEARTBEAT_PORT), ...targets]),
    { timeoutMs: 300_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as FloodReport;
}
