// Run by icmp.test.ts inside a test namespace: builds a NetPingProber from the JSON in argv[2], probes each network
// `rounds` times, and prints which networks answered, what was logged, or the constructor's error, as JSON.
import { NetPingProber, type IcmpNetwork } from '../../agent/net/icmp.ts';
import { isMain } from '../sensors/netns-pair.ts';

interface ChildInput {
  networks: IcmpNetwork[];
  timeoutMs: number;
  rounds: number;
}

async function main(input: ChildInput): Promise<void> {
  const logs: Array<{ level: string; message: string }> = [];
  let prober: NetPingProber;
  try {
    prober = new NetPingProber({ networks: input.networks, log: (level, message) => logs.push({ level, message }) });
  } catch (err) {
    console.log(JSON.stringify({ error: (err as Error).message }));
    return;
  }
  const replies: Record<string, number> = {};
  for (let round = 0; round < input.rounds; round++) {
    for (const { net } of input.networks) {
      prober.probe(net, input.timeoutMs, () => (replies[net] = (replies[net] ?? 0) + 1));
    }
    await new Promise((resolve) => setTimeout(resolve, input.timeoutMs + 100));
  }
  prober.close();
  console.log(JSON.stringify({ replies, logs }));
}

if (isMain(import.meta.url)) await main(JSON.parse(process.argv[2]!) as ChildInput);
