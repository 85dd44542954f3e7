// Heartbeats for the tests of the heartbeat channel.
import type { Heartbeat, Phase } from '../../agent/core/types.ts';
import { generateKeyPairSync } from 'node:crypto';
import type { HeartbeatContext, WatcherContext } from '../../agent/net/heartbeat-codec.ts';
import type { Prng } from '../../agent/sim/prng.ts';

/** Each server's signing key; a heartbeat of either is signed with its sender's (see signed()). */
export const keys = { server1: generateKeyPairSync('ed25519'), server2: generateKeyPairSync('ed25519') };

/** server1's context: the pair's secret and server1's signing key. */
export const ctx: HeartbeatContext = {
  pair: 'lab',
  nodes: ['server1', 'server2'],
  secret: Buffer.from('a shared secret of the lab pair'),
  signingKey: keys.server1.privateKey,
};

/** The context of the server that sends `from`'s heartbeats. */
export function senderCtx(from: string, base: HeartbeatContext = ctx): HeartbeatContext {
  return { ...base, signingKey: keys[from as keyof typeof keys]?.privateKey ?? base.signingKey };
}

/** What a client watcher of the lab pair knows. */
export const watcherCtx: WatcherContext = {
  pair: 'lab', nodes: ['server1', 'server2'], publicKeys: [keys.server1.publicKey, keys.server2.publicKey],
};

/** Net A of the lab: the network the tests' packets travel on unless they say otherwise. */
export const NET_A = '198.51.100.0/24';
export const NET_B = '203.0.113.0/24';

export const PHASES: readonly Phase[] = [
  'booting', 'starting', 'normal', 'suspecting', 'probing', 'partner_degraded', 'power_fencing', 'fencing_partner',
  'taking_over', 'serving_both', 'releasing', 'handing_over', 'fenced', 'reintegrating', 'self_fenced',
];

export function heartbeat(from: string, gen: number, seq: number): Heartbeat {
  return {
    from,
    gen,
    seq,
    sentAt: 1234.5 + seq,
    status: {
      node: from,
      gen,
      counter: 77,
      phase: 'normal',
      owns: [from],
      isolated: false,
      pong: 3,
      ackFenceTerm: 0,
      handledReintegrate: 0,
      handledHandover: 0,
      handledTakeover: 0,
    },
    outbox: { fence: null, ping: 4, reintegrateRequest: 0, handover: 0, takeoverRequest: 0 },
    echo: { gen: 9, seq: seq + 100 },
    grant: true,
    maintenance: false,
  };
}

/** Every field drawn at random, including values at the edges of their wire sizes. */
export function randomHeartbeat(prng: Prng, phase: Phase = prng.pick(PHASES)): Heartbeat {
  const u32 = () => prng.pick([0, 1, 0xffffffff, prng.int(0, 0xffffffff)]);
  const from = prng.pick(ctx.nodes);
  const fence = prng.pick([null, { term: u32(), active: true }, { term: u32(), active: false }]);
  return {
    from,
    gen: u32(),
    seq: u32(),
    sentAt: prng.between(0, 1e12),
    status: {
      node: from,
      gen: u32(),
      counter: prng.pick([0, Number.MAX_SAFE_INTEGER, prng.int(0, 2 ** 40)]),
      phase,
      owns: ctx.nodes.filter(() => prng.chance(0.5)),
      isolated: prng.chance(0.5),
      pong: u32(),
      ackFenceTerm: u32(),
      handledReintegrate: u32(),
      handledHandover: u32(),
      handledTakeover: u32(),
    },
    outbox: { fence, ping: u32(), reintegrateRequest: u32(), handover: u32(), takeoverRequest: u32() },
    echo: prng.chance(0.5) ? null : { gen: u32(), seq: u32() },
    grant: prng.chance(0.5),
    maintenance: prng.chance(0.5),
  };
}

export function randomAddresses(prng: Prng, count: number): string[] {
  return Array.from({ length: count }, () => Array.from({ length: 4 }, () => prng.int(0, 255)).join('.'));
}
