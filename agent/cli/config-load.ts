// A pair configuration read as the agent reads it (owner and mode too), for the config commands: the configuration,
// or null once each error is printed and the exit code is 78.
import type { PairConfig } from '../../config/schema.ts';
import { EXIT } from './exit-codes.ts';

export async function loadOrReport(file: string): Promise<PairConfig | null> {
  // The parser and the schema load only for the commands that read a configuration (main.ts registers them all).
  const [{ loadConfig }, { formatConfigError }] = await Promise.all([import('../../config/load.ts'), import('../../config/errors.ts')]);
  const result = await loadConfig(file);
  if (result.ok) return result.config;
  for (const error of result.errors) console.error(formatConfigError(error));
  process.exitCode = EXIT.config;
  return null;
}
