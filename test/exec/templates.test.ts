import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandFailed, commandSucceeded, fillTemplate, formatArgv } from '../../agent/exec/templates.ts';
import type { CommandResult } from '../../agent/ports.ts';
import { commonCommands, profileCommands } from '../../config/profiles.ts';

test('placeholders are filled inside each argument', () => {
  assert.equal(
    fillTemplate(commonCommands.addressAdd!, { address: '198.51.100.11/24', interface: 'eth1' }),
    ['ip', 'addr', 'add', '198.51.100.11/24', 'dev', 'eth1'],
  );
  assert.equal(
    fillTemplate(profileCommands.knfsd.exportAdd!, { options: 'rw,sync', clients: '*', path: '/srv/a' }),
    ['exportfs', '-o', 'rw,sync', '*:/srv/a'],
  );
});

test('a value is never split, joined or expanded again', () => {
  const filled = fillTemplate(['mount', '{device}', '{mountPoint}'], { device: '/dev/x y; rm -rf /', mountPoint: '{device}' });
  assert.equal(filled, ['mount', '/dev/x y; rm -rf /', '{device}']);
});

test('an unknown placeholder is an Error naming it', () => {
  assert.throws(
    () => fillTemplate(['umount', '{mountpoint}'], { mountPoint: '/srv' }),
    /unknown placeholder \{mountpoint\}.*known: mountPoint/,
  );
});

test('braces that are not placeholders stay as they are', () => {
  assert.equal(fillTemplate(['sh', '{}', '{ x }', '${'], {}), ['sh', '{}', '{ x }', '${']);
});

test('formatArgv quotes what a shell would not take literally', () => {
  assert.is(formatArgv(['printf', '%s', "a b;$(x)", "it's", '', '/dev/sda1']), `printf %s 'a b;$(x)' 'it'\\''s' '' /dev/sda1`);
});

const result = (over: Partial<CommandResult>): CommandResult => ({
  argv: ['mount', '/dev/loop3', '/srv/a'], code: 0, signal: null, stdout: '', stderr: '', durationMs: 12, timedOut: false,
  dryRun: false, ...over,
});

test('commandSucceeded: exit code 0 within the time, or a dry run', () => {
  assert.is(commandSucceeded(result({})), true);
  assert.is(commandSucceeded(result({ dryRun: true })), true);
  assert.is(commandSucceeded(result({ code: 1 })), false);
  assert.is(commandSucceeded(result({ code: 0, timedOut: true })), false);
  assert.is(commandSucceeded(result({ code: null, signal: 'SIGTERM' })), false);
});

test('commandFailed: exit code and the first non-empty line of stderr', () => {
  assert.is(
    commandFailed(result({ code: 32, stderr: '\nmount: /srv/a: special device /dev/loop3 does not exist.\nmore\n' })),
    'mount /dev/loop3 /srv/a: exit code 32: mount: /srv/a: special device /dev/loop3 does not exist.',
  );
});

test('commandFailed: signal, timeout, not started', () => {
  assert.is(commandFailed(result({ code: null, signal: 'SIGSEGV' })), 'mount /dev/loop3 /srv/a: killed by SIGSEGV');
  assert.is(
    commandFailed(result({ code: null, signal: 'SIGKILL', timedOut: true, durationMs: 5012.4 })),
    'mount /dev/loop3 /srv/a: timed out after 5012 ms (ended by SIGKILL)',
  );
  assert.is(
    commandFailed(result({ code: 0, timedOut: true, durationMs: 100 })),
    'mount /dev/loop3 /srv/a: timed out after 100 ms',
  );
  assert.is(
    commandFailed(result({ code: null, stderr: 'could not start: spawn mount ENOENT' })),
    'mount /dev/loop3 /srv/a: did not run: could not start: spawn mount ENOENT',
  );
});

test.run();
