// Resource actions as a dry run: each start and stop is logged and reported done. The agent uses this until the
// resource layer that carries them out with real commands exists; it is also what `hanfs agent --dry-run` runs.
import type { GroupId, ResourceKind } from '../core/types.ts';
import type { LogFn, ResourceDriver } from '../ports.ts';

export class DryRunResources implements ResourceDriver {
  constructor(private readonly log: LogFn) {}

  async run(group: GroupId, resource: string, kind: ResourceKind, op: 'start' | 'stop'): Promise<{ ok: boolean }> {
    this.log('info', `dry run: would ${op} ${group}/${resource}`, { event: 'resource', group, resource, kind, op, dryRun: true });
    return { ok: true };
  }

  monitor(): [] {
    return [];
  }

  async idle(): Promise<void> {}
}
