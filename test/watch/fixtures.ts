// The lab's pair and client1 as the watcher sees them, and a small clock-driven world that feeds the core the
// heartbeats of whichever servers are heard on which networks, for the tests of the watcher.
import type { WatchConfig, WatchedPair } from '../../config/watch-schema.ts';
import { watchSetup } from '../../agent/watch/setup.ts';
import { initialWatchState, step } from '../../agent/watch/step.ts';
import type { Route, WatchCoreConfig, WatchEffect, WatchEvent, WatchState } from '../../agent/watch/types.ts';

export const NET_A = '198.51.100.0/24';
export const NET_B = '203.0.113.0/24';
export const S1 = 'lab/server1';
export const S2 = 'lab/server2';
export const ADDRESS_1 = '198.51.100.11';
export const ADDRESS_2 = '203.0.113.12';

export const LAB_PAIR: WatchedPair = {
  pair: 'lab',
  heartbeatPort: 7405,
  heartbeatIntervalMs: 100,
  missesBeforeSuspicion: 5,
  nodes: [
    { name: 'server1', primary: '198.51.100.11/24', secondary: '203.0.113.11/24', publicKey: '97nq6ndijEhxAEugKQGXKkANFO-_-xJ2ZK-8DNOVT7A' },
    { name: 'server2', primary: '203.0.113.12/24', secondary: '198.51.100.12/24', publicKey: 'HNa642NFn_2Eff6qWEfGPY_svWY-u0sAg_yn7RJK80c' },
  ],
};

export const LAB_WATCH: WatchConfig = {
  pairs: [LAB_PAIR],
  networks: [{ interface: 'neta', address: '198.51.100.50/24' }, { interface: 'netb', address: '203.0.113.50/24' }],
  holdMs: 2000,
  controlSocket: '/run/hanfs/watch.sock',
  log: { level: 'info', file: null },
};

export const labCore = (): WatchCoreConfig => watchSetup(LAB_WATCH, LAB_WATCH.networks!).core;

/** The route the watcher should set for `address` through `via` on net B. */
export function viaNetB(address: string, via: string, owner: string): Route {
  return { address, via, dev: 'netb', src: '203.0.113.50', net: NET_B, owner };
}

/**
 * Time moves in steps of the lab's heartbeat interval (100 ms): at each, every server heard on a network sends one
 * heartbeat there claiming what it serves, then the core ticks. Route changes succeed at once unless `routeFails`.
 */
export class World {
  readonly cfg: WatchCoreConfig;
  readonly s: WatchState;
  now = 0;
  /** Which server is heard on which network. */
  readonly heard: Record<string, Set<string>> = { [S1]: new Set([NET_A, NET_B]), [S2]: new Set([NET_A, NET_B]) };
  readonly serves: Record<string, string[]> = { [S1]: [ADDRESS_1], [S2]: [ADDRESS_2] };
  readonly effects: Array<WatchEffect & { at: number }> = [];
  routeFails = false;
  /** Route changes carried out in the "table". */
  readonly table = new Map<string, Route>();

  constructor(cfg: WatchCoreConfig = labCore(), opts: { foundRoutes?: Route[] } = {}) {
    this.cfg = cfg;
    this.s = initialWatchState(cfg, 0);
    for (const r of opts.foundRoutes ?? []) this.table.set(r.address, r);
    this.send({ type: 'routes_found', routes: [...this.table.values()].map(({ address, via, dev, src }) => ({ address, via, dev, src })) });
  }

  send(ev: WatchEvent): void {
    for (const fx of step(this.cfg, this.s, ev, this.now)) {
      this.effects.push({ ...fx, at: this.now });
      if (fx.type === 'route_replace' || fx.type === 'route_remove') {
        const route = fx.type === 'route_replace' ? fx.route : null;
        if (!this.routeFails) {
          if (route) this.table.set(fx.route.address, route);
          else this.table.delete(fx.route.address);
        }
        this.send({ type: 'route_done', address: fx.route.address, route, ok: !this.routeFails, error: this.routeFails ? 'RTNETLINK answers: Network is unreachable' : undefined });
      }
    }
  }

  /** Runs for `ms`, one heartbeat interval at a time. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 100;
      for (const [server, nets] of Object.entries(this.heard)) {
        for (const net of nets) this.send({ type: 'heartbeat', server, net, addresses: this.serves[server]! });
      }
      this.send({ type: 'tick' });
    }
  }

  /** `server` not heard on `net` for `ms`, then heard there again. */
  silence(server: string, net: string, ms: number): void {
    this.heard[server]!.delete(net);
    this.run(ms);
    this.heard[server]!.add(net);
  }

  routeChanges(since = 0): Array<WatchEffect & { at: number }> {
    return this.effects.filter((fx) => fx.at >= since && (fx.type === 'route_replace' || fx.type === 'route_remove'));
  }

  logs(since = 0): string[] {
    return this.effects.flatMap((fx) => (fx.at >= since && fx.type === 'log' ? [fx.message] : []));
  }
}
