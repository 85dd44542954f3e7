// One NFSv4.1 client identity: its client owner, its connection, its client ID and session, and the COMPOUNDs it
// sends through slot 0 of that session. One slot is enough: each identity of the swarm does one thing at a time,
// and it keeps the sequencing rules (RFC 8881 §2.10.6.1) down to one counter.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { decodeCompound, encodeCompound, Nfs4Error, valuesOf } from './compound.ts';
import { ConnectionLost, RpcConnection } from './connection.ts';
import { EXCHGID4_FLAG_USE_NON_PNFS, NFS4ERR, OP } from './nfs4-const.ts';
import { createSession, destroyClientid, destroySession, exchangeId, sequence, type Op, type SequenceResult } from './nfs4-ops.ts';
import type { AuthSys } from './rpc.ts';

export interface ClientOptions {
  host: string;
  port: number;
  /** The client owner string (co_ownerid): the server's key for this client's state, across its reboots. */
  ownerId: string;
  callTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Connect from a reserved port (below 1024), as Linux's client does: the kernel NFS server refuses requests from
   * other ports on an export without `insecure` (NFS4ERR_PERM). Needs root.
   */
  reservedPort?: boolean;
}

/** Errors that say the server no longer knows this session or client: it rebooted (or the virtual server moved). */
export const SERVER_FORGOT = new Set<number>([NFS4ERR.BADSESSION, NFS4ERR.DEADSESSION, NFS4ERR.STALE_CLIENTID]);

export function serverForgot(err: unknown): boolean {
  return err instanceof Nfs4Error && SERVER_FORGOT.has(err.status);
}

const FORE_CHANNEL = {
  headerPadSize: 0, maxRequestSize: 64 * 1024, maxResponseSize: 64 * 1024, maxResponseSizeCached: 8 * 1024,
  maxOperations: 16, maxRequests: 1,
};

export class Nfs4Client {
  /** co_verifier: the same for the life of this identity, so a server sees a client that did not reboot. */
  readonly verifier = randomBytes(8);
  readonly auth: AuthSys = { stamp: 0, machine: hostname().slice(0, 64), uid: 0, gid: 0, gids: [] };
  private conn: RpcConnection | null = null;
  clientid = 0n;
  private sessionid: Buffer | null = null;
  private slotSequence = 1;
  private slotTurn: Promise<unknown> = Promise.resolve();
  /** Status flags of the last SEQUENCE (SEQ4_STATUS_*): state the server revoked shows here. */
  lastStatusFlags = 0;

  constructor(readonly opts: ClientOptions) {
    this.auth.stamp = (Date.now() / 1000) >>> 0;
  }

  get connected(): boolean {
    return this.conn !== null && !this.conn.closed;
  }

  /** A connection, opened if there is none (or the last one failed). */
  async connect(): Promise<void> {
    if (this.connected) return;
    this.conn = await RpcConnection.open(this.opts.host, this.opts.port, this.auth, this.opts.connectTimeoutMs, this.opts.reservedPort ?? false);
  }

  disconnect(): void {
    this.conn?.close();
    this.conn = null;
  }

  /** A COMPOUND as is, without SEQUENCE (EXCHANGE_ID and CREATE_SESSION go alone). */
  async send(ops: readonly Op[]): Promise<unknown[]> {
    await this.connect();
    const body = await this.conn!.call(encodeCompound(ops), this.opts.callTimeoutMs);
    return valuesOf(decodeCompound(body, ops), ops);
  }

  /** EXCHANGE_ID then CREATE_SESSION: a client ID and a fresh session, as at the first mount or after a reboot. */
  async establish(): Promise<void> {
    const [eid] = (await this.send([exchangeId(this.verifier, this.opts.ownerId, EXCHGID4_FLAG_USE_NON_PNFS)])) as
      [{ clientid: bigint; sequenceid: number }];
    const [cs] = (await this.send([createSession(eid.clientid, eid.sequenceid, FORE_CHANNEL, this.auth)])) as
      [{ sessionid: Buffer }];
    this.clientid = eid.clientid;
    this.sessionid = cs.sessionid;
    this.slotSequence = 1;
  }

  /**
   * SEQUENCE followed by `ops`; the values of `ops`' results. A call lost with its connection keeps its slot's
   * sequence ID, so that the next call is a retry the server recognises if it did get this one.
   */
  compound(ops: readonly Op[]): Promise<unknown[]> {
    // One slot: a second COMPOUND sent before the first's reply would reuse its sequence ID and get its cached reply.
    const turn = this.slotTurn.then(() => this.onSlot(ops));
    this.slotTurn = turn.catch(() => undefined);
    return turn;
  }

  private async onSlot(ops: readonly Op[]): Promise<unknown[]> {
    if (!this.sessionid) throw new Nfs4Error(NFS4ERR.BADSESSION, OP.SEQUENCE);
    for (let attempt = 0; ; attempt++) {
      const seq = sequence(this.sessionid, this.slotSequence, 0, 0);
      try {
        const [s, ...rest] = await this.send([seq, ...ops]);
        this.slotSequence++;
        this.lastStatusFlags = (s as SequenceResult).statusFlags;
        return rest;
      } catch (err) {
        if (!(err instanceof Nfs4Error)) throw err;
        // Past SEQUENCE the slot is used, whatever the later operation's status; what the caller sees is its own ops.
        if (err.op !== OP.SEQUENCE) {
          this.slotSequence++;
          throw new Nfs4Error(err.status, err.op, err.body, err.done.slice(1));
        }
        // The slot's counter and the server's disagree (a call lost on its way back): move on, once.
        if (attempt === 0 && (err.status === NFS4ERR.SEQ_MISORDERED || err.status === NFS4ERR.RETRY_UNCACHED_REP)) {
          this.slotSequence++;
          continue;
        }
        throw err;
      }
    }
  }

  /** Ends the session and the client ID, so the server forgets this client's record at once. */
  async destroy(): Promise<void> {
    if (this.sessionid) await this.send([destroySession(this.sessionid)]).catch(() => undefined);
    this.sessionid = null;
    if (this.clientid) await this.send([destroyClientid(this.clientid)]).catch(() => undefined);
    this.disconnect();
  }
}

export { ConnectionLost, Nfs4Error };
