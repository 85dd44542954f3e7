// The route table adapter: the `ip` argv it runs and how it reads `ip -j route show`. The runner here is a
// recording stand-in; the lab tests change real routes in a namespace with the real runner.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CommandResult, CommandRunner } from '../../agent/ports.ts';
import { IpRouteTable, parseRoutes } from '../../agent/watch/route-table.ts';
import { ADDRESS_1, S1, viaNetB } from './fixtures.ts';

class RecordingRunner implements CommandRunner {
  readonly ran: string[][] = [];
  constructor(private readonly answer: (argv: string[]) => Partial<CommandResult>) {}
  async run(argv: string[]): Promise<CommandResult> {
    this.ran.push(argv);
    return { argv, code: 0, signal: null, stdout: '', stderr: '', durationMs: 1, timedOut: false, dryRun: false, ...this.answer(argv) };
  }
}

const route = viaNetB(ADDRESS_1, '203.0.113.11', S1);

test('replace and remove run ip with an argument vector', async () => {
  const runner = new RecordingRunner(() => ({}));
  const table = new IpRouteTable(runner);
  assert.equal(await table.replace(route), { ok: true });
  assert.equal(await table.remove(route), { ok: true });
  assert.equal(runner.ran, [
    ['ip', 'route', 'replace', '198.51.100.11/32', 'via', '203.0.113.11', 'dev', 'netb', 'src', '203.0.113.50'],
    ['ip', 'route', 'del', '198.51.100.11/32', 'via', '203.0.113.11', 'dev', 'netb'],
  ]);
});

test('a route already gone counts as removed; other failures are reported with ip’s message', async () => {
  const gone = new IpRouteTable(new RecordingRunner(() => ({ code: 2, stderr: 'RTNETLINK answers: No such process\n' })));
  assert.equal(await gone.remove(route), { ok: true });
  const denied = new IpRouteTable(new RecordingRunner(() => ({ code: 2, stderr: 'RTNETLINK answers: Operation not permitted\n' })));
  const result = await denied.replace(route);
  assert.is(result.ok, false);
  assert.match(String(result.error), 'exit code 2: RTNETLINK answers: Operation not permitted');
});

test('the table is read as JSON: host routes with a gateway for the service addresses only', async () => {
  const json = JSON.stringify([
    { dst: '198.51.100.0/24', dev: 'neta', protocol: 'kernel', scope: 'link', prefsrc: '198.51.100.50', flags: [] },
    { dst: '198.51.100.11', gateway: '203.0.113.11', dev: 'netb', prefsrc: '203.0.113.50', flags: [] },
    { dst: '203.0.113.12/32', gateway: '198.51.100.12', dev: 'neta', flags: [] },
    { dst: '198.51.100.99', gateway: '203.0.113.11', dev: 'netb', flags: [] },
    { dst: '203.0.113.12', dev: 'netb', scope: 'link', flags: [] },
  ]);
  assert.equal(parseRoutes(json, ['198.51.100.11', '203.0.113.12']), [
    { address: '198.51.100.11', via: '203.0.113.11', dev: 'netb', src: '203.0.113.50' },
    { address: '203.0.113.12', via: '198.51.100.12', dev: 'neta', src: '' },
  ]);
  const runner = new RecordingRunner(() => ({ stdout: json }));
  assert.equal((await new IpRouteTable(runner).list(['198.51.100.11'])).length, 1);
  assert.equal(runner.ran, [['ip', '-j', '-4', 'route', 'show', 'table', 'main']]);
});

test('a table that cannot be read is an error, not an empty table', async () => {
  const table = new IpRouteTable(new RecordingRunner(() => ({ code: null, stderr: 'could not start: spawn ip ENOENT' })));
  try {
    await table.list([ADDRESS_1]);
    assert.unreachable('should throw');
  } catch (err) {
    assert.match((err as Error).message, 'cannot read the routing table');
  }
  assert.throws(() => parseRoutes('{"not":"a list"}', [ADDRESS_1]), /printed no list/);
});

test.run();
