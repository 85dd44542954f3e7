// What the control socket answers: each request checked, then handed to the controller (operator commands go
// through the core like any event) or read from the status and the timeline.
import type { OperatorRequest } from '../core/types.ts';
import type { ControlHandler } from '../process/control-socket.ts';
import type { Controller } from '../daemon/controller.ts';
import type { MaintenanceFlag } from './maintenance-flag.ts';
import type { AgentStatus } from './status.ts';
import type { Timeline, TimelineEntry } from './timeline.ts';

export interface ControlDeps {
  controller: Pick<Controller, 'command'>;
  status: () => AgentStatus;
  timeline: Timeline;
  maintenance: MaintenanceFlag;
  generation: number;
}

/** The answer to `events`: the generation tells a follower that the agent restarted and its ids began again. */
export interface EventsAnswer {
  generation: number;
  lastId: number;
  entries: TimelineEntry[];
}

export const CONTROL_COMMANDS = ['status', 'events', 'reintegrate', 'takeover', 'release', 'maintenance', 'resource_restart'] as const;

const MAX_EVENTS = 1000;

export function controlHandler(d: ControlDeps): ControlHandler {
  return async ({ command, args }) => {
    const a = (args ?? {}) as Record<string, unknown>;
    switch (command) {
      case 'status':
        return d.status();
      case 'events':
        return events(d, a);
      case 'reintegrate':
      case 'takeover':
      case 'release':
        return d.controller.command({ command });
      case 'maintenance': {
        if (typeof a.on !== 'boolean') throw new Error('maintenance needs args.on, true or false');
        const said = d.controller.command({ command: a.on ? 'maintenance_on' : 'maintenance_off' });
        await d.maintenance.set(a.on);
        return said;
      }
      case 'resource_restart':
        return d.controller.command(restartRequest(a.resource));
      default:
        throw new Error(`unknown command ${command} (known: ${CONTROL_COMMANDS.join(', ')})`);
    }
  };
}

function events(d: ControlDeps, a: Record<string, unknown>): EventsAnswer {
  const after = a.after ?? 0;
  const limit = a.limit ?? MAX_EVENTS;
  if (!Number.isSafeInteger(after) || (after as number) < 0) throw new Error('events: args.after must be an event id (an integer ≥ 0)');
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) throw new Error('events: args.limit must be an integer ≥ 1');
  return {
    generation: d.generation,
    lastId: d.timeline.lastId(),
    entries: d.timeline.since(after as number, Math.min(limit as number, MAX_EVENTS)),
  };
}

/** "nfs_server" (the one group served here that has it) or "server1/nfs_server". */
export function restartRequest(name: unknown): OperatorRequest {
  if (typeof name !== 'string' || !/^([a-z0-9-]+\/)?[a-z0-9_-]+$/.test(name)) {
    throw new Error('resource_restart needs args.resource: RESOURCE or GROUP/RESOURCE, e.g. nfs_server or server1/nfs_server');
  }
  const slash = name.indexOf('/');
  return slash < 0
    ? { command: 'restart_resource', group: null, resource: name }
    : { command: 'restart_resource', group: name.slice(0, slash), resource: name.slice(slash + 1) };
}
