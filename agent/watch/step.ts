// The client watcher's core: step(config, state, event, now) → effects. It keeps, for every server and network,
// whether the server is heard there, learns from the heartbeats who serves each service address, and decides per
// address whether to reach it directly or through its owner's interface on another network:
//
//   owner heard on the address's own network ─────────────────────────────── direct (no route)
//      │ silent there for the pair's interval × misses, heard on another network
//      ▼
//   route ADDRESS/32 via the owner's address on that network ─── owner changes (takeover) ──► route via the new owner
//      │ owner heard on the address's own network again, without a silence, for holdMs
//      ▼
//   direct
//
// A single lost heartbeat changes nothing (silence takes several), a healed network must stay heard for the hold
// time, and an owner heard nowhere leaves everything as it is: there is nothing better to route to.
import type { NetId } from '../core/types.ts';
import type {
  AddressState, FoundRoute, Hearing, Route, ServerId, WatchCoreConfig, WatchEffect, WatchEvent, WatchState,
} from './types.ts';

export function initialWatchState(cfg: WatchCoreConfig, now: number): WatchState {
  const servers: WatchState['servers'] = {};
  for (const server of cfg.servers) {
    const nets: Record<NetId, Hearing> = {};
    for (const network of cfg.networks) if (server.addresses[network.net]) nets[network.net] = unheard();
    servers[server.id] = { nets, claims: [], lastAt: null };
  }
  const addresses: WatchState['addresses'] = {};
  for (const service of cfg.services) {
    addresses[service.address] = { owner: null, want: null, cause: '', have: null, pending: false, failedAt: null, error: null };
  }
  return { startedAt: now, lastStepAt: now, routesKnown: false, servers, addresses };
}

/** Folds the event in and returns what to do; updates `s` in place. */
export function step(cfg: WatchCoreConfig, s: WatchState, ev: WatchEvent, now: number): WatchEffect[] {
  const fx: WatchEffect[] = [];
  if (now - s.lastStepAt > cfg.pauseMs) startOver(s, now, fx);
  s.lastStepAt = now;
  switch (ev.type) {
    case 'tick':
      break;
    case 'heartbeat':
      heard(cfg, s, ev.server, ev.net, ev.addresses, now, fx);
      break;
    case 'routes_found':
      adopt(cfg, s, ev.routes, fx);
      break;
    case 'route_done':
      settle(s.addresses[ev.address], ev, now);
      break;
  }
  markSilences(cfg, s, now, fx);
  for (const service of cfg.services) {
    const a = s.addresses[service.address]!;
    findOwner(s, service.address, a, fx);
    decide(cfg, s, service.address, service.net, a, now);
    reconcile(cfg, s, a, now, fx);
  }
  return fx;
}

function unheard(): Hearing {
  return { heard: null, lastAt: null, since: null };
}

/**
 * The watcher itself was not running (descheduled, stopped, the machine suspended): heartbeats that arrived
 * meanwhile wait in the sockets and would be read in any order, so nothing heard before counts. Every network
 * starts undecided again; the routes in force stay until fresh evidence says otherwise.
 */
function startOver(s: WatchState, now: number, fx: WatchEffect[]): void {
  log(fx, 'warn', `no step for ${Math.round(now - s.lastStepAt)} ms: the watcher was paused; starting over from what it hears now`, {
    pausedMs: Math.round(now - s.lastStepAt),
  });
  s.startedAt = now;
  for (const server of Object.values(s.servers)) {
    for (const net of Object.keys(server.nets)) server.nets[net] = unheard();
  }
}

function heard(cfg: WatchCoreConfig, s: WatchState, id: ServerId, net: NetId, addresses: string[], now: number, fx: WatchEffect[]): void {
  const server = cfg.servers.find((x) => x.id === id);
  const state = s.servers[id];
  const h = state?.nets[net];
  if (!server || !state || !h) return;
  if (h.lastAt === null || now - h.lastAt > server.silentAfterMs) h.since = now;
  h.lastAt = now;
  if (h.heard !== true) {
    log(fx, 'info', `${id} heard on ${net}${h.heard === false ? ' again' : ''}`, { server: id, net });
    h.heard = true;
  }
  // A pair's heartbeats speak for its own service addresses only.
  state.claims = addresses.filter((address) => cfg.services.some((x) => x.address === address && x.pair === server.pair));
  state.lastAt = now;
}

function markSilences(cfg: WatchCoreConfig, s: WatchState, now: number, fx: WatchEffect[]): void {
  for (const server of cfg.servers) {
    for (const [net, h] of Object.entries(s.servers[server.id]!.nets)) {
      const quietMs = now - (h.lastAt ?? s.startedAt);
      if (h.heard === false || quietMs <= server.silentAfterMs) continue;
      const what = h.lastAt === null ? 'not heard' : 'silent';
      log(fx, 'warn', `${server.id} ${what} on ${net} for ${Math.round(quietMs)} ms`, { server: server.id, net, quietMs: Math.round(quietMs) });
      h.heard = false;
      h.since = null;
    }
  }
}

/** The routes a previous run left (or anyone made) for the service addresses: the watcher carries on from them. */
function adopt(cfg: WatchCoreConfig, s: WatchState, routes: FoundRoute[], fx: WatchEffect[]): void {
  s.routesKnown = true;
  for (const found of routes) {
    const a = s.addresses[found.address];
    const network = cfg.networks.find((n) => n.iface === found.dev);
    if (!a || !network) continue;
    const owner = cfg.servers.find((x) => x.addresses[network.net] === found.via)?.id ?? null;
    const route: Route = { ...found, net: network.net, owner };
    a.have = route;
    a.want = route;
    a.cause = 'found in the routing table at start';
    log(fx, 'info', `found a route for ${found.address} via ${found.via} dev ${found.dev} at start; keeping it until the network is heard healthy`, {
      address: found.address, via: found.via, dev: found.dev, owner,
    });
  }
}

function settle(a: AddressState | undefined, ev: Extract<WatchEvent, { type: 'route_done' }>, now: number): void {
  if (!a) return;
  a.pending = false;
  if (ev.ok) {
    a.have = ev.route;
    a.failedAt = null;
    a.error = null;
  } else {
    a.failedAt = now;
    a.error = ev.error ?? 'failed';
  }
}

function findOwner(s: WatchState, address: string, a: AddressState, fx: WatchEffect[]): void {
  let owner: ServerId | null = null;
  let latest = -Infinity;
  for (const [id, server] of Object.entries(s.servers)) {
    if (server.claims.includes(address) && server.lastAt !== null && server.lastAt > latest) {
      owner = id;
      latest = server.lastAt;
    }
  }
  // Nobody claiming it (a move in progress, or everyone silent) teaches nothing: the last owner stays.
  if (owner === null || owner === a.owner) return;
  log(fx, 'info', `${address} is served by ${owner}${a.owner ? ` (was ${a.owner})` : ''}, by its heartbeats`, {
    address, owner, previous: a.owner,
  });
  a.owner = owner;
}

function decide(cfg: WatchCoreConfig, s: WatchState, address: string, home: NetId, a: AddressState, now: number): void {
  if (a.owner === null) return;
  const owner = s.servers[a.owner]!;
  const direct = owner.nets[home];
  const current = a.want;
  // A detour still leads to the owner unless the owner is known to be silent on the detour's network.
  const detourHolds = current !== null && current.owner === a.owner && owner.nets[current.net]?.heard !== false;
  if (direct?.heard === true) {
    if (current === null) return;
    const healedMs = now - direct.since!;
    if (detourHolds && healedMs < cfg.holdMs) return;
    setWant(a, null, detourHolds
      ? `${a.owner} heard on ${home} again for ${Math.round(healedMs)} ms (hold ${cfg.holdMs} ms)`
      : `${a.owner} heard on ${home}, and the route led elsewhere`);
    return;
  }
  if (direct?.heard === false && !detourHolds) {
    const network = cfg.networks.find((n) => n.net !== home && owner.nets[n.net]?.heard === true);
    if (!network) return;
    const server = cfg.servers.find((x) => x.id === a.owner)!;
    const route: Route = {
      address, via: server.addresses[network.net]!, dev: network.iface, src: network.localAddress, net: network.net, owner: a.owner,
    };
    const quietMs = Math.round(now - (direct.lastAt ?? s.startedAt));
    setWant(a, route, `${a.owner} silent on ${home} for ${quietMs} ms, heard on ${network.net}`);
  }
}

function setWant(a: AddressState, route: Route | null, cause: string): void {
  a.want = route;
  a.cause = cause;
  a.failedAt = null;
}

function reconcile(cfg: WatchCoreConfig, s: WatchState, a: AddressState, now: number, fx: WatchEffect[]): void {
  if (!s.routesKnown || a.pending || sameRoute(a.want, a.have)) return;
  if (a.failedAt !== null && now - a.failedAt < cfg.retryMs) return;
  a.pending = true;
  if (a.want) fx.push({ type: 'route_replace', route: a.want, cause: a.cause });
  else fx.push({ type: 'route_remove', route: a.have!, cause: a.cause });
}

export function sameRoute(x: Route | null, y: Route | null): boolean {
  if (x === null || y === null) return x === y;
  return x.address === y.address && x.via === y.via && x.dev === y.dev && x.src === y.src;
}

function log(fx: WatchEffect[], level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
  fx.push({ type: 'log', level, message, fields: { event: 'watch', ...fields } });
}
