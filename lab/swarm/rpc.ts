// ONC RPC v2 (RFC 5531) as NFSv4 uses it over TCP: a CALL with AUTH_SYS credentials (RFC 5531 appendix A), its
// REPLY's header, and record marking (RFC 5531 §11), which frames each message on the stream with a 4-byte mark:
// the high bit says "last fragment", the other 31 bits the fragment's length.
import { XdrReader, XdrWriter } from './xdr.ts';

export const NFS_PROGRAM = 100003;
export const NFS_V4 = 4;
export const NFSPROC4_COMPOUND = 1;

const CALL = 0;
const REPLY = 1;
const AUTH_NONE = 0;
export const AUTH_SYS = 1;
const MSG_ACCEPTED = 0;
const ACCEPT_STAT = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'];
const REJECT_STAT = ['RPC_MISMATCH', 'AUTH_ERROR'];
const LAST_FRAGMENT = 0x80000000;

export interface AuthSys {
  stamp: number;
  machine: string;
  uid: number;
  gid: number;
  gids: number[];
}

/** authsys_parms itself, as CREATE_SESSION's callback security parameters carry it (inline, not as an opaque). */
export function encodeAuthSysParms(w: XdrWriter, a: AuthSys): void {
  w.u32(a.stamp).string(a.machine).u32(a.uid).u32(a.gid).u32(a.gids.length);
  for (const g of a.gids) w.u32(g);
}

/** An RPC credential: the flavor, then the parameters wrapped in an opaque. */
export function encodeAuthSys(w: XdrWriter, a: AuthSys): void {
  const body = new XdrWriter();
  encodeAuthSysParms(body, a);
  w.u32(AUTH_SYS).opaque(body.bytes());
}

/** A whole CALL message (without its record mark): header, credentials, a null verifier, then the arguments. */
export function encodeCall(xid: number, prog: number, vers: number, proc: number, auth: AuthSys, args: Uint8Array): Buffer {
  const w = new XdrWriter().u32(xid).u32(CALL).u32(2).u32(prog).u32(vers).u32(proc);
  encodeAuthSys(w, auth);
  w.u32(AUTH_NONE).u32(0);
  w.raw(args);
  return w.bytes();
}

export class RpcError extends Error {}

/** Reads a REPLY's header; returns its xid and a reader positioned at the procedure's results. */
export function decodeReply(msg: Buffer): { xid: number; body: XdrReader } {
  const r = new XdrReader(msg);
  const xid = r.u32();
  const type = r.u32();
  if (type !== REPLY) throw new RpcError(`RPC message ${xid} is not a reply (type ${type})`);
  const stat = r.u32();
  if (stat !== MSG_ACCEPTED) {
    const why = r.u32();
    throw new RpcError(`RPC call ${xid} denied: ${REJECT_STAT[why] ?? why}${why === 1 ? ` (auth stat ${r.u32()})` : ''}`);
  }
  r.u32(); // verifier flavor
  r.opaque(400); // verifier body
  const accept = r.u32();
  if (accept !== 0) throw new RpcError(`RPC call ${xid} not accepted: ${ACCEPT_STAT[accept] ?? accept}`);
  return { xid, body: r };
}

/** One message as a single last fragment. */
export function frame(msg: Buffer): Buffer {
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((LAST_FRAGMENT | msg.length) >>> 0);
  return Buffer.concat([mark, msg]);
}

/**
 * Reassembles records from a TCP stream's chunks: feed it what arrives, it hands each complete message (all its
 * fragments joined) to `onMessage`. A server may split a reply into fragments and TCP splits anywhere.
 */
export class RecordReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private fragments: Buffer[] = [];

  constructor(private readonly onMessage: (msg: Buffer) => void, private readonly maxRecord = 4 << 20) {}

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (this.pendingBytes < 4) return;
      const head = this.take(4, false);
      const mark = head.readUInt32BE(0);
      const len = mark & 0x7fffffff;
      if (len > this.maxRecord) throw new RpcError(`RPC record fragment of ${len} bytes`);
      if (this.pendingBytes < 4 + len) return;
      this.take(4, true);
      this.fragments.push(this.take(len, true));
      if (mark & LAST_FRAGMENT) {
        const msg = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
        this.fragments = [];
        this.onMessage(msg);
      }
    }
  }

  /** The first n pending bytes, consumed or only looked at. */
  private take(n: number, consume: boolean): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    if (consume) {
      const rest = all.subarray(n);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    } else {
      this.pending = [all];
    }
    return out;
  }
}
