// The watcher's configuration: its examples, positioned errors, a pair's own config as a watcher config, pair
// files, and the networks found on the machine when none are named.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatConfigError, type ConfigError } from '../../config/errors.ts';
import { loadConfig, parseYaml, type Loaded } from '../../config/load.ts';
import { loadWatchConfig } from '../../config/watch-load.ts';
import { watchConfigSchema, watchedPair, type WatchConfig, type WatchedPair } from '../../config/watch-schema.ts';
import { discoverNetworks, watchSetup } from '../../agent/watch/setup.ts';
import { LAB_PAIR, LAB_WATCH } from './fixtures.ts';

const examples = new URL('../../config/examples/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hanfs-watch-config-'));

test.after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function valid(result: Loaded<WatchConfig>): WatchConfig {
  if (!result.ok) assert.unreachable(result.errors.map(formatConfigError).join('\n'));
  return (result as { config: WatchConfig }).config;
}

function errors(result: Loaded<WatchConfig>): string[] {
  assert.is(result.ok, false, 'the config should be rejected');
  return (result as { errors: ConfigError[] }).errors.map(formatConfigError);
}

const labPairFile = async (): Promise<WatchedPair> => {
  const loaded = await loadConfig(join(examples, 'lab.yaml'));
  assert.ok(loaded.ok);
  return watchedPair((loaded as { config: Parameters<typeof watchedPair>[0] }).config);
};

const parseWith = (text: string, files: Record<string, WatchedPair> = {}) =>
  parseYaml(text, 'watch.yaml', watchConfigSchema(new Map(Object.entries(files))));

test('the examples are valid (their pair files stood in for by the pair examples)', async () => {
  const pair = await labPairFile();
  const lab = valid(parseWith(readFileSync(join(examples, 'watch/lab.yaml'), 'utf8'), { '/run/hanfs-lab/hanfs/server1.yaml': pair }));
  assert.equal(lab.pairs, [pair]);
  assert.is(lab.holdMs, 2000);
  assert.equal(lab.networks?.map((n) => n.interface), ['neta', 'netb']);

  const prod = await loadConfig(join(examples, 'ganesha-pair.yaml'));
  assert.ok(prod.ok);
  const client = valid(parseWith(readFileSync(join(examples, 'watch/client.yaml'), 'utf8'), {
    '/etc/hanfs/pair.yaml': watchedPair((prod as { config: Parameters<typeof watchedPair>[0] }).config),
  }));
  assert.equal(client.pairs.map((p) => p.pair), ['ganesha-prod', 'archive']);
  assert.equal(client.pairs[1]!.nodes[1], {
    name: 'archive2', primary: '203.0.113.32/24', secondary: '198.51.100.32/24', publicKey: 'FDgfOR4CcP2Q_4cwuFYimiGeBCqe98RRPaHcKXRA_FE',
  });
  assert.is(client.networks, null);
});

test('defaults are filled in', () => {
  const config = valid(parseWith('pairFiles: [/etc/hanfs/pair.yaml]\n', { '/etc/hanfs/pair.yaml': LAB_PAIR }));
  assert.equal(config, {
    pairs: [LAB_PAIR], networks: null, holdMs: 5000, controlSocket: '/run/hanfs/watch.sock', log: { level: 'info', file: null },
  });
});

test('a pair’s own config is a watcher of that pair, with every default', async () => {
  const labPair = readFileSync(join(examples, 'lab.yaml'), 'utf8');
  const config = valid(await loadWatchConfig(write('pair.yaml', labPair)));
  assert.equal(config.pairs, [await labPairFile()]);
  assert.is(config.networks, null);
  assert.is(config.holdMs, 5000);
  // And its errors are the pair config's, at their positions.
  const broken = errors(await loadWatchConfig(write('broken-pair.yaml', labPair.replace('pair: lab', 'pair: lab\nheartbeatPort: 0'))));
  assert.match(broken.join('\n'), /broken-pair\.yaml:5:16: heartbeatPort: expected at least 1, got 0/);
});

test('pair files are loaded, and their errors reported with their own file and position', async () => {
  const pairFile = write('lab-pair.yaml', readFileSync(join(examples, 'lab.yaml'), 'utf8'));
  const ok = valid(await loadWatchConfig(write('w1.yaml', `pairFiles: [${pairFile}]\nholdMs: 100\n`)));
  assert.equal(ok.pairs.map((p) => p.pair), ['lab']);
  const bad = write('bad-pair.yaml', readFileSync(pairFile, 'utf8').replace('interface: pri', 'interface: "a/b"'));
  const found = errors(await loadWatchConfig(write('w2.yaml', `pairFiles: [${bad}, /nonexistent/pair.yaml]\n`)));
  assert.ok(found.some((e) => e.startsWith(`${bad}:`) && e.includes('nodes.server1.primary.interface')), found.join('\n'));
  assert.ok(found.some((e) => e.startsWith('/nonexistent/pair.yaml: cannot read')), found.join('\n'));
});

test('errors name the line, the path, what was expected and what was found', () => {
  const text = `pairs:
  - pair: lab
    secretFile: /etc/hanfs/secret
    nodes:
      server1: { publicKey: 97nq6ndijEhxAEugKQGXKkANFO-_-xJ2ZK-8DNOVT7A, primary: { address: 198.51.100.11/24 }, secondary: { address: 203.0.113.11/24 } }
      server2: { publicKey: HNa642NFn_2Eff6qWEfGPY_svWY-u0sAg_yn7RJK80c, primary: { address: 203.0.113.12/24 }, secondary: { address: 192.0.2.12/24 } }
networks:
  - { interface: neta, address: 198.51.100.50/24 }
  - { interface: eth9, address: 10.1.1.1/8 }
holdMs: -1
colour: blue
`;
  const found = errors(parseWith(text));
  assert.equal(found, [
    'watch.yaml:3:17: pairs[0].secretFile: expected one of the known keys (pair, heartbeatPort, timing, nodes), got "/etc/hanfs/secret"',
    'watch.yaml:6:135: pairs[0].nodes.server2.secondary.address: expected an address in the subnet of nodes.server1.primary (198.51.100.0/24), got "192.0.2.12/24"',
    `watch.yaml:9:33: networks[1].address: expected an address on one of the pairs' networks (198.51.100.0/24, 203.0.113.0/24, 192.0.2.0/24), got "10.1.1.1/8"`,
    'watch.yaml:10:9: holdMs: expected at least 0, got -1',
    'watch.yaml:11:9: colour: expected one of the known keys (pairFiles, pairs, networks, holdMs, controlSocket, log), got "blue"',
  ]);
});

test('at least one pair; pairs and their service addresses apart; one interface per network', () => {
  assert.match(errors(parseWith('holdMs: 10\n')).join('\n'), 'pairs: expected at least one pair, here or in pairFiles');
  const twice = errors(parseWith('pairFiles: [/a.yaml, /b.yaml]\n', { '/a.yaml': LAB_PAIR, '/b.yaml': LAB_PAIR })).join('\n');
  assert.match(twice, 'pairFiles[1]: expected a pair other than the one already watched (lab)');
  assert.match(twice, 'pairFiles[1]: expected service addresses not already those of pair lab (198.51.100.11)');
  const sameNet = errors(parseWith(`pairFiles: [/a.yaml]
networks: [{ interface: a, address: 198.51.100.50/24 }, { interface: b, address: 198.51.100.51/24 }]
`, { '/a.yaml': LAB_PAIR })).join('\n');
  assert.match(sameNet, 'networks[1].address: expected a subnet no other network here is on (198.51.100.0/24)');
  const oneNode = errors(parseWith(`pairs:
  - { pair: x, nodes: { a: { publicKey: Z8S1QG5_6YWJGg0Di_pTJ8pL33TeEUkaejtPCLeZSy8, primary: { address: 198.51.100.1/24 }, secondary: { address: 203.0.113.1/24 } } } }
`)).join('\n');
  assert.match(oneNode, 'pairs[0].nodes: expected exactly two nodes, got ["a"]');
});

test('networks found on the machine: one interface per pair network, never a service address, never loopback', () => {
  const info = (address: string, cidr: string, internal = false) => ({
    address, cidr, internal, family: 'IPv4' as const, netmask: '255.255.255.0', mac: '00:00:00:00:00:00',
  });
  const found = discoverNetworks([LAB_PAIR], {
    lo: [info('127.0.0.1', '127.0.0.1/8', true)],
    eth0: [info('192.0.2.7', '192.0.2.7/24')],
    netb: [info('203.0.113.50', '203.0.113.50/24')],
    neta: [info('198.51.100.11', '198.51.100.11/24'), info('198.51.100.50', '198.51.100.50/24')],
    netc: [info('198.51.100.51', '198.51.100.51/24')],
  });
  assert.equal(found, [
    { interface: 'neta', address: '198.51.100.50/24' },
    { interface: 'netb', address: '203.0.113.50/24' },
  ]);
});

test('the setup: servers with their address on each client network, addresses the client cannot reach set aside', () => {
  const setup = watchSetup(LAB_WATCH, [{ interface: 'netb', address: '203.0.113.50/24' }]);
  assert.equal(setup.core.servers.map((s) => [s.id, s.addresses, s.silentAfterMs]), [
    ['lab/server1', { '203.0.113.0/24': '203.0.113.11' }, 500],
    ['lab/server2', { '203.0.113.0/24': '203.0.113.12' }, 500],
  ]);
  assert.equal(setup.core.services.map((s) => s.address), ['203.0.113.12']);
  assert.equal(setup.unreachable, ['198.51.100.11']);
  assert.equal(setup.listen, [{ net: '203.0.113.0/24', broadcast: '203.0.113.255' }]);
  assert.is(setup.core.pauseMs, 250);
});

test.run();
