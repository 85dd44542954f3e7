// The intruder: a client of its own that wants a write lock on a swarm member's locked range. It opens the file
// before the move (share deny none, so that it may), reclaims that open after the move like any client, and then
// keeps asking for the conflicting lock without reclaim. While grace lasts the server must answer NFS4ERR_GRACE:
// the member may not have reclaimed its lock yet. After grace, NFS4ERR_DENIED says the member's lock survived;
// the lock granted would mean it was lost. Its first answer other than NFS4ERR_GRACE is when grace ended, as a
// client sees it. Afterwards it tests every member's range with LOCKT, the server's own word on which locks exist.
import { NFS4ERR, LOCK_TYPE, SHARE_ACCESS, SHARE_DENY, statusName } from './nfs4-const.ts';
import { ConnectionLost, Nfs4Client, Nfs4Error, serverForgot, type ClientOptions } from './nfs4-client.ts';
import { LOCK_LENGTH, LOCK_OFFSET } from './holder.ts';
import { lock, locku, lockt, open, putFh, reclaimComplete, type OpenResult, type Stateid, type StateOwner } from './nfs4-ops.ts';

export interface Attempt {
  at: number;
  /** "NFS4ERR_GRACE", "NFS4ERR_DENIED", "NFS4_OK" (the lock granted), or what failed on the way. */
  answer: string;
  /** Whether the attempt held a reclaimed open (a LOCK went out) or had to ask for a new open first. */
  via: 'lock' | 'open';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Intruder {
  readonly client: Nfs4Client;
  private openStateid: Stateid | null = null;
  readonly attempts: Attempt[] = [];
  readonly errors: string[] = [];
  /** Set when the swarm stops: a recovery under way gives up. */
  stopped = false;
  failedAt?: number;
  reconnectedAt?: number;
  /** The first answer other than NFS4ERR_GRACE, once grace is over. */
  graceEndedAt?: number;
  done = false;
  private lockSerial = 0;

  constructor(opts: ClientOptions, private readonly victimFh: Buffer) {
    this.client = new Nfs4Client(opts);
  }

  private owner(kind: string): StateOwner {
    return { clientid: this.client.clientid, owner: Buffer.from(`${kind}:${this.client.opts.ownerId}`) };
  }

  private openVictim(claim: 'fh' | 'previous') {
    return open({ access: SHARE_ACCESS.BOTH | SHARE_ACCESS.WANT_NO_DELEG, deny: SHARE_DENY.NONE, owner: this.owner('open'),
      create: false, claim: { type: claim } });
  }

  async prepare(): Promise<void> {
    await this.client.establish();
    await this.client.compound([reclaimComplete(false)]);
    const [, opened] = (await this.client.compound([putFh(this.victimFh), this.openVictim('fh')])) as [undefined, OpenResult];
    this.openStateid = opened.stateid;
  }

  /** Ready to probe grace again at the next move (a failback after a takeover); the last move's answers go. */
  nextMove(): void {
    this.attempts.length = 0;
    this.errors.length = 0;
    this.failedAt = this.reconnectedAt = this.graceEndedAt = undefined;
    this.done = false;
  }

  async renew(): Promise<void> {
    await this.client.compound([]);
  }

  /** After a failed renewal: back to the server, our open back if we can, then the conflicting lock until grace ends. */
  async recover(failedAt: number, deadline: number, probeMs: number, retryMs: number): Promise<void> {
    this.failedAt ??= failedAt;
    let rebooted = false;
    while (Date.now() < deadline && !this.stopped) {
      try {
        if (!this.client.connected) {
          await this.client.connect();
          this.reconnectedAt ??= Date.now();
        }
        if (!rebooted) {
          try {
            await this.renew();
            return; // the same server: nothing moved
          } catch (err) {
            if (!serverForgot(err)) throw err;
            rebooted = true;
          }
        }
        await this.client.establish();
        await this.reclaimOpen();
        // Before it, this new client ID's own LOCKs would get NFS4ERR_GRACE whatever the server's grace.
        await this.client.compound([reclaimComplete(false)]);
        await this.probe(deadline, probeMs);
        return;
      } catch (err) {
        if (!(err instanceof ConnectionLost) && !(err instanceof Nfs4Error && (serverForgot(err) || err.status === NFS4ERR.DELAY))) {
          this.errors.push((err as Error).message);
          this.done = true;
          return;
        }
        this.errors.push(err.message);
        this.client.disconnect();
        await sleep(retryMs);
      }
    }
    this.errors.push(this.stopped ? 'recovery: stopped by the swarm' : 'recovery: deadline passed');
    this.done = true;
  }

  private async reclaimOpen(): Promise<void> {
    try {
      const [, opened] = (await this.client.compound([putFh(this.victimFh), this.openVictim('previous')])) as [undefined, OpenResult];
      this.openStateid = opened.stateid;
    } catch (err) {
      if (!(err instanceof Nfs4Error) || serverForgot(err)) throw err;
      // Too late to reclaim (or never had it): the probe asks for a new open each time instead.
      this.errors.push(`open reclaim: ${err.statusName}`);
      this.openStateid = null;
    }
  }

  /** One conflicting, non-reclaim lock request after another, until the answer is not NFS4ERR_GRACE. */
  private async probe(deadline: number, probeMs: number): Promise<void> {
    while (Date.now() < deadline && !this.stopped) {
      const at = Date.now();
      const via = this.openStateid ? 'lock' : 'open';
      let answer: string;
      let granted: Stateid | null = null;
      try {
        const openStateid = this.openStateid ?? (await this.newOpen());
        const [, lockStateid] = (await this.client.compound([putFh(this.victimFh), lock({
          type: LOCK_TYPE.WRITE, reclaim: false, offset: LOCK_OFFSET, length: LOCK_LENGTH,
          locker: { openStateid, lockOwner: this.owner(`lock${++this.lockSerial}`) },
        })])) as [undefined, Stateid];
        granted = lockStateid;
        answer = statusName(NFS4ERR.OK);
      } catch (err) {
        if (!(err instanceof Nfs4Error) || serverForgot(err)) throw err;
        answer = err.statusName;
      }
      this.attempts.push({ at, answer, via });
      if (answer !== statusName(NFS4ERR.GRACE) && answer !== statusName(NFS4ERR.DELAY)) {
        this.graceEndedAt = at;
        // Never keep a lock taken from a member: the verification after us must see the member's own.
        if (granted) await this.client.compound([putFh(this.victimFh), locku(LOCK_TYPE.WRITE, granted, LOCK_OFFSET, LOCK_LENGTH)]).catch(() => undefined);
        this.done = true;
        return;
      }
      await sleep(probeMs);
    }
    this.errors.push('probe: grace did not end before the deadline');
    this.done = true;
  }

  private async newOpen(): Promise<Stateid> {
    const [, opened] = (await this.client.compound([putFh(this.victimFh), this.openVictim('fh')])) as [undefined, OpenResult];
    this.openStateid = opened.stateid;
    return opened.stateid;
  }

  /** LOCKT on each file's locked range: true where a lock conflicts (the member's, still held), false where none. */
  async sweep(fhs: Buffer[]): Promise<Array<boolean | string>> {
    const out: Array<boolean | string> = [];
    for (const fh of fhs) {
      try {
        await this.client.compound([putFh(fh), lockt(LOCK_TYPE.WRITE, LOCK_OFFSET, LOCK_LENGTH, this.owner('lockt'))]);
        out.push(false);
      } catch (err) {
        if (err instanceof Nfs4Error && err.status === NFS4ERR.DENIED) out.push(true);
        else out.push(err instanceof Nfs4Error ? err.statusName : (err as Error).message);
      }
    }
    return out;
  }
}
