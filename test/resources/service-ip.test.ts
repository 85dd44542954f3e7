import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIpv4Addresses } from '../../agent/resources/service-ip.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf, type Answer } from './fixtures.ts';

const SHOW_PRI = '3: pri    inet 198.51.100.11/24 scope global pri\\       valid_lft forever preferred_lft forever\n';
const ARPING_ANSWERED = 'ARPING 198.51.100.11 from 0.0.0.0 pri\nUnicast reply from 198.51.100.11 [8E:94:FA:57:3B:97]  0.567ms\n'
  + 'Sent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n';

/** A runner where `ip addr show` prints `shown`. */
function driver(shown: string) {
  const runner = new FakeRunner((argv) => (argv[0] === 'ip' && argv.includes('show') ? { stdout: shown } : {}));
  const resources = new SystemResources({ view: viewOf(), runner, log: recordingLog().log, runDir: '/nonexistent' });
  return { runner, resources };
}

test('parses the addresses of ip -o -4 addr show', () => {
  assert.equal(parseIpv4Addresses(`${SHOW_PRI}3: pri    inet 198.51.100.99/32 scope global pri\n`), ['198.51.100.11', '198.51.100.99']);
  assert.equal(parseIpv4Addresses(''), []);
});

test('own group: the address goes on the primary interface, with no probe before it', async () => {
  const { runner, resources } = driver('');
  assert.equal(await resources.run('server1', 'service_ip', 'service_ip', 'start'), { ok: true });
  assert.equal(runner.lines(), ['ip -o -4 addr show dev pri', 'ip addr add 198.51.100.11/24 dev pri']);
});

test("the partner's group: its address goes on our secondary interface (takeover)", async () => {
  const { runner, resources } = driver('');
  assert.equal(await resources.run('server2', 'service_ip', 'service_ip', 'start'), { ok: true });
  assert.equal(runner.lines(), ['ip -o -4 addr show dev sec', 'ip addr add 203.0.113.12/24 dev sec']);
});

/** The arp resource started with arping -D answering as given; its log once the background work is over. */
async function arpWithProbe(arping: Answer) {
  const runner = new FakeRunner((argv) => (argv[0] === 'arping' && argv.includes('-D') ? arping : {}));
  const { log, lines } = recordingLog();
  const resources = new SystemResources({ view: viewOf(), runner, log, runDir: '/nonexistent' });
  assert.equal(await resources.run('server1', 'arp', 'arp', 'start'), { ok: true });
  await resources.idle();
  return { runner, lines };
}

test('someone else answers for the address: the arp resource stays started and logs an alarm with its MAC', async () => {
  const { runner, lines } = await arpWithProbe({ code: 1, stdout: ARPING_ANSWERED });
  assert.ok(runner.lines().includes('arping -D -c 1 -w 1 -I pri 198.51.100.11'));
  assert.equal(lines.filter((l) => l.level === 'error').map((l) => l.message), [
    '198.51.100.11 is also answered by another host (MAC 8E:94:FA:57:3B:97): two hosts answer for the service address; remove it from the other host',
  ]);
});

test('nobody else answers: no alarm; a probe that cannot run is a warning', async () => {
  assert.equal((await arpWithProbe({ code: 0 })).lines.filter((l) => l.level !== 'info'), []);
  const missing = await arpWithProbe({ code: null, stderr: 'could not start: spawn arping ENOENT' });
  assert.equal(missing.lines.filter((l) => l.level === 'warn').map((l) => l.message), [
    '198.51.100.11: duplicate address probe failed: arping -D -c 1 -w 1 -I pri 198.51.100.11: did not run: could not start: spawn arping ENOENT',
  ]);
});

test('address already there: start adopts it without probing; stop removes it', async () => {
  const { runner, resources } = driver(SHOW_PRI);
  assert.equal(await resources.run('server1', 'service_ip', 'service_ip', 'start'), { ok: true });
  assert.equal(await resources.run('server1', 'service_ip', 'service_ip', 'stop'), { ok: true });
  assert.equal(runner.lines(), ['ip -o -4 addr show dev pri', 'ip -o -4 addr show dev pri', 'ip addr del 198.51.100.11/24 dev pri']);
});

test('gratuitous ARP: start returns at once, 5 announcements 200 ms apart follow; stop cancels the rest', async () => {
  const { runner, resources } = driver('');
  const before = Date.now();
  assert.equal(await resources.run('server1', 'arp', 'arp', 'start'), { ok: true });
  assert.ok(Date.now() - before < 100, 'arp start waited for its announcements');
  await resources.idle();
  const elapsed = Date.now() - before;
  assert.equal(runner.lines().filter((l) => l.includes(' -U ')), Array(5).fill('arping -U -c 1 -I pri 198.51.100.11'));
  assert.ok(elapsed >= 750 && elapsed < 1500, `5 announcements 200 ms apart took ${elapsed} ms`);

  await resources.run('server2', 'arp', 'arp', 'start');
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(await resources.run('server2', 'arp', 'arp', 'stop'), { ok: true });
  await resources.idle();
  assert.equal(runner.lines().filter((l) => l.includes(' -U -c 1 -I sec')), Array(2).fill('arping -U -c 1 -I sec 203.0.113.12'));
});

test('a failed announcement is logged, the resource stays started', async () => {
  const runner = new FakeRunner((argv) => (argv.includes('-U') ? { code: 2, stderr: 'arping: bind: Cannot assign requested address' } : {}));
  const { log, lines } = recordingLog();
  const resources = new SystemResources({ view: viewOf(), runner, log, runDir: '/nonexistent' });
  assert.equal(await resources.run('server1', 'arp', 'arp', 'start'), { ok: true });
  await resources.idle();
  const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.message);
  assert.is(warnings.length, 5);
  assert.is(warnings[0], 'gratuitous ARP 1/5 for 198.51.100.11 failed: arping -U -c 1 -I pri 198.51.100.11: exit code 2: arping: bind: Cannot assign requested address');
});

/** A driver whose machine has the interfaces `listed` (name → IPv4 addresses), as os.networkInterfaces lists them. */
function watchedDriver(listed: Record<string, string[]>) {
  const runner = new FakeRunner(() => ({}));
  const listInterfaces = () => Object.fromEntries(Object.entries(listed).map(([name, ips]) => [name,
    ips.map((address) => ({ address, netmask: '255.255.255.0', family: 'IPv4' as const, mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/24` }))]));
  const resources = new SystemResources({ view: viewOf(), runner, log: recordingLog().log, runDir: '/nonexistent', listInterfaces });
  return { resources, listed };
}

test('a service address that vanishes from its running interface fails the service_ip health check; one on a down interface tells nothing', async () => {
  const { resources, listed } = watchedDriver({ pri: ['198.51.100.11'], sec: ['203.0.113.11'] });
  assert.equal(resources.monitor(), [], 'nothing held yet: nothing watched');
  assert.equal(await resources.run('server1', 'ip1', 'service_ip', 'start'), { ok: true });
  assert.equal(resources.monitor(), []);
  listed.pri = [];
  assert.equal(resources.monitor(), [], 'checked at most once a second');

  const later = watchedDriver({ pri: [], sec: ['203.0.113.11'] });
  await later.resources.run('server1', 'ip1', 'service_ip', 'start');
  assert.equal(later.resources.monitor(), [
    { group: 'server1', resource: 'ip1', detail: 'service address 198.51.100.11 is no longer on pri', ok: false },
  ]);

  const down = watchedDriver({ sec: ['203.0.113.11'] });
  await down.resources.run('server1', 'ip1', 'service_ip', 'start');
  assert.equal(down.resources.monitor(), [], 'an interface libuv does not list (no carrier) is not judged');

  const stopped = watchedDriver({ pri: [], sec: [] });
  await stopped.resources.run('server2', 'ip2', 'service_ip', 'start');
  await stopped.resources.run('server2', 'ip2', 'service_ip', 'stop');
  assert.equal(stopped.resources.monitor(), [], 'a stopped address is no longer watched');
});

test.run();
