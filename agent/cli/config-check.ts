// `hanfs config check FILE`: validate a pair config and show it as the agent will read it.
import type { Command } from 'commander';
import { leaseNotes } from '../../config/lease-note.ts';
import type { PairConfig } from '../../config/schema.ts';
import { loadSigningKey, publicKeyText } from '../net/keys.ts';
import { loadSecret } from '../net/secret.ts';
import { registerConfigInit } from './config-init.ts';
import { loadOrReport } from './config-load.ts';
import { EXIT } from './exit-codes.ts';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('work with the pair configuration file');
  config
    .command('check')
    .description('validate a configuration file and print it with every default filled in; exit 78 if it is invalid')
    .argument('<file>', 'the YAML configuration file')
    .option('--json', 'print the resolved configuration as JSON instead of YAML')
    .action(async (file: string, options: { json?: boolean }) => {
      const pair = await loadOrReport(file);
      if (!pair) return;
      const problems = await checkKeyFiles(pair);
      const { serviceNameProblems } = await import('../../config/service-names.ts');
      problems.notes.push(...(await serviceNameProblems(pair)), ...leaseNotes(pair));
      for (const line of problems.errors) console.error(`${file}: ${line}`);
      for (const line of problems.notes) console.error(`${file}: note: ${line}`);
      if (problems.errors.length > 0) {
        process.exitCode = EXIT.config;
        return;
      }
      process.stdout.write(options.json ? `${JSON.stringify(pair, null, 2)}\n` : await toYaml(pair));
    });
  registerConfigInit(config);
}

/**
 * The secret and the signing key as the agent on this machine would read them: a file others may read, or a key
 * that is no node's, is an error; a file that is not here (the config checked on another machine) is a note.
 */
async function checkKeyFiles(config: PairConfig): Promise<{ errors: string[]; notes: string[] }> {
  const errors: string[] = [];
  const notes: string[] = [];
  const absent = (err: unknown) => (err as Error).message.includes('cannot open it (ENOENT)');
  try {
    await loadSecret(config.secretFile);
  } catch (err) {
    (absent(err) ? notes : errors).push(`${(err as Error).message}${absent(err) ? ': the agent will not start without it (hanfs secret generate)' : ''}`);
  }
  try {
    const key = publicKeyText(await loadSigningKey(config.signingKeyFile));
    const node = Object.entries(config.nodes).find(([, n]) => n.publicKey === key)?.[0];
    if (node) notes.push(`signing key ${config.signingKeyFile} is node ${node}'s`);
    else errors.push(`signing key ${config.signingKeyFile} (public key ${key}) is no node's publicKey: watchers would drop this server's heartbeats`);
  } catch (err) {
    (absent(err) ? notes : errors).push(`${(err as Error).message}${absent(err) ? ': the agent will not start without it (hanfs key generate)' : ''}`);
  }
  return { errors, notes };
}

async function toYaml(config: PairConfig): Promise<string> {
  const { Document, isScalar, visit } = await import('yaml');
  const document = new Document(config);
  // Command lines and option lists read best as one line each, as they are written in the examples.
  visit(document, {
    Seq(_, sequence) {
      if (sequence.items.every(isScalar)) sequence.flow = true;
    },
  });
  return document.toString({ lineWidth: 0 });
}
