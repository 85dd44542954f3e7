// A group's resources started or stopped once, in order, outside the agent: for an outside cluster manager that
// decides by itself when a node takes a group (keepalived's notify script in the benchmarks), so that it runs the
// very steps the agent runs. Start goes in RESOURCE_ORDER, stop in reverse; the first failure ends the run, as a
// failed step must leave the group in a state one can name rather than carry on above a broken resource.
import { RESOURCE_ORDER, type GroupId, type ResourceKind } from '../core/types.ts';
import type { ResourceDriver } from '../ports.ts';

export type GroupStepsResult = { ok: true; done: ResourceKind[] } | { ok: false; done: ResourceKind[]; failed: ResourceKind; error: string };

export async function runGroupSteps(
  driver: ResourceDriver, group: GroupId, op: 'start' | 'stop', skip: readonly ResourceKind[] = [],
): Promise<GroupStepsResult> {
  const order = op === 'start' ? RESOURCE_ORDER : [...RESOURCE_ORDER].reverse();
  const done: ResourceKind[] = [];
  for (const kind of order) {
    if (skip.includes(kind)) continue;
    // The agent names each resource after its kind (coreConfigFor), so the logs read the same.
    const result = await driver.run(group, kind, kind, op);
    if (!result.ok) return { ok: false, done, failed: kind, error: result.error ?? `${op} failed` };
    done.push(kind);
  }
  return { ok: true, done };
}

/** "service_ip,arp" → the kinds, or an error naming the known ones. */
export function parseResourceKinds(list: string): ResourceKind[] {
  const kinds = list.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(RESOURCE_ORDER as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`unknown resource kind ${unknown.join(', ')} (known: ${RESOURCE_ORDER.join(', ')})`);
  return kinds as ResourceKind[];
}
