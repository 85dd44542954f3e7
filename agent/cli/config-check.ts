// `hanfs config check FILE`: validate a pair config and show it as the agent will read it.
import type { Command } from 'commander';
import { Document, isScalar, visit } from 'yaml';
import { formatConfigError } from '../../config/errors.ts';
import { loadConfig } from '../../config/load.ts';
import type { PairConfig } from '../../config/schema.ts';
import { EXIT } from './exit-codes.ts';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('work with the pair configuration file');
  config
    .command('check')
    .description('validate a configuration file and print it with every default filled in; exit 78 if it is invalid')
    .argument('<file>', 'the YAML configuration file')
    .option('--json', 'print the resolved configuration as JSON instead of YAML')
    .action(async (file: string, options: { json?: boolean }) => {
      const result = await loadConfig(file);
      if (!result.ok) {
        for (const error of result.errors) console.error(formatConfigError(error));
        process.exitCode = EXIT.config;
        return;
      }
      process.stdout.write(options.json ? `${JSON.stringify(result.config, null, 2)}\n` : toYaml(result.config));
    });
}

function toYaml(config: PairConfig): string {
  const document = new Document(config);
  // Command lines and option lists read best as one line each, as they are written in the examples.
  visit(document, {
    Seq(_, sequence) {
      if (sequence.items.every(isScalar)) sequence.flow = true;
    },
  });
  return document.toString({ lineWidth: 0 });
}
