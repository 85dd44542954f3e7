// NFSv4.1 operations the swarm sends (RFC 8881 §18): each is its opcode, how its arguments are written and how a
// successful result is read. A COMPOUND's results must be read in order, so every result the server can send
// back for these operations is decoded in full, even the parts the swarm does not look at.
import { CLAIM, NFS4ERR, NF4DIR, OP } from './nfs4-const.ts';
import { AUTH_SYS, encodeAuthSysParms, type AuthSys } from './rpc.ts';
import { XdrReader, XdrWriter } from './xdr.ts';

export interface Stateid {
  seqid: number;
  other: Buffer;
}

/** RFC 8881 §16.2.3.1.2: the stateid the previous operation of the same COMPOUND returned. */
export const CURRENT_STATEID: Stateid = { seqid: 1, other: Buffer.alloc(12) };

export interface StateOwner {
  clientid: bigint;
  owner: Buffer;
}

export interface LockDenied {
  offset: bigint;
  length: bigint;
  locktype: number;
  owner: StateOwner;
}

export interface Op<T = unknown> {
  op: number;
  encode(w: XdrWriter): void;
  /** Reads the result body that follows a status of NFS4_OK. */
  decode(r: XdrReader): T;
  /** Reads the body some operations send with an error (LOCK and LOCKT: the conflicting lock on DENIED). */
  decodeError?(r: XdrReader, status: number): unknown;
}

const none = () => undefined;

function writeStateid(w: XdrWriter, s: Stateid): void {
  w.u32(s.seqid).fixed(s.other, 12);
}

function readStateid(r: XdrReader): Stateid {
  return { seqid: r.u32(), other: r.fixed(12) };
}

function writeOwner(w: XdrWriter, o: StateOwner): void {
  w.u64(o.clientid).opaque(o.owner);
}

function readOwner(r: XdrReader): StateOwner {
  return { clientid: r.u64(), owner: r.opaque(1024) };
}

function readBitmap(r: XdrReader): number[] {
  return r.array((x) => x.u32(), 64);
}

/** An empty fattr4: no attributes set. */
function writeNoAttrs(w: XdrWriter): void {
  w.u32(0).u32(0);
}

function readChangeInfo(r: XdrReader): void {
  r.bool();
  r.u64();
  r.u64();
}

function readLockDenied(r: XdrReader): LockDenied {
  return { offset: r.u64(), length: r.u64(), locktype: r.u32(), owner: readOwner(r) };
}

const deniedBody = (r: XdrReader, status: number) => (status === NFS4ERR.DENIED ? readLockDenied(r) : undefined);

export const putRootFh = (): Op<void> => ({ op: OP.PUTROOTFH, encode: none, decode: none });

export const putFh = (fh: Buffer): Op<void> => ({ op: OP.PUTFH, encode: (w) => w.opaque(fh), decode: none });

export const getFh = (): Op<Buffer> => ({ op: OP.GETFH, encode: none, decode: (r) => r.opaque(128) });

export const lookup = (name: string): Op<void> => ({ op: OP.LOOKUP, encode: (w) => w.string(name), decode: none });

export const createDir = (name: string): Op<void> => ({
  op: OP.CREATE,
  encode: (w) => {
    w.u32(NF4DIR).string(name);
    writeNoAttrs(w);
  },
  decode: (r) => {
    readChangeInfo(r);
    readBitmap(r);
  },
});

export interface ExchangeIdResult {
  clientid: bigint;
  sequenceid: number;
  flags: number;
}

export const exchangeId = (verifier: Buffer, ownerId: string, flags: number): Op<ExchangeIdResult> => ({
  op: OP.EXCHANGE_ID,
  encode: (w) => {
    w.fixed(verifier, 8).string(ownerId).u32(flags);
    w.u32(0); // state protection: SP4_NONE
    w.u32(0); // no implementation id
  },
  decode: (r) => {
    const clientid = r.u64();
    const sequenceid = r.u32();
    const flags = r.u32();
    const how = r.u32();
    if (how === 1) {
      readBitmap(r); // SP4_MACH_CRED: spo_must_enforce
      readBitmap(r); // spo_must_allow
    } else if (how !== 0) {
      throw new Error(`EXCHANGE_ID: state protection ${how} not asked for`);
    }
    r.u64(); // server owner: minor id
    r.opaque(1024); // major id
    r.opaque(1024); // server scope
    r.array((x) => {
      x.string(1024);
      x.string(1024);
      x.u64();
      x.u32();
    }, 1);
    return { clientid, sequenceid, flags };
  },
});

export interface ChannelAttrs {
  headerPadSize: number;
  maxRequestSize: number;
  maxResponseSize: number;
  maxResponseSizeCached: number;
  maxOperations: number;
  maxRequests: number;
}

function writeChannel(w: XdrWriter, c: ChannelAttrs): void {
  w.u32(c.headerPadSize).u32(c.maxRequestSize).u32(c.maxResponseSize).u32(c.maxResponseSizeCached);
  w.u32(c.maxOperations).u32(c.maxRequests).u32(0); // no RDMA
}

function readChannel(r: XdrReader): ChannelAttrs {
  const c = {
    headerPadSize: r.u32(), maxRequestSize: r.u32(), maxResponseSize: r.u32(), maxResponseSizeCached: r.u32(),
    maxOperations: r.u32(), maxRequests: r.u32(),
  };
  r.array((x) => x.u32(), 1);
  return c;
}

export interface CreateSessionResult {
  sessionid: Buffer;
  sequence: number;
  fore: ChannelAttrs;
}

/** A session with a fore channel only: the swarm holds no delegations, so it needs no callbacks. */
export const createSession = (clientid: bigint, sequence: number, fore: ChannelAttrs, auth: AuthSys): Op<CreateSessionResult> => ({
  op: OP.CREATE_SESSION,
  encode: (w) => {
    w.u64(clientid).u32(sequence).u32(0);
    writeChannel(w, fore);
    writeChannel(w, { ...fore, maxRequests: 1 });
    w.u32(0x40000000); // callback program: unused without a back channel
    w.u32(1).u32(AUTH_SYS);
    encodeAuthSysParms(w, auth);
  },
  decode: (r) => {
    const sessionid = r.fixed(16);
    const sequence = r.u32();
    r.u32(); // flags
    const fore = readChannel(r);
    readChannel(r);
    return { sessionid, sequence, fore };
  },
});

export interface SequenceResult {
  highestSlotid: number;
  targetHighestSlotid: number;
  statusFlags: number;
}

export const sequence = (sessionid: Buffer, sequenceid: number, slotid: number, highestSlotid: number): Op<SequenceResult> => ({
  op: OP.SEQUENCE,
  encode: (w) => w.fixed(sessionid, 16).u32(sequenceid).u32(slotid).u32(highestSlotid).bool(false),
  decode: (r) => {
    r.fixed(16);
    r.u32();
    r.u32();
    return { highestSlotid: r.u32(), targetHighestSlotid: r.u32(), statusFlags: r.u32() };
  },
});

export type OpenClaim = { type: 'null'; name: string } | { type: 'previous' } | { type: 'fh' };

export interface OpenArgs {
  access: number;
  deny: number;
  owner: StateOwner;
  /** Create the file (UNCHECKED4: an existing one is opened) or open an existing one only. */
  create: boolean;
  claim: OpenClaim;
}

export interface OpenResult {
  stateid: Stateid;
  rflags: number;
  delegation: number;
}

function skipDelegation(r: XdrReader): number {
  const type = r.u32();
  const readAce = () => {
    r.u32();
    r.u32();
    r.u32();
    r.string(1024);
  };
  if (type === 1 || type === 2) {
    readStateid(r);
    r.bool();
    if (type === 2) {
      const limitBy = r.u32();
      if (limitBy === 1) r.u64();
      else {
        r.u32();
        r.u32();
      }
    }
    readAce();
  } else if (type === 3) {
    const why = r.u32();
    if (why === 1 || why === 2) r.bool();
  }
  return type;
}

export const open = (a: OpenArgs): Op<OpenResult> => ({
  op: OP.OPEN,
  encode: (w) => {
    w.u32(0).u32(a.access).u32(a.deny); // seqid: ignored in 4.1
    writeOwner(w, a.owner);
    w.u32(a.create ? 1 : 0);
    if (a.create) {
      w.u32(0); // UNCHECKED4
      writeNoAttrs(w);
    }
    if (a.claim.type === 'null') w.u32(CLAIM.NULL).string(a.claim.name);
    else if (a.claim.type === 'previous') w.u32(CLAIM.PREVIOUS).u32(0); // reclaiming no delegation
    else w.u32(CLAIM.FH);
  },
  decode: (r) => {
    const stateid = readStateid(r);
    readChangeInfo(r);
    const rflags = r.u32();
    readBitmap(r);
    return { stateid, rflags, delegation: skipDelegation(r) };
  },
});

export interface LockArgs {
  type: number;
  reclaim: boolean;
  offset: bigint;
  length: bigint;
  /** A first lock of a new lock owner, from an open stateid; or a further lock of an existing one. */
  locker: { openStateid: Stateid; lockOwner: StateOwner } | { lockStateid: Stateid };
}

export const lock = (a: LockArgs): Op<Stateid> => ({
  op: OP.LOCK,
  encode: (w) => {
    w.u32(a.type).bool(a.reclaim).u64(a.offset).u64(a.length);
    if ('openStateid' in a.locker) {
      w.bool(true).u32(0);
      writeStateid(w, a.locker.openStateid);
      w.u32(0);
      writeOwner(w, a.locker.lockOwner);
    } else {
      w.bool(false);
      writeStateid(w, a.locker.lockStateid);
      w.u32(0);
    }
  },
  decode: readStateid,
  decodeError: deniedBody,
});

export const lockt = (type: number, offset: bigint, length: bigint, owner: StateOwner): Op<void> => ({
  op: OP.LOCKT,
  encode: (w) => {
    w.u32(type).u64(offset).u64(length);
    writeOwner(w, owner);
  },
  decode: none,
  decodeError: deniedBody,
});

export const locku = (type: number, stateid: Stateid, offset: bigint, length: bigint): Op<Stateid> => ({
  op: OP.LOCKU,
  encode: (w) => {
    w.u32(type).u32(0);
    writeStateid(w, stateid);
    w.u64(offset).u64(length);
  },
  decode: readStateid,
});

export const close = (stateid: Stateid): Op<Stateid> => ({
  op: OP.CLOSE,
  encode: (w) => {
    w.u32(0);
    writeStateid(w, stateid);
  },
  decode: readStateid,
});

export const reclaimComplete = (oneFs = false): Op<void> => ({
  op: OP.RECLAIM_COMPLETE, encode: (w) => w.bool(oneFs), decode: none,
});

/** Each stateid's own status, as the server sees it now: NFS4_OK while the state is held. */
export const testStateid = (stateids: Stateid[]): Op<number[]> => ({
  op: OP.TEST_STATEID,
  encode: (w) => {
    w.u32(stateids.length);
    for (const s of stateids) writeStateid(w, s);
  },
  decode: (r) => r.array((x) => x.u32(), 1024),
});

export const destroySession = (sessionid: Buffer): Op<void> => ({
  op: OP.DESTROY_SESSION, encode: (w) => w.fixed(sessionid, 16), decode: none,
});

export const destroyClientid = (clientid: bigint): Op<void> => ({
  op: OP.DESTROY_CLIENTID, encode: (w) => w.u64(clientid), decode: none,
});
