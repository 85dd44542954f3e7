// Resource groups as in Pacemaker and Windows failover clusters: each resource moves offline → online_pending →
// online → offline_pending → offline, or to failed. A group is driven towards a target one operation at a time:
// start in RESOURCE_ORDER, stop in reverse, a failed resource restarted (with everything above it) up to a limit.
import type { Effect, GroupId, ResourceSpec } from './types.ts';

export type StepEffect = Extract<Effect, { type: 'start_resource' | 'stop_resource' }>;

/**
 * `unknown` is every resource's state when the agent starts: a previous run may have left it running. It counts as
 * held; the first operation on it is an idempotent start (adopting it) or stop (cleaning it up).
 */
export type ResourceState = 'unknown' | 'offline' | 'online_pending' | 'online' | 'offline_pending' | 'failed';
export type GroupStatus = 'online' | 'offline' | 'partial' | 'failed';

export interface ResourceRuntime {
  spec: ResourceSpec;
  state: ResourceState;
  /** Failed starts and failed health checks since the group last came fully online. */
  failures: number;
  stopFailures: number;
  lastError: string | null;
  /** The operator asked for a restart: it is stopped, with everything above it, and started again; no failure counted. */
  restart: boolean;
}

export interface GroupRuntime {
  id: GroupId;
  target: 'online' | 'offline';
  resources: ResourceRuntime[];
  /** Restart limit exceeded: the group is not started again here until `retryAfter` (or it is handed over). */
  gaveUpAt: number | null;
  /** A stop failed beyond the limit: the resource may still be held, so only fencing this node can release it. */
  stopFailed: boolean;
}

export function newGroup(id: GroupId, specs: ResourceSpec[]): GroupRuntime {
  return {
    id,
    target: 'offline',
    resources: specs.map((spec) => ({ spec, state: 'unknown', failures: 0, stopFailures: 0, lastError: null, restart: false })),
    gaveUpAt: null,
    stopFailed: false,
  };
}

// These run several times per protocol step: plain loops, no callbacks.

export function groupStatus(g: GroupRuntime): GroupStatus {
  if (g.stopFailed || g.gaveUpAt !== null) return 'failed';
  let online = 0;
  let offline = 0;
  for (const r of g.resources) {
    if (r.state === 'failed') return 'failed';
    if (r.state === 'online') online++;
    else if (r.state === 'offline') offline++;
  }
  if (online === g.resources.length) return 'online';
  return offline === g.resources.length ? 'offline' : 'partial';
}

/** Anything not offline may hold the disk, the address or a server process: it counts as owned. */
export function groupHeld(g: GroupRuntime): boolean {
  for (const r of g.resources) if (r.state !== 'offline') return true;
  return false;
}

/** Something this agent has started or adopted (not merely possibly left over from a previous run). */
export function groupActive(g: GroupRuntime): boolean {
  for (const r of g.resources) if (r.state !== 'offline' && r.state !== 'unknown') return true;
  return false;
}

export function groupBusy(g: GroupRuntime): boolean {
  for (const r of g.resources) if (r.state === 'online_pending' || r.state === 'offline_pending') return true;
  return false;
}

function mustRestart(r: ResourceRuntime): boolean {
  return r.state === 'failed' || r.restart;
}

function stopEffect(g: GroupRuntime, r: ResourceRuntime): StepEffect {
  r.state = 'offline_pending';
  return { type: 'stop_resource', group: g.id, resource: r.spec.name, kind: r.spec.kind };
}

function startEffect(g: GroupRuntime, r: ResourceRuntime): StepEffect {
  r.state = 'online_pending';
  return { type: 'start_resource', group: g.id, resource: r.spec.name, kind: r.spec.kind };
}

/** The next operation that moves the group towards its target, or none while one is under way or it is there. */
export function driveGroup(g: GroupRuntime): StepEffect | null {
  if (groupBusy(g) || g.stopFailed) return null;
  const rs = g.resources;
  if (g.target === 'offline' || g.gaveUpAt !== null) {
    for (let i = rs.length - 1; i >= 0; i--) {
      const r = rs[i]!;
      if (r.state !== 'offline') return stopEffect(g, r);
    }
    return null;
  }
  const firstFailed = rs.findIndex(mustRestart);
  if (firstFailed >= 0) {
    // Restart from the failed (or operator-restarted) resource: everything above it goes down first, in reverse order.
    for (let i = rs.length - 1; i > firstFailed; i--) {
      const r = rs[i]!;
      if (r.state !== 'offline') return stopEffect(g, r);
    }
    return stopEffect(g, rs[firstFailed]!);
  }
  const next = rs.find((r) => r.state !== 'online');
  return next ? startEffect(g, next) : null;
}

/** Applies the result of a start or stop. Returns a line worth reporting, if any. */
export function resourceDone(
  g: GroupRuntime, name: string, op: 'start' | 'stop', ok: boolean, error: string | undefined,
  now: number, restartLimit: number,
): string | null {
  const r = g.resources.find((x) => x.spec.name === name);
  const expected = op === 'start' ? 'online_pending' : 'offline_pending';
  if (!r || r.state !== expected) return null;
  if (op === 'stop') r.restart = false;
  if (ok) {
    r.state = op === 'start' ? 'online' : 'offline';
    if (op === 'stop') r.stopFailures = 0;
    if (op === 'start' && g.resources.every((x) => x.state === 'online')) g.resources.forEach((x) => (x.failures = 0));
    return null;
  }
  r.lastError = error ?? `${op} failed`;
  if (op === 'stop') {
    r.stopFailures++;
    r.state = 'failed';
    if (r.stopFailures > restartLimit) {
      g.stopFailed = true;
      return `stop of ${g.id}/${name} failed ${r.stopFailures} times (${r.lastError}): it may still be held`;
    }
    return `stop of ${g.id}/${name} failed (${r.lastError}); retrying`;
  }
  return markFailed(g, r, now, restartLimit);
}

/**
 * The operator's restart of one resource of a group served here: returns why not, or null once it is under way
 * (driveGroup stops it with everything above it and starts them again, as for a failure, without counting one).
 */
export function requestRestart(g: GroupRuntime, name: string): string | null {
  const r = g.resources.find((x) => x.spec.name === name);
  if (!r) return `group ${g.id} has no resource ${name} (it has ${g.resources.map((x) => x.spec.name).join(', ')})`;
  if (g.target !== 'online') return `this node does not serve group ${g.id}`;
  const status = groupStatus(g);
  if (status !== 'online') return `group ${g.id} is ${status}: wait until it is online`;
  r.restart = true;
  return null;
}

/** A failed health check of an online resource. */
export function healthFailed(g: GroupRuntime, name: string, detail: string | undefined, now: number, restartLimit: number): string | null {
  const r = g.resources.find((x) => x.spec.name === name);
  if (!r || r.state !== 'online' || g.target !== 'online') return null;
  r.lastError = detail ?? 'health check failed';
  return markFailed(g, r, now, restartLimit);
}

function markFailed(g: GroupRuntime, r: ResourceRuntime, now: number, restartLimit: number): string {
  r.state = 'failed';
  r.failures++;
  if (r.failures > restartLimit && g.gaveUpAt === null) {
    g.gaveUpAt = now;
    return `${g.id}/${r.spec.name} failed ${r.failures} times (${r.lastError}): giving the group up`;
  }
  return `${g.id}/${r.spec.name} failed (${r.lastError}); restarting`;
}

/** Lets a group that was given up be tried again (after a cool-down, or once it has been moved). */
export function resetGaveUp(g: GroupRuntime): void {
  g.gaveUpAt = null;
  g.resources.forEach((r) => (r.failures = 0));
}
