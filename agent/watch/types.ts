// The vocabulary of the client watcher's pure core: what it is configured with, what it remembers, what the
// adapters tell it (events) and what it asks them to do (effects). Times are monotonic milliseconds handed in by
// the caller; the core never reads a clock.
import type { NetId, NodeId } from '../core/types.ts';

/** A server of a watched pair, named "pair/node" so that two pairs may use the same node names. */
export type ServerId = string;

export function serverId(pair: string, node: NodeId): ServerId {
  return `${pair}/${node}`;
}

/** One of this client's networks: the interface and the address a detour through that network leaves from. */
export interface ClientNetwork {
  /** The subnet, e.g. "203.0.113.0/24", as the servers' configs name it. */
  net: NetId;
  iface: string;
  localAddress: string;
}

export interface WatchedServer {
  id: ServerId;
  pair: string;
  node: NodeId;
  /** Its address on each of this client's networks that it is on. */
  addresses: Record<NetId, string>;
  /** Without a heartbeat for this long, a network counts as silent (its pair's interval × misses). */
  silentAfterMs: number;
}

/** A service address (a node's primary address): whoever serves it is reached directly on its own network. */
export interface ServiceAddress {
  address: string;
  net: NetId;
  pair: string;
}

export interface WatchCoreConfig {
  /** In order of preference for detours. */
  networks: ClientNetwork[];
  servers: WatchedServer[];
  services: ServiceAddress[];
  /** How long the owner must be heard again on an address's own network before its detour is removed. */
  holdMs: number;
  /** How long after a failed route change it is tried again. */
  retryMs: number;
  /** A gap between two steps longer than this is a pause of the watcher itself: what it heard before is stale. */
  pauseMs: number;
}

/** A host route for a service address through a server's interface on another network. */
export interface Route {
  address: string;
  via: string;
  dev: string;
  src: string;
  net: NetId;
  /** The server `via` belongs to; null for a route found at start whose gateway is none of them. */
  owner: ServerId | null;
}

/** Whether a server is heard on one network. */
export interface Hearing {
  /** null until a first heartbeat, or the first silence period since the start, settles it. */
  heard: boolean | null;
  lastAt: number | null;
  /** When the current run of heartbeats without a silence began. */
  since: number | null;
}

export interface ServerState {
  nets: Record<NetId, Hearing>;
  /** The service addresses its latest heartbeat says it serves. */
  claims: string[];
  /** When its latest heartbeat arrived, on any network. */
  lastAt: number | null;
}

export interface AddressState {
  /** Who serves it: the server whose heartbeats say so (the most recently heard, if two do). */
  owner: ServerId | null;
  /** The route decided on (null: reach it directly), and why. */
  want: Route | null;
  cause: string;
  /** The route in the routing table as far as the watcher knows. */
  have: Route | null;
  pending: boolean;
  failedAt: number | null;
  error: string | null;
}

export interface WatchState {
  startedAt: number;
  lastStepAt: number;
  /** Routes are changed only once the table's routes for the service addresses have been read. */
  routesKnown: boolean;
  servers: Record<ServerId, ServerState>;
  addresses: Record<string, AddressState>;
}

export interface FoundRoute {
  address: string;
  via: string;
  dev: string;
  src: string;
}

export type WatchEvent =
  | { type: 'tick' }
  /** An authentic, fresh heartbeat (the listener has checked it), with the service addresses it says its sender serves. */
  | { type: 'heartbeat'; server: ServerId; net: NetId; addresses: string[] }
  /** The host routes for the service addresses found in the table at start. */
  | { type: 'routes_found'; routes: FoundRoute[] }
  /** A route change carried out (route: the route now in force, null after a removal), or failed. */
  | { type: 'route_done'; address: string; route: Route | null; ok: boolean; error?: string };

export type WatchEffect =
  | { type: 'route_replace'; route: Route; cause: string }
  | { type: 'route_remove'; route: Route; cause: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string; fields: Record<string, unknown> };
