// Command templates and how commands read in the log. A template is an argv whose arguments may hold {name}
// placeholders; filling one never splits or joins arguments, so a value with spaces or shell metacharacters stays
// one literal argument (nothing here, or in the runner, goes through a shell).
import type { CommandResult } from '../ports.ts';

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** The names of the {placeholders} in one argument of a template, in order. */
export function placeholderNames(arg: string): string[] {
  return [...arg.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

/** Replaces every {name} in each argument with values[name]; a name without a value is an Error naming it. */
export function fillTemplate(argv: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return argv.map((arg) =>
    arg.replace(PLACEHOLDER, (placeholder, name: string) => {
      if (!Object.hasOwn(values, name)) {
        const known = Object.keys(values).join(', ') || 'none';
        throw new Error(`unknown placeholder ${placeholder} in command ${formatArgv(argv)} (known: ${known})`);
      }
      return values[name]!;
    }));
}

const NEEDS_QUOTES = /[^A-Za-z0-9_@%+=:,./-]/;

/** argv as one line a reader can paste into a shell: arguments that need it are single-quoted. */
export function formatArgv(argv: readonly string[]): string {
  return argv
    .map((arg) => (arg === '' || NEEDS_QUOTES.test(arg) ? `'${arg.replaceAll("'", `'\\''`)}'` : arg))
    .join(' ');
}

/** Exit code 0 within its time (a dry run counts as a success). */
export function commandSucceeded(result: CommandResult): boolean {
  return result.code === 0 && !result.timedOut;
}

/**
 * One line saying what ran and how it failed (exit code, signal, timeout, or that it could not start), with the
 * first line of its stderr: what a resource or fence action reports as its error.
 */
export function commandFailed(result: CommandResult): string {
  const firstStderrLine = result.stderr.split('\n').find((line) => line.trim() !== '')?.trim();
  const how = result.timedOut
    ? `timed out after ${Math.round(result.durationMs)} ms${result.signal ? ` (ended by ${result.signal})` : ''}`
    : result.signal
      ? `killed by ${result.signal}`
      : result.code === null
        ? 'did not run'
        : `exit code ${result.code}`;
  return `${formatArgv(result.argv)}: ${how}${firstStderrLine ? `: ${firstStderrLine}` : ''}`;
}
