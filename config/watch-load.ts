// Reading the watcher's configuration: a watcher file (with the pair files it names), or a pair's own config, which
// is a watcher of that one pair with every default.
import { parse } from 'yaml';
import type { ConfigError } from './errors.ts';
import { loadConfig, parseConfig, parseYaml, readConfigText, type Loaded } from './load.ts';
import { watchConfigSchema, watchedPair, type WatchConfig, type WatchedPair } from './watch-schema.ts';

export async function loadWatchConfig(path: string): Promise<Loaded<WatchConfig>> {
  const text = await readConfigText(path);
  if (typeof text !== 'string') return text;
  const raw = peek(text);
  if (isPairConfig(raw)) {
    const pair = parseConfig(text, path);
    if (!pair.ok) return pair;
    return { ok: true, config: watchConfigSchema(new Map([[path, watchedPair(pair.config)]])).parse({ pairFiles: [path] }) };
  }
  const pairFiles = new Map<string, WatchedPair>();
  const fileErrors: ConfigError[] = [];
  for (const file of namedPairFiles(raw)) {
    const loaded = await loadConfig(file);
    if (loaded.ok) pairFiles.set(file, watchedPair(loaded.config));
    else fileErrors.push(...loaded.errors);
  }
  const watch = parseYaml(text, path, watchConfigSchema(pairFiles));
  if (fileErrors.length === 0) return watch;
  return { ok: false, errors: [...(watch.ok ? [] : watch.errors), ...fileErrors] };
}

/** The document as plain data, or null when it does not parse (parseYaml then says where and why). */
function peek(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return null;
  }
}

function isPairConfig(raw: unknown): boolean {
  return isMapping(raw) && 'nodes' in raw && !('pairs' in raw) && !('pairFiles' in raw);
}

/** The absolute paths under pairFiles, to load before the file is checked: anything else is the schema's to reject. */
function namedPairFiles(raw: unknown): string[] {
  if (!isMapping(raw) || !Array.isArray(raw.pairFiles)) return [];
  return [...new Set(raw.pairFiles.filter((p): p is string => typeof p === 'string' && p.startsWith('/')))];
}

function isMapping(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}
