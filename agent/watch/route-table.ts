// The watcher's hands: host routes for service addresses, changed with `ip route` through the agent's command
// runner (argv, never a shell; every run logged). Needs CAP_NET_ADMIN and nothing else.
import { commandFailed, commandSucceeded } from '../exec/templates.ts';
import type { CommandRunner } from '../ports.ts';
import type { FoundRoute, Route } from './types.ts';

const IP_TIMEOUT_MS = 5000;

export interface RouteTable {
  /** The routes in the main table for these addresses (host routes with a gateway). Throws if the table cannot be read. */
  list(addresses: readonly string[]): Promise<FoundRoute[]>;
  replace(route: Route): Promise<{ ok: boolean; error?: string }>;
  /** A route already gone counts as removed. */
  remove(route: Route): Promise<{ ok: boolean; error?: string }>;
}

interface IpRouteJson {
  dst?: unknown;
  gateway?: unknown;
  dev?: unknown;
  prefsrc?: unknown;
}

export class IpRouteTable implements RouteTable {
  constructor(private readonly runner: CommandRunner) {}

  async list(addresses: readonly string[]): Promise<FoundRoute[]> {
    const result = await this.runner.run(['ip', '-j', '-4', 'route', 'show', 'table', 'main'], { timeoutMs: IP_TIMEOUT_MS });
    if (!commandSucceeded(result)) throw new Error(`cannot read the routing table: ${commandFailed(result)}`);
    // A dry run prints nothing: there is no table to read then.
    if (result.stdout.trim() === '') return [];
    return parseRoutes(result.stdout, addresses);
  }

  replace(route: Route): Promise<{ ok: boolean; error?: string }> {
    return this.ip(['route', 'replace', `${route.address}/32`, 'via', route.via, 'dev', route.dev, 'src', route.src]);
  }

  async remove(route: Route): Promise<{ ok: boolean; error?: string }> {
    const result = await this.ip(['route', 'del', `${route.address}/32`, 'via', route.via, 'dev', route.dev]);
    return result.ok || result.error?.includes('No such process') ? { ok: true } : result;
  }

  private async ip(args: string[]): Promise<{ ok: boolean; error?: string }> {
    const result = await this.runner.run(['ip', ...args], { timeoutMs: IP_TIMEOUT_MS });
    return commandSucceeded(result) ? { ok: true } : { ok: false, error: commandFailed(result) };
  }
}

/** `ip -j route show` output → the host routes with a gateway for `addresses`. */
export function parseRoutes(json: string, addresses: readonly string[]): FoundRoute[] {
  const routes = JSON.parse(json) as unknown;
  if (!Array.isArray(routes)) throw new Error('cannot read the routing table: ip -j printed no list');
  return routes.flatMap((r: IpRouteJson) => {
    const address = typeof r.dst === 'string' ? r.dst.replace(/\/32$/, '') : '';
    if (!addresses.includes(address) || typeof r.gateway !== 'string' || typeof r.dev !== 'string') return [];
    return [{ address, via: r.gateway, dev: r.dev, src: typeof r.prefsrc === 'string' ? r.prefsrc : '' }];
  });
}
