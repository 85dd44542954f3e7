// Config errors as the operator reads them: the file position, the YAML path, what was found and
// what was expected. Zod issue messages are phrased as expectations (see phraseExpectation).
import { isMap, isNode, isScalar, isSeq, type Document, type LineCounter, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { closest } from './suggest.ts';

export type ConfigPath = readonly PropertyKey[];

interface FilePosition {
  line?: number;
  column?: number;
}

export type ConfigError =
  | { kind: 'unreadable'; source: string; message: string }
  | { kind: 'unsafe'; source: string; message: string }
  | ({ kind: 'syntax'; source: string; message: string } & FilePosition)
  | ({ kind: 'invalid'; source: string; path: string; expected: string; found: string; hint?: string } & FilePosition);

export function formatConfigError(error: ConfigError): string {
  if (error.kind === 'unreadable') return `${error.source}: cannot read: ${error.message}`;
  if (error.kind === 'unsafe') return `${error.source}: ${error.message}`;
  const where = error.line === undefined ? error.source : `${error.source}:${error.line}:${error.column}`;
  if (error.kind === 'syntax') return `${where}: YAML syntax error: ${error.message}`;
  return `${where}: ${error.path}: expected ${error.expected}, got ${error.found}${error.hint ? `; ${error.hint}` : ''}`;
}

export function formatPath(path: ConfigPath): string {
  const text = path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`))
    .join('');
  return text === '' ? '(top level)' : text;
}

const typeNames: Record<string, string> = {
  array: 'a list',
  int: 'an integer',
  number: 'a number',
  object: 'a mapping',
  record: 'a mapping',
  string: 'a string',
};

export function phraseExpectation(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return typeNames[issue.expected] ?? `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return 'a non-empty string';
      return `${issue.inclusive ? 'at least' : 'more than'} ${sized(issue.minimum, issue.origin)}`;
    case 'too_big':
      return `${issue.inclusive ? 'at most' : 'less than'} ${sized(issue.maximum, issue.origin)}`;
    case 'invalid_format':
      return `a valid ${issue.format}`;
    default:
      return undefined;
  }
}

function sized(limit: number | bigint, origin: string): string {
  return origin === 'array' ? `${limit} item${limit === 1 ? '' : 's'}` : String(limit);
}

export function syntaxErrors(errors: readonly YAMLError[], source: string, lineCounter: LineCounter): ConfigError[] {
  return errors.map((error) => ({ kind: 'syntax', source, message: error.message, ...positionAt(lineCounter, error.pos[0]) }));
}

export function invalidValueErrors(
  issues: readonly z.core.$ZodIssue[],
  source: string,
  document: Document,
  lineCounter: LineCounter,
): ConfigError[] {
  return withoutCascades(issues.flatMap(splitIssue))
    .map((issue) => ({ ...issue, offset: offsetOf(document.contents, issue.path) }))
    .sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1))
    .map(({ path, expected, found, hint, offset }) => ({
      kind: 'invalid',
      source,
      path: formatPath(path),
      expected,
      found: renderValue(found),
      ...(hint ? { hint } : {}),
      ...positionAt(lineCounter, offset),
    }));
}

interface SplitIssue {
  path: ConfigPath;
  expected: string;
  found: unknown;
  hint?: string;
  /** For an unknown key: the known key it is probably a typo of. */
  meant?: string;
}

// One error per unknown key, so each names its own path and line, with the known key it is probably a typo of.
function splitIssue(issue: z.core.$ZodIssue): SplitIssue[] {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const object = issue.input as Record<string, unknown>;
      const known = knownKeys(issue.message).filter((key) => !(key in object));
      return issue.keys.map((key) => {
        const meant = closest(key, known);
        return { path: [...issue.path, key], expected: issue.message, found: object[key], ...(meant ? { meant, hint: `did you mean ${meant}?` } : {}) };
      });
    }
    case 'invalid_key':
      return [{ path: issue.path, expected: issue.issues[0]?.message ?? issue.message, found: issue.input }];
    case 'invalid_value': {
      const meant = typeof issue.input === 'string'
        ? closest(issue.input, issue.values.filter((value): value is string => typeof value === 'string'))
        : undefined;
      return [{ path: issue.path, expected: issue.message, found: issue.input, ...(meant ? { hint: `did you mean ${JSON.stringify(meant)}?` } : {}) }];
    }
    case 'custom': {
      const hint = (issue.params as { hint?: unknown } | undefined)?.hint;
      return [{ path: issue.path, expected: issue.message, found: issue.input, ...(typeof hint === 'string' ? { hint } : {}) }];
    }
    default:
      return [{ path: issue.path, expected: issue.message, found: issue.input }];
  }
}

/** The keys a strict mapping knows, from its message "one of the known keys (a, b, c)" (config/schema.ts). */
function knownKeys(message: string): string[] {
  const list = /\(([^()]*)\)$/.exec(message)?.[1];
  return list ? list.split(', ') : [];
}

// A mistyped key is one mistake, not two: the required key it was meant to be is then missing as well, and that
// error only repeats the first.
function withoutCascades(issues: SplitIssue[]): SplitIssue[] {
  const meant = new Set(issues.flatMap((issue) => (issue.meant ? [pathKey([...issue.path.slice(0, -1), issue.meant])] : [])));
  return issues.filter((issue) => issue.found !== undefined || !meant.has(pathKey(issue.path)));
}

function pathKey(path: ConfigPath): string {
  return JSON.stringify(path.map(String));
}

function renderValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const json = JSON.stringify(value);
  return json.length <= 60 ? json : `${json.slice(0, 59)}…`;
}

function positionAt(lineCounter: LineCounter, offset: number | undefined): FilePosition {
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

// The offset of the deepest node the path reaches: a scalar value itself, else the key that
// introduces the value, else (for a missing key) the nearest ancestor present in the file.
function offsetOf(root: unknown, path: ConfigPath): number | undefined {
  let node = root;
  let offset = isNode(root) ? root.range?.[0] : undefined;
  for (const segment of path) {
    let target: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      target = isScalar(pair.value) ? pair.value : pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      target = node.items[segment];
      node = target;
    } else {
      break;
    }
    if (!isNode(target) || !target.range) break;
    offset = target.range[0];
  }
  return offset;
}
