// `npm run demo`: a real failover in the namespace lab. client1 writes a file to server1 every 100 ms and reads it
// back; server1 crashes (every process killed, its links cut, its addresses and mounts gone); server2 takes over;
// server1 comes back fenced and is reintegrated; every write the client was told had succeeded is read back. The
// timeline comes from both agents' logs (transitions and resource steps) and the client's own clock.
import { readFileSync, writeFileSync } from 'node:fs';
import { askControl } from '../agent/daemon/control-socket.ts';
import { agentStatus, boot, powerOff } from '../lab/agents.ts';
import { sh } from '../lab/exec.ts';
import { labDown, labUp } from '../lab/lifecycle.ts';
import { onNode } from '../lab/mountns.ts';
import { labPath } from '../lab/state.ts';
import { setPort } from '../lab/topology.ts';
import { waitUntil as until } from '../lab/wait.ts';

const prefix = `demo${process.pid}`;
const SRV1 = 'nfs://198.51.100.11/srv1';
const WRITE_EVERY_MS = 100;

interface LogLine {
  at: number;
  message: string;
  event?: string;
  group?: string;
  resource?: string;
  op?: string;
  durationMs?: number;
}

const t0 = Date.now();
const stamp = (at: number) => `${((at - t0) / 1000).toFixed(3).padStart(7)} s`;
const say = (line: string) => console.log(`${stamp(Date.now())}  ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The client: a new file every 100 ms, each read back; remembers what was acknowledged and when it worked again. */
class Writer {
  readonly acked = new Map<string, string>();
  failures = 0;
  lastOkAt = 0;
  private n = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor() {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      const name = `f${String(++this.n).padStart(4, '0')}.txt`;
      const content = `file ${this.n}, written ${new Date(started).toISOString()}\n`;
      const local = labPath(prefix, `client-${name}`);
      writeFileSync(local, content);
      try {
        await sh(onNode(prefix, 'client1', ['nfs-cp', local, `${SRV1}/${name}?version=4`]), { timeoutMs: 5000 });
        this.acked.set(name, content);
        const back = await sh(onNode(prefix, 'client1', ['nfs-cat', `${SRV1}/${name}?version=4`]), { timeoutMs: 5000 });
        if (back === content) this.lastOkAt = Date.now();
      } catch {
        this.failures++;
      }
      await sleep(Math.max(0, WRITE_EVERY_MS - (Date.now() - started)));
    }
  }

  /** The first moment after `since` at which a write and its read-back both succeeded. */
  async okAfter(since: number, timeoutMs: number): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (this.lastOkAt <= since) {
      if (Date.now() > end) throw new Error(`the client did not read /srv1 again within ${timeoutMs} ms`);
      await sleep(20);
    }
    return this.lastOkAt;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

function agentLog(server: string, since: number): LogLine[] {
  return readFileSync(labPath(prefix, `${server}.log`), 'utf8').split('\n').flatMap((l) => {
    try {
      const j = JSON.parse(l) as LogLine & { timestamp: string };
      const at = Date.parse(j.timestamp);
      return at >= since ? [{ ...j, at }] : [];
    } catch {
      return [];
    }
  });
}

function transitionAt(lines: LogLine[], text: string): number | null {
  return lines.find((l) => l.event === 'transition' && l.message.startsWith(text))?.at ?? null;
}

function stepMs(lines: LogLine[], group: string, resource: string): number | null {
  return lines.find((l) => l.event === 'resource' && l.group === group && l.resource === resource && l.op === 'start' && l.durationMs !== undefined)?.durationMs ?? null;
}

function table(title: string, rows: [string, number | null][]): void {
  console.log(`\n${title}`);
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(52)} ${ms === null ? '—' : `${Math.round(ms)} ms`}`);
}

const span = (from: number | null, to: number | null) => (from === null || to === null ? null : to - from);

async function main(): Promise<void> {
  say(`building the lab "${prefix}": two servers, a client, two networks, ext4 loop disks, NFS-Ganesha`);
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  say('both servers serve: server1 /srv1 on 198.51.100.11, server2 /srv2 on 203.0.113.12');
  const writer = new Writer();
  try {
    await sleep(3000);
    say(`client1 has written ${writer.acked.size} files to server1; now server1 crashes`);

    const crashAt = Date.now();
    await setPort(prefix, 'server1', 'neta', false);
    await setPort(prefix, 'server1', 'netb', false);
    await powerOff(prefix, 'server1');
    const firstReadAt = await writer.okAfter(crashAt, 60_000);
    say('client1 reads and writes /srv1 again, served by server2');
    const s2 = agentLog('server2', crashAt);
    table('takeover (server2 takes server1 over)', [
      ['detection: crash → partner declared dead', span(crashAt, transitionAt(s2, 'probing → fencing_partner'))],
      ['fencing: fence written, partner lease expired', span(transitionAt(s2, 'probing → fencing_partner'), transitionAt(s2, 'fencing_partner → taking_over'))],
      ['log replay (e2fsck journal + check)', stepMs(s2, 'server1', 'log_replay')],
      ['mount', stepMs(s2, 'server1', 'filesystem')],
      ['NFS server start (Ganesha for server1)', stepMs(s2, 'server1', 'nfs_server')],
      ['service address (arping -D, ip addr add)', stepMs(s2, 'server1', 'service_ip')],
      ['crash → group online on server2', span(crashAt, transitionAt(s2, 'taking_over → serving_both'))],
      ['crash → first client write + read OK', firstReadAt - crashAt],
    ]);

    await sleep(2000);
    say('server1 comes back: links up, machine boots');
    await setPort(prefix, 'server1', 'neta', true);
    await setPort(prefix, 'server1', 'netb', true);
    await boot(prefix, 'server1');
    await until(async () => (await agentStatus(prefix, 'server1'))?.phase === 'fenced', 20_000, 'server1 fenced');
    say('server1 found itself fenced in the mailbox: it serves nothing and waits; the operator runs hanfs reintegrate');
    const askedAt = Date.now();
    const answer = (await askControl(labPath(prefix, 'server1.sock'), 'reintegrate')) as { result: string[] };
    say(`server1's agent: ${answer.result.join('; ')}`);
    await until(async () => (await agentStatus(prefix, 'server1'))?.phase === 'normal', 30_000, 'server1 normal');
    const backAt = await writer.okAfter(Date.now(), 30_000);
    say('server1 serves /srv1 again');
    const r1 = agentLog('server1', askedAt);
    const r2 = agentLog('server2', askedAt);
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
  const lost: string[] = [];
  for (const [name, content] of writer.acked) {
    const back = await sh(onNode(prefix, 'client1', ['nfs-cat', `${SRV1}/${name}?version=4`]), { timeoutMs: 5000 }).catch(() => null);
    if (back !== content) lost.push(name);
  }
  if (lost.length > 0) throw new Error(`${lost.length} acknowledged writes lost or wrong: ${lost.slice(0, 10).join(', ')}`);
  say(`all ${writer.acked.size} acknowledged files are there with the right content`);
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
