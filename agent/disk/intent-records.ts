// Intent log records on the mailbox disk (layout.ts has the sector map and the envelope every record shares).
//
// Intent record payload (IntentRecord; the envelope's seq is the record's number)
// | offset | size | field                                                                    |
// | ------ | ---- | ------------------------------------------------------------------------ |
// | 48     | 1    | transition: its code in TRANSITION_CODES                                 |
// | 49     | 1    | state: 1 begun, 2 done, 3 failed, 4 complete                             |
// | 50     | 1    | step op: 0 none (the record is about the transition), 1 start, 2 stop    |
// | 51     | 1    | step group: the index of the node whose group it is (0 without a step)   |
// | 52     | 1    | step resource: its code in RESOURCE_CODES (0 without a step)             |
// | 53     | 3    | zero                                                                     |
// | 56     | 8    | term, u64                                                                |
// | 64     | 1    | detail length, at most DETAIL_BYTES                                      |
// | 65     | 120  | detail: printable ASCII (anything else is written as "?")                |
import type { IntentRecord, ResourceKind, TransitionKind } from '../core/types.ts';
import { checkCounts, decodeRecord, encodeRecord, getCount, putCount, type Encoded, type NodeIndex, type RecordContext, type RecordRead } from './layout.ts';

/** Never reorder: the codes are what is on the disk. */
const TRANSITION_CODES: Record<TransitionKind, number> = {
  start_own: 1, takeover: 2, release: 3, handover: 4, stand_down: 5, restart: 6,
};
const STATE_CODES: Record<IntentRecord['state'], number> = { begun: 1, done: 2, failed: 3, complete: 4 };
const OP_CODES = { start: 1, stop: 2 } as const;
const RESOURCE_CODES: Record<ResourceKind, number> = {
  log_replay: 1, filesystem: 2, nfs_server: 3, exports: 4, service_ip: 5, arp: 6, nsm_notify: 7,
};

const INTENT = { transition: 48, state: 49, op: 50, group: 51, resource: 52, term: 56, detailLength: 64, detail: 65 } as const;
const DETAIL_BYTES = 120;

const byCode = <K extends string>(codes: Record<K, number>) => new Map(Object.entries(codes).map(([k, c]) => [c as number, k as K]));
const TRANSITION_BY_CODE = byCode(TRANSITION_CODES);
const STATE_BY_CODE = byCode(STATE_CODES);
const OP_BY_CODE = byCode(OP_CODES);
const RESOURCE_BY_CODE = byCode(RESOURCE_CODES);

/** The detail as it is stored: printable ASCII, cut to fit. */
export function storedDetail(detail: string): string {
  return detail.replace(/[^\x20-\x7e]/g, '?').slice(0, DETAIL_BYTES);
}

/** `node` writes its own log; the record's number is the envelope's seq. */
export function encodeIntent(ctx: RecordContext, node: NodeIndex, writtenAt: number, record: IntentRecord): Encoded {
  const bad = checkCounts({ term: record.term });
  if (bad) return { ok: false, error: bad };
  const step = record.step;
  const group = step ? ctx.header.nodes.indexOf(step.group) : 0;
  if (group < 0) return { ok: false, error: `step of group "${step!.group}", not a node of this mailbox` };
  return encodeRecord(ctx, 'intent', node, record.seq, writtenAt, (bytes) => {
    bytes[INTENT.transition] = TRANSITION_CODES[record.transition];
    bytes[INTENT.state] = STATE_CODES[record.state];
    if (step) {
      bytes[INTENT.op] = OP_CODES[step.op];
      bytes[INTENT.group] = group;
      bytes[INTENT.resource] = RESOURCE_CODES[step.resource];
    }
    putCount(bytes, INTENT.term, record.term);
    const detail = storedDetail(record.detail);
    bytes[INTENT.detailLength] = detail.length;
    bytes.write(detail, INTENT.detail, 'latin1');
  });
}

export function decodeIntent(ctx: RecordContext, node: NodeIndex, bytes: Uint8Array): RecordRead<IntentRecord> {
  const read = decodeRecord<IntentRecord>(ctx, 'intent', node, bytes, (buf) => {
    const transition = TRANSITION_BY_CODE.get(buf[INTENT.transition]!);
    const state = STATE_BY_CODE.get(buf[INTENT.state]!);
    if (!transition) return `unknown transition code ${buf[INTENT.transition]}`;
    if (!state) return `unknown state code ${buf[INTENT.state]}`;
    const term = getCount(buf, INTENT.term);
    if (term === null) return 'term above 2^53 - 1';
    const length = buf[INTENT.detailLength]!;
    if (length > DETAIL_BYTES) return `detail of ${length} bytes, at most ${DETAIL_BYTES}`;
    let step: IntentRecord['step'] = null;
    if (buf[INTENT.op] !== 0) {
      const op = OP_BY_CODE.get(buf[INTENT.op]!);
      const resource = RESOURCE_BY_CODE.get(buf[INTENT.resource]!);
      const group = ctx.header.nodes[buf[INTENT.group]!];
      if (!op || !resource || group === undefined) return 'a step with an unknown operation, resource or group';
      step = { group, resource, op };
    }
    // The number is the envelope's: filled in below.
    return { seq: 0, transition, term, step, state, detail: buf.toString('latin1', INTENT.detail, INTENT.detail + length) };
  }, (unsigned, recordSeq, writtenAt, record) => encodeIntent(unsigned, node, writtenAt, { ...record, seq: recordSeq }));
  return read.state === 'verified' || read.state === 'unverified' ? { ...read, payload: { ...read.payload, seq: read.seq } } : read;
}
