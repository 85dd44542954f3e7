// The swarm: N client identities, each holding an open file and a write lock in one directory of the export, plus
// the intruder. Every member renews its lease in a loop of its own; a renewal that fails (no reply, connection
// reset, session unknown) sends that member into recovery, which reclaims its state if the server rebooted. The
// driver only starts them, waits for the move and for every member to settle, and asks the server what it holds.
import { Holder } from './holder.ts';
import { Intruder } from './intruder.ts';
import { Limiter } from './limiter.ts';
import { NFS4ERR } from './nfs4-const.ts';
import { Nfs4Client, type ClientOptions } from './nfs4-client.ts';
import { createDir, getFh, lookup, putRootFh } from './nfs4-ops.ts';

export interface SwarmOptions {
  server: string;
  port: number;
  /** The export's pseudo path, e.g. /srv1. */
  exportPath: string;
  clients: number;
  /** The directory the members' files go in, created under the export; unique per run. */
  dirName: string;
  /** Every identity's owner string starts with this, so that runs and swarms never share a client record. */
  ownerPrefix: string;
  renewMs: number;
  callTimeoutMs: number;
  connectTimeoutMs: number;
  /** Members set up (and their connections opened) at once. */
  setupConcurrency: number;
  /** Members reclaiming at once after a move. */
  reclaimConcurrency: number;
  /** One COMPOUND for the open's and the lock's reclaim instead of two. */
  combined: boolean;
  /** Pause between attempts to reach a server that does not answer. */
  retryMs: number;
  /** Pause between the intruder's conflicting lock requests. */
  probeMs: number;
  /** How long after the move the members may take to settle. */
  recoverTimeoutMs: number;
  /** The member whose file the intruder wants. */
  victim: number;
}

/**
 * A quick reconnect (a SYN sent before the new server holds the address is lost; the next goes 50 ms after a 200 ms
 * wait), so that what the report measures is the server's side, not the swarm's own cadence; one COMPOUND per
 * reclaim step, as the Linux client does.
 */
export const DEFAULT_OPTIONS: Omit<SwarmOptions, 'server' | 'exportPath' | 'clients' | 'dirName' | 'ownerPrefix'> = {
  port: 2049, renewMs: 500, callTimeoutMs: 1000, connectTimeoutMs: 200, setupConcurrency: 50, reclaimConcurrency: 1000,
  combined: false, retryMs: 50, probeMs: 50, recoverTimeoutMs: 60_000, victim: 0,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Verification {
  /** Per member, what TEST_STATEID said of its open and lock (NFS4_OK: held), or why it could not ask. */
  held: Array<{ open: number; lock: number } | string>;
  /** Per member, the intruder's LOCKT: true when the member's range is locked. */
  locked: Array<boolean | string>;
}

/** Whether the server still held member i's open and lock, by its own answers (TEST_STATEID and LOCKT). */
export function stillHeld(v: Verification, i: number): boolean {
  const held = v.held[i];
  return typeof held === 'object' && held.open === NFS4ERR.OK && held.lock === NFS4ERR.OK && v.locked[i] === true;
}

export class Swarm {
  readonly holders: Holder[] = [];
  intruder: Intruder | null = null;
  setupMs = 0;
  setupErrors: string[] = [];
  /** When the move began: marked by whoever caused it, else the first failure a member saw. */
  moveMarkedAt?: number;
  private running = false;
  private loops: Promise<void>[] = [];
  private reclaimLimiter: Limiter;

  constructor(readonly opts: SwarmOptions) {
    this.reclaimLimiter = new Limiter(opts.reclaimConcurrency);
  }

  private clientOptions(ownerId: string): ClientOptions {
    const o = this.opts;
    return { host: o.server, port: o.port, ownerId, callTimeoutMs: o.callTimeoutMs, connectTimeoutMs: o.connectTimeoutMs };
  }

  private get dirPath(): string[] {
    return [...this.opts.exportPath.split('/').filter(Boolean), this.opts.dirName];
  }

  /** Creates the directory, then every member's file, open and lock, and the intruder's open; starts renewing. */
  async start(): Promise<void> {
    const started = Date.now();
    this.running = true;
    await this.createDirectory();
    const setup = new Limiter(this.opts.setupConcurrency);
    await Promise.all(Array.from({ length: this.opts.clients }, (_, i) => setup.run(async () => {
      const h = new Holder(this.clientOptions(`${this.opts.ownerPrefix}-${i}`), this.dirPath, `client-${String(i).padStart(4, '0')}`);
      this.holders[i] = h;
      try {
        await h.acquire();
        this.loops.push(this.renewLoop(h));
      } catch (err) {
        h.phase = 'failed';
        h.errors.push(`setup: ${(err as Error).message}`);
        this.setupErrors.push((err as Error).message);
      }
    })));
    const victim = this.holders[this.opts.victim];
    if (victim?.fh) {
      this.intruder = new Intruder(this.clientOptions(`${this.opts.ownerPrefix}-intruder`), victim.fh);
      await this.intruder.prepare();
      this.loops.push(this.intruderLoop(this.intruder));
    }
    this.setupMs = Date.now() - started;
  }

  private async createDirectory(): Promise<void> {
    const c = new Nfs4Client(this.clientOptions(`${this.opts.ownerPrefix}-setup`));
    try {
      await c.establish();
      const parent = this.dirPath.slice(0, -1);
      await c.compound([putRootFh(), ...parent.map(lookup), createDir(this.opts.dirName), getFh()]);
    } finally {
      await c.destroy();
    }
  }

  private renewDelay(): number {
    return this.opts.renewMs * (0.75 + Math.random() / 2);
  }

  private async renewLoop(h: Holder): Promise<void> {
    while (this.running && h.phase !== 'failed') {
      await sleep(this.renewDelay());
      if (!this.running) return;
      try {
        await h.renew();
      } catch {
        const failedAt = Date.now();
        const reclaim = { combined: this.opts.combined, retryMs: this.opts.retryMs };
        await this.reclaimLimiter.run(() => h.recover(failedAt, failedAt + this.opts.recoverTimeoutMs, reclaim));
      }
    }
  }

  private async intruderLoop(x: Intruder): Promise<void> {
    while (this.running) {
      await sleep(this.renewDelay());
      if (!this.running) return;
      try {
        await x.renew();
      } catch {
        // Done probing this move: it keeps its lease for the sweep, if it can, until nextMove() sends it probing again.
        if (x.done) continue;
        const failedAt = Date.now();
        await x.recover(failedAt, failedAt + this.opts.recoverTimeoutMs, this.opts.probeMs, this.opts.retryMs);
      }
    }
  }

  markMove(at = Date.now()): void {
    this.moveMarkedAt ??= at;
  }

  /** The move as the report measures from: the mark, else the earliest failure any member saw. */
  get moveAt(): number | undefined {
    if (this.moveMarkedAt !== undefined) return this.moveMarkedAt;
    const seen = [...this.holders.map((h) => h.times.failedAt), this.intruder?.failedAt].filter((t): t is number => t !== undefined);
    return seen.length > 0 ? Math.min(...seen) : undefined;
  }

  private get live(): Holder[] {
    return this.holders.filter((h) => h.phase !== 'failed' || h.times.failedAt !== undefined);
  }

  /** Resolves once some member has lost its server, or after timeoutMs (false). */
  async waitForMove(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.holders.some((h) => h.times.failedAt !== undefined) || this.intruder?.failedAt !== undefined) return true;
      await sleep(20);
    }
    return false;
  }

  /** Resolves once every member has reclaimed or failed and the intruder has seen grace end (false on time-out). */
  async waitSettled(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      // A member that found its old server again (a blip, not a move) is settled too, back to holding.
      const membersSettled = this.live.every((h) => h.phase === 'failed' || (h.times.failedAt !== undefined && h.phase !== 'recovering'));
      if (membersSettled && (!this.intruder || this.intruder.done)) return true;
      await sleep(50);
    }
    return false;
  }

  /** The server's own account of every member's state, asked once everything settled. */
  async verify(): Promise<Verification> {
    const ask = new Limiter(this.opts.setupConcurrency);
    const held = await Promise.all(this.holders.map((h) => ask.run(async () => {
      if (!h.openStateid || !h.lockStateid) return 'never held';
      try {
        return await h.check();
      } catch (err) {
        return (err as Error).message;
      }
    })));
    const fhs = this.holders.map((h) => h.fh ?? Buffer.alloc(0));
    const locked = this.intruder ? await this.intruder.sweep(fhs) : fhs.map(() => 'no intruder');
    return { held, locked };
  }

  /**
   * After a move has settled and been verified (`v`), before the next one: members and intruder start counting
   * again, and a member whose state the server no longer holds is out for good (the next report counts it as
   * never held, the last one counted it as lost).
   */
  nextMove(v: Verification): void {
    this.holders.forEach((h, i) => h?.nextMove(stillHeld(v, i)));
    this.intruder?.nextMove();
    this.moveMarkedAt = undefined;
  }

  /** Stops renewing; with `release`, every member unlocks, closes and ends its client ID first. */
  async stop(release: boolean): Promise<void> {
    this.running = false;
    for (const h of this.holders) if (h) h.stopped = true;
    if (this.intruder) this.intruder.stopped = true;
    await Promise.all(this.loops);
    if (!release) {
      for (const h of this.holders) h?.client.disconnect();
      this.intruder?.client.disconnect();
      return;
    }
    const rel = new Limiter(this.opts.setupConcurrency);
    await Promise.all(this.holders.map((h) => rel.run(() => h?.release() ?? Promise.resolve())));
    await this.intruder?.client.destroy();
  }
}
