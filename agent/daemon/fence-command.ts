// The configured fence device (a command that cuts the partner off its disks and networks, or powers it off, as
// Pacemaker's fence agents do): run with the pair's placeholders filled in; exit code 0 is the confirmation, which
// lets a takeover skip the lease wait, so a command must exit 0 only once the partner can no longer write or answer.
import { commandFailed, fillTemplate } from '../exec/templates.ts';
import type { CommandRunner, FenceAction } from '../ports.ts';
import type { PairView } from '../pair-view.ts';

const FENCE_TIMEOUT_MS = 60_000;

export function fenceAction(template: string[], view: PairView, runner: CommandRunner): FenceAction {
  const argv = fillTemplate(template, { node: view.self, partner: view.partner });
  return async () => {
    const r = await runner.run(argv, { timeoutMs: FENCE_TIMEOUT_MS });
    return r.code === 0 && !r.timedOut ? { ok: true } : { ok: false, error: commandFailed(r) };
  };
}
