// Reading the pair's config file and choosing which of its two nodes this machine is.
import { open } from 'node:fs/promises';
import { hostname as machineHostname } from 'node:os';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { invalidValueErrors, phraseExpectation, syntaxErrors, type ConfigError } from './errors.ts';
import { checkPairInput } from './input-rules.ts';
import { pairConfigSchema, type NodeConfig, type PairConfig } from './schema.ts';
import { checkWatchdogDevice } from './watchdog-device.ts';

export type Loaded<T> = { ok: true; config: T } | { ok: false; errors: ConfigError[] };
export type LoadResult = Loaded<PairConfig>;

/** The file parsed and checked, and its watchdog device's timeout checked against the kernel's (sysfs). */
export async function loadConfig(path: string): Promise<LoadResult> {
  const text = await readConfigText(path);
  const result = typeof text === 'string' ? parseConfig(text, path) : text;
  if (!result.ok) return result;
  const errors = await checkWatchdogDevice(result.config, path);
  return errors.length > 0 ? { ok: false, errors } : result;
}

export function parseConfig(text: string, sourceName: string): LoadResult {
  return parseYaml(text, sourceName, pairConfigSchema, checkPairInput);
}

/**
 * The file's text, or the error that it cannot be read or must not be trusted: the config names commands that run
 * as root (the fence command, the NFS server's), so a file anyone but root may change is refused.
 */
export async function readConfigText(path: string): Promise<string | Loaded<never>> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    return { ok: false, errors: [{ kind: 'unreadable', source: path, message: (error as Error).message }] };
  }
  try {
    const st = await file.stat();
    const mode = st.mode & 0o7777;
    const unsafe = st.uid !== 0
      ? `owned by uid ${st.uid}, must be owned by root`
      : (mode & 0o022) !== 0 ? `mode 0${mode.toString(8)} lets ${mode & 0o002 ? 'anyone' : 'its group'} change it: chmod go-w` : null;
    if (unsafe) return { ok: false, errors: [{ kind: 'unsafe', source: path, message: `refused: ${unsafe} (it names commands run as root)` }] };
    return await file.readFile('utf8');
  } catch (error) {
    return { ok: false, errors: [{ kind: 'unreadable', source: path, message: (error as Error).message }] };
  } finally {
    await file.close();
  }
}

/**
 * YAML text checked against a schema, and by `inputRules` as written (config/input-rules.ts), every error placed at
 * its line and column in the text.
 */
export function parseYaml<S extends z.ZodType>(
  text: string,
  sourceName: string,
  schema: S,
  inputRules?: (input: unknown) => z.core.$ZodIssue[],
): Loaded<z.output<S>> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    return { ok: false, errors: syntaxErrors(document.errors, sourceName, lineCounter) };
  }
  const input = document.toJS();
  const result = schema.safeParse(input, { reportInput: true, error: phraseExpectation });
  const schemaIssues = result.success ? [] : result.error.issues;
  // A value the schema already refuses is not reported twice.
  const refused = new Set(schemaIssues.map((issue) => issue.path.join('.')));
  const inputIssues = (inputRules?.(input) ?? []).filter((issue) => !refused.has(issue.path.join('.')));
  if (result.success && inputIssues.length === 0) return { ok: true, config: result.data };
  return { ok: false, errors: invalidValueErrors([...schemaIssues, ...inputIssues], sourceName, document, lineCounter) };
}

export interface NamedNode {
  name: string;
  node: NodeConfig;
}

export type NodeSelection = { ok: true; self: NamedNode; partner: NamedNode } | { ok: false; error: string };

// Without an explicit name, this machine is the node whose hostname (or key) equals the machine's
// hostname, in full or up to its first dot.
export function selectNode(config: PairConfig, name?: string, hostname: string = machineHostname()): NodeSelection {
  const nodes: NamedNode[] = Object.entries(config.nodes).map(([key, node]) => ({ name: key, node }));
  const hostnames = new Set([hostname, hostname.split('.')[0]]);
  const [self, ...otherMatches] = nodes.filter((candidate) =>
    name !== undefined
      ? candidate.name === name
      : hostnames.has(candidate.node.hostname) || hostnames.has(candidate.name),
  );
  const partner = nodes.find((candidate) => candidate !== self);
  if (self !== undefined && partner !== undefined && otherMatches.length === 0) return { ok: true, self, partner };

  const listing = nodes.map((candidate) => `${candidate.name} (hostname ${candidate.node.hostname})`).join(', ');
  const reason =
    name !== undefined
      ? `no node is named "${name}"`
      : `${self === undefined ? 'no node' : 'more than one node'} matches this machine's hostname "${hostname}"; name the node explicitly`;
  return { ok: false, error: `pair ${config.pair}: ${reason}. Its nodes are ${listing}.` };
}
