// Usage errors as a line and a hint, not the whole help: "hanfs disk init: required option '--pair <name>' not
// specified", then "run hanfs disk init --help for its usage". The exit code (64) is main.ts's.
import type { Command } from 'commander';

/** The command's name as typed: "hanfs disk init". */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's "error: X\n(Did you mean Y?)" as one line, prefixed by the command instead of "error". */
export function briefError(command: string, message: string): string {
  const text = message.trim().replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)');
  return `${command}: ${text}\n`;
}

/** Applies to `program` and every command below it: call once all are registered. */
export function briefUsageErrors(program: Command): void {
  const visit = (cmd: Command): void => {
    const path = commandPath(cmd);
    cmd
      .configureOutput({ outputError: (message, write) => write(briefError(path, message)) })
      .showHelpAfterError(`run ${path} --help for its usage`);
    cmd.commands.forEach(visit);
  };
  visit(program);
}
