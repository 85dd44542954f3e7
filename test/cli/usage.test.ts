// The command line itself: --version, and usage errors as one line and a hint with exit 64 (EX_USAGE), never the
// whole help. Run as a child process, as an operator runs it.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { briefError } from '../../agent/cli/usage.ts';
import { packageVersion } from '../../agent/cli/version.ts';
import { hanfs } from './fixtures.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('--version and -V print the version of package.json, exit 0', async () => {
  assert.is(packageVersion(), pkg.version);
  for (const flag of ['--version', '-V']) {
    const r = await hanfs([flag]);
    assert.equal([r.code, r.stdout, r.stderr], [0, `${pkg.version}\n`, '']);
  }
});

test('usage errors: one line naming the command, then the hint; exit 64; nothing on stdout', async () => {
  const cases: Array<[string[], string]> = [
    [['status', '--bogus'], "hanfs status: unknown option '--bogus'"],
    [['disk', 'init', '/dev/null'], "hanfs disk init: required option '--pair <name>' not specified"],
    [['config', 'check'], "hanfs config check: missing required argument 'file'"],
    [['statu'], "hanfs: unknown command 'statu' (did you mean status?)"],
  ];
  for (const [args, line] of cases) {
    const r = await hanfs(args);
    const command = line.slice(0, line.indexOf(':'));
    assert.is(r.code, 64, args.join(' '));
    assert.is(r.stderr, `${line}\nrun ${command} --help for its usage\n`);
    assert.is(r.stdout, '');
  }
});

test('--help still prints the help, exit 0', async () => {
  const r = await hanfs(['disk', 'dump', '--help']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /^Usage: hanfs disk dump \[options\] <device>/);
});

test("briefError folds commander's suggestion into the line", () => {
  assert.is(briefError('hanfs disk', "error: unknown command 'dum'\n(Did you mean dump?)\n"), "hanfs disk: unknown command 'dum' (did you mean dump?)\n");
  assert.is(briefError('hanfs', 'error: too many arguments'), 'hanfs: too many arguments\n');
});

test.run();
