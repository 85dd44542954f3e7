// What `hanfs watch --status` shows: the watcher's view, read from its state at one instant.
import { sameRoute } from './step.ts';
import type { Route, WatchCoreConfig, WatchState } from './types.ts';

export interface WatchStatus {
  holdMs: number;
  networks: Array<{ net: string; iface: string; address: string }>;
  servers: Array<{
    server: string;
    serves: string[];
    /** Per network: heard or not, how long ago the last heartbeat came, for how long it has been heard without a silence. */
    nets: Record<string, { heard: boolean | null; lastHeardMsAgo: number | null; heardForMs: number | null }>;
  }>;
  addresses: Array<{
    address: string;
    net: string;
    owner: string | null;
    /** The route in force, or null: reached directly on its own network. */
    route: { via: string; dev: string; src: string } | null;
    /** Why the watcher decided what it wants for this address. */
    cause: string;
    /** A change under way or waiting for a retry. */
    pending: boolean;
    error: string | null;
  }>;
}

export function watchStatus(cfg: WatchCoreConfig, s: WatchState, now: number): WatchStatus {
  const ago = (t: number | null) => (t === null ? null : Math.round(now - t));
  return {
    holdMs: cfg.holdMs,
    networks: cfg.networks.map((n) => ({ net: n.net, iface: n.iface, address: n.localAddress })),
    servers: cfg.servers.map((server) => {
      const state = s.servers[server.id]!;
      return {
        server: server.id,
        serves: state.claims,
        nets: Object.fromEntries(Object.entries(state.nets).map(([net, h]) => [net, {
          heard: h.heard, lastHeardMsAgo: ago(h.lastAt), heardForMs: h.heard ? ago(h.since) : null,
        }])),
      };
    }),
    addresses: cfg.services.map((service) => {
      const a = s.addresses[service.address]!;
      return {
        address: service.address,
        net: service.net,
        owner: a.owner,
        route: shown(a.have),
        cause: a.cause,
        pending: a.pending || !sameRoute(a.want, a.have),
        error: a.error,
      };
    }),
  };
}

function shown(route: Route | null): WatchStatus['addresses'][number]['route'] {
  return route && { via: route.via, dev: route.dev, src: route.src };
}
