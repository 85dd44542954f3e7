// COMPOUND (RFC 8881 §16.2): a list of operations run in order until one fails. Its reply carries the overall
// status and one result per operation run, the last of them the failed one.
import { NFS4ERR, OP_NAME, statusName } from './nfs4-const.ts';
import type { Op } from './nfs4-ops.ts';
import { XdrReader, XdrWriter } from './xdr.ts';

const MINOR_VERSION = 1;

export interface OpOutcome {
  op: number;
  status: number;
  /** The decoded result when status is NFS4_OK; the error body (LOCK's DENIED) otherwise, if the op has one. */
  value: unknown;
}

export interface CompoundReply {
  status: number;
  results: OpOutcome[];
}

export function encodeCompound(ops: readonly Op[], tag = ''): Buffer {
  const w = new XdrWriter().string(tag).u32(MINOR_VERSION).u32(ops.length);
  for (const o of ops) {
    w.u32(o.op);
    o.encode(w);
  }
  return w.bytes();
}

export function decodeCompound(r: XdrReader, ops: readonly Op[]): CompoundReply {
  const status = r.u32();
  r.string(1024); // tag
  const n = r.u32();
  if (n > ops.length) throw new Error(`COMPOUND reply has ${n} results for ${ops.length} operations`);
  const results: OpOutcome[] = [];
  for (let i = 0; i < n; i++) {
    const sent = ops[i]!;
    const op = r.u32();
    if (op !== sent.op) throw new Error(`COMPOUND result ${i} is ${OP_NAME[op] ?? op}, sent ${OP_NAME[sent.op] ?? sent.op}`);
    const opStatus = r.u32();
    const value = opStatus === NFS4ERR.OK ? sent.decode(r) : sent.decodeError?.(r, opStatus);
    results.push({ op, status: opStatus, value });
    if (opStatus !== NFS4ERR.OK) break;
  }
  return { status, results };
}

/** A COMPOUND that did not succeed: the operation that failed and its status. */
export class Nfs4Error extends Error {
  /**
   * `done`: the values of the operations before the failed one, which did take effect (an OPEN reclaimed in the
   * COMPOUND whose LOCK then failed).
   */
  constructor(readonly status: number, readonly op: number, readonly body?: unknown, readonly done: unknown[] = []) {
    super(`${OP_NAME[op] ?? `op ${op}`}: ${statusName(status)}`);
  }

  get statusName(): string {
    return statusName(this.status);
  }
}

/** The result values of a successful COMPOUND, or the Nfs4Error of the operation that failed. */
export function valuesOf(reply: CompoundReply, ops: readonly Op[]): unknown[] {
  if (reply.status !== NFS4ERR.OK) {
    const failed = reply.results[reply.results.length - 1];
    throw new Nfs4Error(reply.status, failed?.op ?? ops[0]!.op, failed?.value, reply.results.slice(0, -1).map((x) => x.value));
  }
  return reply.results.map((x) => x.value);
}
