// `npm run demo`: a real failover in the namespace lab. client1 writes a file to server1 every 100 ms and reads it
// back (libnfs), and so does a Linux kernel NFSv4.1 client in a guest, which also keeps a file open and holds two
// locks (scripts/demo-kernel-client.ts); server1 crashes (every process killed, its links cut, its addresses and mounts gone); server2 takes over;
// server1 comes back fenced and is reintegrated; every write the client was told had succeeded is read back. The
// timeline comes from both agents' logs (transitions and resource steps) and the clients' own clocks; the last table
// sets the two clients side by side.
import { askControl } from '../agent/process/control-socket.ts';
import { agentLog, stepMs, transitionAt } from '../lab/agent-log.ts';
import { phaseOf, powerOff, powerOn } from '../lab/agents.ts';
import { exportUrl, Writer } from '../lab/client.ts';
import { labDown, labUp } from '../lab/lifecycle.ts';
import { takeoverPhases } from '../lab/phases.ts';
import { labPath } from '../lab/state.ts';
import { waitUntil as until } from '../lab/wait.ts';
import { clientsTable } from './demo-clients-table.ts';
import { KernelClient } from './demo-kernel-client.ts';

const prefix = `demo${process.pid}`;
const SRV1 = exportUrl('198.51.100.11', '/srv1');

const t0 = Date.now();
const stamp = (at: number) => `${((at - t0) / 1000).toFixed(3).padStart(7)} s`;
const say = (line: string) => console.log(`${stamp(Date.now())}  ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function table(title: string, rows: [string, number | null][]): void {
  console.log(`\n${title}`);
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(52)} ${ms === null ? '—' : `${Math.round(ms)} ms`}`);
}

const span = (from: number | null, to: number | null) => (from === null || to === null ? null : to - from);

/** The longest gap between two successes that ends in [from, to): the part of a stall that belongs to a phase. */
function longestGapEndingIn(times: number[], from: number, to: number): number {
  let longest = 0;
  for (let i = 1; i < times.length; i++) if (times[i]! >= from && times[i]! < to) longest = Math.max(longest, times[i]! - times[i - 1]!);
  return longest;
}

async function main(): Promise<void> {
  say(`building the lab "${prefix}": two servers, a client, two networks, ext4 loop disks, NFS-Ganesha`);
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  say('both servers serve: server1 /srv1 on 198.51.100.11, server2 /srv2 on 203.0.113.12');
  say('booting a Linux kernel NFSv4.1 client (Debian cloud kernel under QEMU) that hard-mounts 198.51.100.11:/srv1');
  const kernel = await KernelClient.start(prefix);
  say(`guest ${kernel.guest.name} writes, fsyncs and reads back new files, keeps a file open, holds a flock and an fcntl lock`);
  const writer = new Writer(prefix, SRV1);
  let crashAt = 0, askedAt = 0, endAt = 0, crashMark = 0, askedMark = 0, endMark = 0;
  try {
    await sleep(3000);
    say(`client1 has written ${writer.acked.size} files to server1; now server1 crashes`);

    crashMark = kernel.mark();
    // From the instant the links went dark: a client request that got in while they were being cut is no recovery.
    crashAt = await powerOff(prefix, 'server1');
    const firstReadAt = await writer.okAfter(crashAt, 60_000);
    say('client1 reads and writes /srv1 again, served by server2');
    await kernel.everyLoopAnswered(kernel.mark(), 60_000);
    say(`every loop of the kernel client has answered again (${Date.now() - crashAt} ms after the crash)`);
    const s2 = agentLog(prefix, 'server2', crashAt);
    const phases = takeoverPhases(s2, 'server1', crashAt);
    table('takeover (server2 takes server1 over)', [
      ...phases.filter((p) => ['detection', 'fencing', 'log_replay', 'filesystem', 'nfs_server', 'service_ip'].includes(p.key))
        .map((p): [string, number | null] => [p.label, p.endMs - p.startMs]),
      ['crash → group online on server2', span(crashAt, transitionAt(s2, 'taking_over → serving_both'))],
      ['crash → first client write + read OK', firstReadAt - crashAt],
    ]);

    await sleep(2000);
    say('server1 comes back: links up, machine boots');
    await powerOn(prefix, 'server1');
    await until(async () => (await phaseOf(prefix, 'server1')) === 'fenced', 20_000, 'server1 fenced');
    say('server1 found itself fenced in the mailbox: it serves nothing and waits; the operator runs hanfs reintegrate');
    askedAt = Date.now();
    askedMark = kernel.mark();
    const answer = (await askControl(labPath(prefix, 'server1.sock'), 'reintegrate')) as { result: string[] };
    say(`server1's agent: ${answer.result.join('; ')}`);
    await until(async () => (await phaseOf(prefix, 'server1')) === 'normal', 30_000, 'server1 normal');
    const backAt = await writer.okAfter(Date.now(), 30_000);
    say('server1 serves /srv1 again');
    await kernel.everyLoopAnswered(kernel.mark(), 60_000);
    endAt = Date.now();
    endMark = kernel.mark();
    const r1 = agentLog(prefix, 'server1', askedAt);
    const r2 = agentLog(prefix, 'server2', askedAt);
    table('reintegration (server2 hands /srv1 back)', [
      ['request → server2 starts releasing', span(askedAt, transitionAt(r2, 'serving_both → releasing'))],
      ['server2 stops server1’s group and releases the fence', span(transitionAt(r2, 'serving_both → releasing'), transitionAt(r2, 'releasing → normal'))],
      ['server1: log replay', stepMs(r1, 'server1', 'log_replay')],
      ['server1: mount', stepMs(r1, 'server1', 'filesystem')],
      ['server1: NFS server start', stepMs(r1, 'server1', 'nfs_server')],
      ['server1: service address on its primary interface', stepMs(r1, 'server1', 'service_ip')],
      ['request → server1 serving (normal)', span(askedAt, transitionAt(r1, 'starting → normal'))],
      ['request → first client write + read OK', backAt - askedAt],
    ]);
  } finally {
    await writer.stop();
  }

  const failed = writer.failures === 1 ? '1 attempt' : `${writer.failures} attempts`;
  say(`checking every acknowledged write: ${writer.acked.size} files (${failed} failed while no server answered)`);
  const lost = await writer.lost(5000);
  say('the kernel client stops its workload and reads back every fsync\'ed write');
  const result = await kernel.finish();
  console.log(`\n${clientsTable({ takeover: kernel.phase(crashMark, askedMark), reintegration: kernel.phase(askedMark, endMark), result }, {
    takeoverStallMs: longestGapEndingIn(writer.okTimes, crashAt, askedAt),
    reintegrationStallMs: longestGapEndingIn(writer.okTimes, askedAt, endAt),
    failedAttempts: writer.failures, acked: writer.acked.size, lost: lost.length,
  })}\n`);
  if (lost.length > 0) throw new Error(`${lost.length} acknowledged writes lost or wrong: ${lost.slice(0, 10).join(', ')}`);
  if (result.lost > 0) throw new Error(`the kernel client lost ${result.lost} fsync'ed writes`);
  say(`all ${writer.acked.size} acknowledged files are there with the right content, and all ${result.checked} of the kernel client's`);
}

try {
  await main();
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await labDown(prefix);
  say('lab removed');
}
