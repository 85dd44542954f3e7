// A swarm member: one client identity that holds one open file and one byte-range write lock on it, renews its
// lease, and after the server forgets it (a reboot, or the virtual server moving to the other machine) reclaims
// both inside the grace period — CLAIM_PREVIOUS, LOCK with reclaim, then RECLAIM_COMPLETE — as RFC 8881 §8.4.2.1
// asks of a client. It remembers when each step happened, for the report.
import { NFS4ERR, LOCK_TYPE, SHARE_ACCESS, SHARE_DENY } from './nfs4-const.ts';
import { Nfs4Client, Nfs4Error, serverForgot, type ClientOptions } from './nfs4-client.ts';
import {
  close, CURRENT_STATEID, getFh, lock, locku, lookup, open, putFh, putRootFh, reclaimComplete, testStateid,
  type Op, type OpenResult, type Stateid, type StateOwner,
} from './nfs4-ops.ts';

export const LOCK_OFFSET = 0n;
export const LOCK_LENGTH = 4096n;

/** Where a member stands; `failed` is final: it could not get (or get back) its state. */
export type HolderPhase = 'idle' | 'holding' | 'recovering' | 'reclaimed' | 'failed';

export interface HolderTimes {
  /** First call that failed after the state was held (connection lost or session gone). */
  failedAt?: number;
  /** First connection to a server after that failure. */
  reconnectedAt?: number;
  /** The server said it did not know the session any more: a reboot or a move. */
  rebootSeenAt?: number;
  openReclaimedAt?: number;
  lockReclaimedAt?: number;
  reclaimCompleteAt?: number;
}

export interface ReclaimOptions {
  /**
   * One COMPOUND reclaims the open and the lock and sends RECLAIM_COMPLETE (LOCK takes OPEN's stateid as the current
   * stateid): three round trips fewer inside the grace period.
   */
  combined: boolean;
  /** Pause between attempts to reach the server again. */
  retryMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Holder {
  readonly client: Nfs4Client;
  phase: HolderPhase = 'idle';
  /** This move's times; nextMove() clears them for the next. */
  times: HolderTimes = {};
  /** Each error on the way, as "STEP: NFS4ERR_X" or "STEP: connection lost: ...". */
  readonly errors: string[] = [];
  /** Set when the swarm stops: a recovery under way gives up. */
  stopped = false;
  fh: Buffer | null = null;
  openStateid: Stateid | null = null;
  lockStateid: Stateid | null = null;

  constructor(opts: ClientOptions, readonly dirPath: string[], readonly fileName: string) {
    this.client = new Nfs4Client(opts);
  }

  private owner(kind: 'open' | 'lock'): StateOwner {
    return { clientid: this.client.clientid, owner: Buffer.from(`${kind}:${this.client.opts.ownerId}`) };
  }

  private lookupPath(): Op[] {
    return [putRootFh(), ...this.dirPath.map(lookup)];
  }

  /** Mount, create and open the member's file, and lock its first 4 KiB for writing. */
  async acquire(): Promise<void> {
    await this.client.establish();
    // A new client ID has nothing to reclaim, and until it says so (RFC 8881 §18.51.3) its OPEN gets NFS4ERR_GRACE.
    await this.client.compound([reclaimComplete(false)]);
    const values = await this.client.compound([
      ...this.lookupPath(),
      open({ access: SHARE_ACCESS.BOTH | SHARE_ACCESS.WANT_NO_DELEG, deny: SHARE_DENY.NONE, owner: this.owner('open'), create: true,
        claim: { type: 'null', name: this.fileName } }),
      getFh(),
    ]);
    const [opened, fh] = values.slice(-2) as [OpenResult, Buffer];
    this.fh = fh;
    this.openStateid = opened.stateid;
    const [, lockStateid] = (await this.client.compound([putFh(fh), lock({
      type: LOCK_TYPE.WRITE, reclaim: false, offset: LOCK_OFFSET, length: LOCK_LENGTH,
      locker: { openStateid: opened.stateid, lockOwner: this.owner('lock') },
    })])) as [undefined, Stateid];
    this.lockStateid = lockStateid;
    this.phase = 'holding';
  }

  /**
   * After a move has settled and been verified, before the next (a failback after a takeover): the times and errors
   * start again; the state is the one reclaimed. A member whose state is gone is out for good: it holds nothing the
   * next move could take away, and its renewals stop.
   */
  nextMove(stillHeld: boolean): void {
    this.times = {};
    this.errors.length = 0;
    if (stillHeld && this.phase !== 'failed') {
      this.phase = 'holding';
      return;
    }
    this.phase = 'failed';
    this.openStateid = null;
    this.lockStateid = null;
  }

  /** One lease renewal (a SEQUENCE alone). Throws what the server or the network said. */
  async renew(): Promise<void> {
    await this.client.compound([]);
  }

  /**
   * After a failed renewal: reach the server again, and if it forgot us, reclaim everything. Returns once the state
   * is back, the server refused it for good, or `deadline` has passed.
   */
  async recover(failedAt: number, deadline: number, opts: ReclaimOptions): Promise<void> {
    this.times.failedAt ??= failedAt;
    this.phase = 'recovering';
    while (Date.now() < deadline && !this.stopped) {
      try {
        if (!this.client.connected) {
          await this.client.connect();
          this.times.reconnectedAt ??= Date.now();
        }
        if (this.times.rebootSeenAt === undefined) {
          // A blip of the network alone: the same server, the same session, nothing to reclaim.
          try {
            await this.renew();
            this.phase = 'holding';
            return;
          } catch (err) {
            if (!serverForgot(err)) throw err;
            this.times.rebootSeenAt = Date.now();
          }
        }
        await this.reclaim(opts);
        return;
      } catch (err) {
        if (err instanceof Nfs4Error && err.status !== NFS4ERR.DELAY && !serverForgot(err)) {
          this.errors.push(err.message);
          this.phase = 'failed';
          return;
        }
        this.errors.push((err as Error).message);
        this.client.disconnect();
        await sleep(opts.retryMs * (0.5 + Math.random()));
      }
    }
    this.errors.push(this.stopped ? 'recovery: stopped by the swarm' : 'recovery: deadline passed');
    this.phase = 'failed';
  }

  /** A new client ID and session, then the open, the lock and RECLAIM_COMPLETE. */
  private async reclaim(opts: ReclaimOptions): Promise<void> {
    await this.client.establish();
    const reclaimOpen = open({ access: SHARE_ACCESS.BOTH | SHARE_ACCESS.WANT_NO_DELEG, deny: SHARE_DENY.NONE, owner: this.owner('open'),
      create: false, claim: { type: 'previous' } });
    const reclaimLock = (openStateid: Stateid) => lock({
      type: LOCK_TYPE.WRITE, reclaim: true, offset: LOCK_OFFSET, length: LOCK_LENGTH,
      locker: { openStateid, lockOwner: this.owner('lock') },
    });
    if (opts.combined && this.times.openReclaimedAt === undefined) {
      const [, opened, locked] = (await this.client.compound([putFh(this.fh!), reclaimOpen, reclaimLock(CURRENT_STATEID), reclaimComplete(false)])
        .catch((err: unknown) => {
          // The open may be back even though the lock is not: count it, and fail as the lock did.
          const open = err instanceof Nfs4Error ? (err.done[1] as OpenResult | undefined) : undefined;
          if (open) {
            this.openStateid = open.stateid;
            this.times.openReclaimedAt = Date.now();
          }
          throw err;
        })) as [undefined, OpenResult, Stateid];
      this.openStateid = opened.stateid;
      this.lockStateid = locked;
      this.times.openReclaimedAt = this.times.lockReclaimedAt = this.times.reclaimCompleteAt = Date.now();
      this.phase = 'reclaimed';
      return;
    }
    if (this.times.openReclaimedAt === undefined) {
      const [, opened] = (await this.client.compound([putFh(this.fh!), reclaimOpen])) as [undefined, OpenResult];
      this.openStateid = opened.stateid;
      this.times.openReclaimedAt = Date.now();
    }
    if (this.times.lockReclaimedAt === undefined) {
      const [, locked] = (await this.client.compound([putFh(this.fh!), reclaimLock(this.openStateid!)])) as [undefined, Stateid];
      this.lockStateid = locked;
      this.times.lockReclaimedAt = Date.now();
    }
    try {
      await this.client.compound([reclaimComplete(false)]);
    } catch (err) {
      // Our first one did arrive; only its reply was lost with the connection.
      if (!(err instanceof Nfs4Error && err.status === NFS4ERR.COMPLETE_ALREADY)) throw err;
    }
    this.times.reclaimCompleteAt = Date.now();
    this.phase = 'reclaimed';
  }

  /** What the server holds for us now: the status of the open's and the lock's stateids (NFS4_OK: held). */
  async check(): Promise<{ open: number; lock: number }> {
    const [codes] = (await this.client.compound([testStateid([this.openStateid!, this.lockStateid!])])) as [number[]];
    return { open: codes[0]!, lock: codes[1]! };
  }

  /** Unlock, close, and end the session and client ID, so that the server's recovery records go too. */
  async release(): Promise<void> {
    try {
      if (this.lockStateid) await this.client.compound([putFh(this.fh!), locku(LOCK_TYPE.WRITE, this.lockStateid, LOCK_OFFSET, LOCK_LENGTH)]);
      if (this.openStateid) await this.client.compound([putFh(this.fh!), close(this.openStateid)]);
    } catch { /* state already gone: the destroy below is what matters */ }
    await this.client.destroy();
  }
}
