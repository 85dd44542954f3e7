// The configured fence command (power the partner off through its management board, as Pacemaker's fence agents
// do): run with the pair's placeholders filled in; exit code 0 is the confirmation.
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
