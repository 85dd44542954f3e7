// Plants one mutant: a copy of the simulated code in a temporary folder, with the mutant's edit made to the
// copy, loaded from there. The repository's own source is never touched.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Mutant } from './mutants.ts';

const AGENT_DIR = fileURLToPath(new URL('..', import.meta.url));

/** What the simulator runs: the core, the controller that carries out its effects, and the simulator itself. */
const SIMULATED_CODE = ['core', 'sim', 'ports.ts', 'daemon/controller.ts', 'daemon/watchdog.ts'];

export interface PlantedMutant {
  /** The mutated copy's sim/run.ts, to import. */
  runUrl: string;
  remove(): void;
}

/** The mutant's edit applied to `source`; throws unless `find` occurs exactly once. */
export function applyMutant(source: string, m: Mutant): string {
  const at = source.indexOf(m.find);
  if (at < 0 || source.indexOf(m.find, at + 1) >= 0) {
    throw new Error(`mutant ${m.id}: its text occurs ${at < 0 ? 'nowhere' : 'more than once'} in agent/${m.file}`);
  }
  return source.slice(0, at) + m.replace + source.slice(at + m.find.length);
}

export function plantMutant(m: Mutant): PlantedMutant {
  const dir = mkdtempSync(join(tmpdir(), `hanfs-mutant-${m.id}-`));
  try {
    for (const part of SIMULATED_CODE) cpSync(join(AGENT_DIR, part), join(dir, part), { recursive: true });
    // ES modules, as in the repository (its package.json says so; a folder in the temporary directory does not).
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const file = join(dir, m.file);
    writeFileSync(file, applyMutant(readFileSync(file, 'utf8'), m));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    runUrl: pathToFileURL(join(dir, 'sim', 'run.ts')).href,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
