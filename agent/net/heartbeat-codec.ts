// The heartbeat on the wire: a compact binary packet with two proofs of origin. The HMAC, keyed with the pair's
// shared secret, is what the partner checks: nobody but the two servers can make it, so nobody else on the network
// can make a node believe its partner is alive, fenced, or asking for anything. The Ed25519 signature, by the
// sending server's own key, is what client watchers check with the servers' public keys: they can verify a
// heartbeat, never make one. Both cover the network the packet is sent on (its subnet, e.g. "198.51.100.0/24"),
// which is not in the packet: a heartbeat carried from one network onto the other does not verify there.
//
// Big-endian throughout; n is the pair id's length, k the number of addresses, b = 6 + n where the heartbeat starts.
//
// | offset   | size | field                                                                                  |
// | -------- | ---- | -------------------------------------------------------------------------------------- |
// | 0        | 4    | magic "HNFS"                                                                           |
// | 4        | 1    | version, 3                                                                             |
// | 5        | 1    | n: length of the pair id in bytes, 1..32                                               |
// | 6        | n    | pair id, UTF-8                                                                         |
// |          |      | Heartbeat                                                                              |
// | b+0      | 1    | from: node index (0 or 1: the order of the nodes in the config)                        |
// | b+1      | 4    | gen, u32                                                                               |
// | b+5      | 4    | seq, u32                                                                               |
// | b+9      | 8    | sentAt, float64: the sender's monotonic ms                                             |
// |          |      | StatusRecord                                                                           |
// | b+17     | 1    | node: node index                                                                       |
// | b+18     | 4    | gen, u32                                                                               |
// | b+22     | 8    | counter, float64 holding an integer up to 2^53 − 1                                     |
// | b+30     | 1    | phase: its code in PHASE_CODES (agent/disk/layout.ts, as in the disk's slot)            |
// | b+31     | 1    | owns: bit i set when the group of node i is owned                                      |
// | b+32     | 1    | isolated, 0 or 1                                                                       |
// | b+33     | 4    | pong, u32                                                                              |
// | b+37     | 4    | ackFenceTerm, u32                                                                      |
// | b+41     | 4    | handledReintegrate, u32                                                                |
// | b+45     | 4    | handledHandover, u32                                                                   |
// | b+49     | 4    | handledTakeover, u32                                                                   |
// |          |      | Outbox                                                                                 |
// | b+53     | 1    | fence present, 0 or 1                                                                  |
// | b+54     | 4    | fence term, u32 (0 without a fence)                                                    |
// | b+58     | 1    | fence active, 0 or 1 (0 without a fence)                                               |
// | b+59     | 4    | ping, u32                                                                              |
// | b+63     | 4    | reintegrateRequest, u32                                                                |
// | b+67     | 4    | handover, u32                                                                          |
// | b+71     | 4    | takeoverRequest, u32                                                                   |
// |          |      | echo and grant                                                                         |
// | b+75     | 1    | echo present, 0 or 1                                                                   |
// | b+76     | 4    | echo gen, u32 (0 without an echo)                                                      |
// | b+80     | 4    | echo seq, u32 (0 without an echo)                                                      |
// | b+84     | 1    | grant, 0 or 1                                                                          |
// | b+85     | 1    | maintenance, 0 or 1                                                                    |
// |          |      | WireExtras (added by the transport)                                                    |
// | b+86     | 4    | echo held: µs from the echoed heartbeat's arrival to this send, u32; 0xffffffff when   |
// |          |      | unknown, and always without an echo (the partner subtracts it to get a round trip)     |
// | b+90     | 1    | k: number of addresses                                                                 |
// | b+91     | 4k   | addresses, IPv4, 4 bytes each                                                          |
// | b+91+4k  | 32   | HMAC-SHA256, keyed with the shared secret, of N followed by every byte before it       |
// | b+123+4k | 64   | Ed25519 signature by the sender's signing key of N followed by every byte before the   |
// |          |      | HMAC                                                                                   |
//
// N is the network's name: one byte of length, then the subnet in UTF-8. So a packet is 193 + n + 4k bytes: 200
// for pair "lab" with one address, at most 512 (MAX_PACKET_BYTES). Absent fences and echoes are all zeros, so that
// each heartbeat has exactly one encoding. Version 2 added maintenance and the echo's hold time; version 3 the
// network in the HMAC, and the signature.
import { createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Heartbeat, NetId, NodeId, Phase, StatusRecord } from '../core/types.ts';
import { PHASE_CODES, phaseOfCode } from '../disk/layout.ts';
import type { HeartbeatDropReason, HeartbeatExtras } from '../ports.ts';

export interface PairIdentity {
  pair: string;
  /** The pair's nodes in config order: a node travels as its index here. */
  nodes: [NodeId, NodeId];
}

/** What a server knows: the pair's secret, to check its partner's heartbeats, and its own key, to sign its own. */
export interface HeartbeatContext extends PairIdentity {
  secret: Buffer;
  signingKey: KeyObject;
}

/** What a client watcher knows: each server's public key, in the order of `nodes`. */
export interface WatcherContext extends PairIdentity {
  publicKeys: [KeyObject, KeyObject];
}

/** What the transport adds to the extras: how long this node held the heartbeat it echoes, in ms (null: unknown). */
export interface WireExtras extends HeartbeatExtras {
  echoHeldMs: number | null;
}

export type DecodedHeartbeat =
  | { ok: true; hb: Heartbeat; extras: WireExtras }
  | { ok: false; reason: HeartbeatDropReason };

export const MAX_PACKET_BYTES = 512;
const MAGIC = Buffer.from('HNFS', 'latin1');
const VERSION = 3;
const MAX_PAIR_BYTES = 32;
const HEADER_BYTES = 6;
const BODY_BYTES = 86;
const HELD_BYTES = 4;
const HELD_UNKNOWN = 0xffffffff;
const ADDRESS_COUNT_BYTES = 1;
const ADDRESS_BYTES = 4;
const MAC_BYTES = 32;
const SIGNATURE_BYTES = 64;
const PROOF_BYTES = MAC_BYTES + SIGNATURE_BYTES;


/** The packet for network `net`: each network gets its own, since the proofs cover the network. */
export function encodeHeartbeat(
  ctx: HeartbeatContext, net: NetId, hb: Heartbeat, extras: HeartbeatExtras & { echoHeldMs?: number | null },
): Buffer {
  const pair = Buffer.from(ctx.pair, 'utf8');
  if (pair.length < 1 || pair.length > MAX_PAIR_BYTES) {
    throw new RangeError(`heartbeat pair id "${ctx.pair}": expected 1 to ${MAX_PAIR_BYTES} bytes`);
  }
  const size = HEADER_BYTES + pair.length + BODY_BYTES + HELD_BYTES + ADDRESS_COUNT_BYTES
    + ADDRESS_BYTES * extras.addresses.length + PROOF_BYTES;
  if (size > MAX_PACKET_BYTES) {
    throw new RangeError(`heartbeat of ${size} bytes (${extras.addresses.length} addresses): at most ${MAX_PACKET_BYTES}`);
  }
  const w = new Writer(size);
  w.bytes(MAGIC);
  w.u8('version', VERSION);
  w.u8('pair id length', pair.length);
  w.bytes(pair);
  writeHeartbeat(w, ctx.nodes, hb);
  w.u32('echo held', heldMicros(hb.echo === null ? null : extras.echoHeldMs ?? null));
  w.u8('address count', extras.addresses.length);
  for (const address of extras.addresses) w.bytes(ipv4Bytes(address));
  const label = netLabel(net);
  const body = Buffer.from(w.written());
  w.bytes(mac(ctx.secret, label, body));
  w.bytes(sign(null, Buffer.concat([label, body]), ctx.signingKey));
  return w.buffer;
}

/**
 * A server's check of its partner's packet, arrived on network `net`: the pair's MAC must hold. Never throws:
 * whatever arrives, the answer is a heartbeat or the reason to drop the packet.
 */
export function decodeHeartbeat(ctx: PairIdentity & { secret: Buffer }, buf: Buffer, net: NetId): DecodedHeartbeat {
  const framed = frame(ctx, buf);
  if (!framed.ok) return framed;
  // Nothing past the header is looked at before the MAC holds: the parser only ever sees the partner's own bytes.
  const { bodyStart, body } = framed;
  if (!timingSafeEqual(mac(ctx.secret, netLabel(net), body), buf.subarray(body.length, body.length + MAC_BYTES))) {
    return drop('hmac');
  }
  return parse(buf, bodyStart, body.length, ctx.nodes);
}

/**
 * A client watcher's check of a server's packet, arrived on network `net`: the signature of the server it names must
 * hold (the MAC, which the watcher cannot check, is never trusted by it). Never throws.
 */
export function decodeSignedHeartbeat(ctx: WatcherContext, buf: Buffer, net: NetId): DecodedHeartbeat {
  const framed = frame(ctx, buf);
  if (!framed.ok) return framed;
  const { bodyStart, body } = framed;
  const key = ctx.publicKeys[buf[bodyStart]!];
  if (!key) return drop('malformed');
  const signature = buf.subarray(body.length + MAC_BYTES);
  if (!verify(null, Buffer.concat([netLabel(net), body]), key, signature)) return drop('signature');
  return parse(buf, bodyStart, body.length, ctx.nodes);
}

/** The header checked, and the signed body (every byte before the proofs) found. */
function frame(ctx: PairIdentity, buf: Buffer): { ok: true; bodyStart: number; body: Buffer } | { ok: false; reason: HeartbeatDropReason } {
  if (buf.length > MAX_PACKET_BYTES) return drop('oversized');
  if (buf.length < HEADER_BYTES) return drop('truncated');
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return drop('magic');
  if (buf[4] !== VERSION) return drop('version');
  const bodyStart = HEADER_BYTES + buf[5]!;
  if (buf.length < bodyStart) return drop('truncated');
  if (!buf.subarray(HEADER_BYTES, bodyStart).equals(Buffer.from(ctx.pair, 'utf8'))) return drop('pair');
  if (buf.length < bodyStart + BODY_BYTES + HELD_BYTES + ADDRESS_COUNT_BYTES + PROOF_BYTES) return drop('truncated');
  return { ok: true, bodyStart, body: buf.subarray(0, buf.length - PROOF_BYTES) };
}

function parse(buf: Buffer, bodyStart: number, bodyEnd: number, nodes: readonly NodeId[]): DecodedHeartbeat {
  const r = new Reader(buf, bodyStart, bodyEnd);
  try {
    const hb = readHeartbeat(r, nodes);
    const extras = readExtras(r, hb.echo !== null);
    return { ok: true, hb, extras };
  } catch (err) {
    if (err instanceof Rejected) return drop(err.reason);
    throw err;
  }
}

function netLabel(net: NetId): Buffer {
  const name = Buffer.from(net, 'utf8');
  if (name.length > 0xff) throw new RangeError(`network name "${net}": at most 255 bytes`);
  return Buffer.concat([Buffer.of(name.length), name]);
}

function drop(reason: HeartbeatDropReason): { ok: false; reason: HeartbeatDropReason } {
  return { ok: false, reason };
}

/** A hold time on the wire: whole microseconds, or HELD_UNKNOWN (also for one too long to count). */
function heldMicros(ms: number | null): number {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return HELD_UNKNOWN;
  const us = Math.round(ms * 1000);
  return us < HELD_UNKNOWN ? us : HELD_UNKNOWN;
}

function mac(secret: Buffer, label: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(label).update(body).digest();
}

function writeHeartbeat(w: Writer, nodes: readonly NodeId[], hb: Heartbeat): void {
  w.u8('from', nodeIndex(nodes, hb.from));
  w.u32('gen', hb.gen);
  w.u32('seq', hb.seq);
  w.finite('sentAt', hb.sentAt);

  const s = hb.status;
  w.u8('status.node', nodeIndex(nodes, s.node));
  w.u32('status.gen', s.gen);
  w.safeInteger('status.counter', s.counter);
  w.u8('status.phase', PHASE_CODES[s.phase]);
  w.u8('status.owns', s.owns.reduce((mask, group) => mask | (1 << nodeIndex(nodes, group)), 0));
  w.bool(s.isolated);
  w.u32('status.pong', s.pong);
  w.u32('status.ackFenceTerm', s.ackFenceTerm);
  w.u32('status.handledReintegrate', s.handledReintegrate);
  w.u32('status.handledHandover', s.handledHandover);
  w.u32('status.handledTakeover', s.handledTakeover);

  const o = hb.outbox;
  w.bool(o.fence !== null);
  w.u32('outbox.fence.term', o.fence?.term ?? 0);
  w.bool(o.fence?.active ?? false);
  w.u32('outbox.ping', o.ping);
  w.u32('outbox.reintegrateRequest', o.reintegrateRequest);
  w.u32('outbox.handover', o.handover);
  w.u32('outbox.takeoverRequest', o.takeoverRequest);

  w.bool(hb.echo !== null);
  w.u32('echo.gen', hb.echo?.gen ?? 0);
  w.u32('echo.seq', hb.echo?.seq ?? 0);
  w.bool(hb.grant);
  w.bool(hb.maintenance);
}

function readHeartbeat(r: Reader, nodes: readonly NodeId[]): Heartbeat {
  // Object literals evaluate their properties in source order: each field below reads the next bytes.
  const head = { from: r.node(nodes), gen: r.u32(), seq: r.u32(), sentAt: r.finite() };
  const status: StatusRecord = {
    node: r.node(nodes),
    gen: r.u32(),
    counter: r.safeInteger(),
    phase: r.phase(),
    owns: r.owns(nodes),
    isolated: r.bool(),
    pong: r.u32(),
    ackFenceTerm: r.u32(),
    handledReintegrate: r.u32(),
    handledHandover: r.u32(),
    handledTakeover: r.u32(),
  };
  const fence = r.optional(() => ({ term: r.u32(), active: r.bool() }), (f) => f.term === 0 && !f.active);
  const outbox = {
    fence,
    ping: r.u32(),
    reintegrateRequest: r.u32(),
    handover: r.u32(),
    takeoverRequest: r.u32(),
  };
  const echo = r.optional(() => ({ gen: r.u32(), seq: r.u32() }), (e) => e.gen === 0 && e.seq === 0);
  return { ...head, status, outbox, echo, grant: r.bool(), maintenance: r.bool() };
}

function readExtras(r: Reader, withEcho: boolean): WireExtras {
  const held = r.u32();
  if (!withEcho && held !== HELD_UNKNOWN) throw new Rejected('malformed');
  const count = r.u8();
  const length = count * ADDRESS_BYTES;
  if (r.remaining() < length) throw new Rejected('truncated');
  if (r.remaining() > length) throw new Rejected('malformed');
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push([r.u8(), r.u8(), r.u8(), r.u8()].join('.'));
  return { addresses, echoHeldMs: held === HELD_UNKNOWN ? null : held / 1000 };
}

function nodeIndex(nodes: readonly NodeId[], node: NodeId): number {
  const index = nodes.indexOf(node);
  if (index < 0) throw new RangeError(`heartbeat names node "${node}", not one of the pair's (${nodes.join(', ')})`);
  return index;
}

function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw new RangeError(`heartbeat address "${address}": expected an IPv4 address`);
  return Buffer.from(address.split('.').map(Number));
}

class Writer {
  readonly buffer: Buffer;
  private offset = 0;

  constructor(size: number) {
    this.buffer = Buffer.alloc(size);
  }

  written(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }

  bytes(data: Buffer): void {
    this.offset += data.copy(this.buffer, this.offset);
  }

  u8(field: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw fieldError(field, value, 'an integer 0..255');
    this.offset = this.buffer.writeUInt8(value, this.offset);
  }

  bool(value: boolean): void {
    this.offset = this.buffer.writeUInt8(value ? 1 : 0, this.offset);
  }

  u32(field: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw fieldError(field, value, 'an integer 0..2^32-1');
    this.offset = this.buffer.writeUInt32BE(value, this.offset);
  }

  safeInteger(field: string, value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw fieldError(field, value, 'an integer 0..2^53-1');
    this.offset = this.buffer.writeDoubleBE(value, this.offset);
  }

  finite(field: string, value: number): void {
    if (!Number.isFinite(value)) throw fieldError(field, value, 'a finite number');
    this.offset = this.buffer.writeDoubleBE(value, this.offset);
  }
}

function fieldError(field: string, value: unknown, expected: string): RangeError {
  return new RangeError(`heartbeat field ${field}: expected ${expected}, got ${String(value)}`);
}

/** Why a packet with a valid MAC still cannot be read: the partner runs a different or broken encoder. */
class Rejected extends Error {
  constructor(readonly reason: HeartbeatDropReason) {
    super(reason);
  }
}

/** Reads fields between `offset` and `end`, rejecting out-of-range values and reads past the end. */
class Reader {
  constructor(private readonly buf: Buffer, private offset: number, private readonly end: number) {}

  remaining(): number {
    return this.end - this.offset;
  }

  u8(): number {
    return this.buf.readUInt8(this.advance(1));
  }

  u32(): number {
    return this.buf.readUInt32BE(this.advance(4));
  }

  finite(): number {
    const value = this.buf.readDoubleBE(this.advance(8));
    if (!Number.isFinite(value)) throw new Rejected('malformed');
    return value;
  }

  safeInteger(): number {
    const value = this.finite();
    if (!Number.isSafeInteger(value) || value < 0) throw new Rejected('malformed');
    return value;
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw new Rejected('malformed');
    return value === 1;
  }

  node(nodes: readonly NodeId[]): NodeId {
    const node = nodes[this.u8()];
    if (node === undefined) throw new Rejected('malformed');
    return node;
  }

  phase(): Phase {
    const phase = phaseOfCode(this.u8());
    if (phase === undefined) throw new Rejected('malformed');
    return phase;
  }

  owns(nodes: readonly NodeId[]): NodeId[] {
    const mask = this.u8();
    if (mask >> nodes.length !== 0) throw new Rejected('malformed');
    return nodes.filter((_, index) => (mask & (1 << index)) !== 0);
  }

  /** A presence byte, then the value's fields, which must be all zeros when absent. */
  optional<T>(read: () => T, isZero: (value: T) => boolean): T | null {
    const present = this.bool();
    const value = read();
    if (present) return value;
    if (!isZero(value)) throw new Rejected('malformed');
    return null;
  }

  private advance(size: number): number {
    if (size > this.remaining()) throw new Rejected('truncated');
    const at = this.offset;
    this.offset += size;
    return at;
  }
}
