// The pair's failure situations, for real in the lab (lab/scenarios/catalog.ts), each with a client writing and
// reading /srv1 every 100 ms and the ownership of every address and disk sampled every 10 ms: a frozen agent and a
// cut network are not taken over (ICMP, the other network, the disk answer); a server cut off from both networks
// hands its group over; an agent hung for good is powered off by the fence command and taken over; a whole server
// frozen for 8 s, or one whose agent is killed, is powered off by the lab's watchdog and taken over during the fault;
// the mailbox lost on one path, a flood of bad heartbeats, and a client forging, relaying and replaying heartbeats
// with forged source addresses change nothing. No double owner, no lost write, and exactly the takeovers expected.
import { test } from 'uvu';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import {
  agentCrash, agentFreeze, agentHung, agentKilled, clientForgery, heartbeatFlood, mailboxLost, nodeFreeze, nodeIsolated, primaryNetworkCut,
  serversPartitioned,
} from '../../lab/scenarios/catalog.ts';
import { expectScenario } from './expect-scenario.ts';

const prefix = `hf${process.pid}`;

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix);
});

for (const scenario of [
  agentFreeze, agentCrash, primaryNetworkCut, serversPartitioned, mailboxLost, heartbeatFlood, clientForgery, nodeIsolated, agentHung,
  nodeFreeze, agentKilled,
]) {
  test(scenario.what, async () => {
    await expectScenario(prefix, scenario);
  });
}

test.run();
