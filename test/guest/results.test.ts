// The kernel-client guest's pieces that need no guest: reading its result lines into a report, choosing addresses
// and exports, and ordering kernel modules by their depends= strings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExport } from '../../lab/guest/lifecycle.ts';
import { dependsOf } from '../../lab/guest/modules.ts';
import { guestAddress } from '../../lab/guest/registry.ts';
import { parseOp, parseOps, report } from '../../lab/guest/results.ts';

test('a result line is an operation with its timing; other lines are not', () => {
  assert.equal(parseOp('op=fcntl-write file=/mnt/g1.1/fcntl.dat ok=0 startMs=1000 durMs=7161 err=EIO'),
    { op: 'fcntl-write', file: '/mnt/g1.1/fcntl.dat', ok: false, startMs: 1000, durMs: 7161, extra: { err: 'EIO' } });
  assert.is(parseOp('ready mount=198.51.100.11:/srv1 vers=4.1'), null);
  assert.is(parseOp('op=write file=w1'), null);
});

test('the report: failures, the longest stall of each loop between two completions, and the read-backs', () => {
  const r = report(parseOps([
    'op=write file=w1 ok=1 startMs=0 durMs=20',
    'op=read file=w1 ok=1 startMs=20 durMs=10',
    'op=write file=w2 ok=1 startMs=100 durMs=6000',
    'op=read file=w2 ok=1 startMs=6100 durMs=10',
    'op=flock-write file=f ok=0 startMs=0 durMs=5 err=EIO',
    'op=flock-write file=f ok=1 startMs=200 durMs=5',
    'op=verify file=w1 ok=1 startMs=7000 durMs=5',
    'op=fcntl-verify file=c ok=0 startMs=7000 durMs=5 records=2 bad=2 writeFailures=3',
  ]));
  assert.is(r.ops, 6);
  assert.is(r.failed, 1);
  assert.is(r.failures[0]!.op, 'flock-write');
  assert.is(r.streams['new files']!.longestOpMs, 6000);
  assert.is(r.streams['new files']!.longestStallMs, 6100 - 30);
  assert.is(r.longestStallStream, 'new files');
  assert.equal([r.verified, r.verifyFailed, r.verifyFailures[0]!.extra.bad], [2, 1, '2']);
});

test("guests take .101 upwards of their network's range, and mount only what is on their network", () => {
  assert.is(guestAddress('neta', 1), '198.51.100.101/24');
  assert.is(guestAddress('netb', 3), '203.0.113.103/24');
  assert.throws(() => guestAddress('neta', 0));
  assert.equal(parseExport('neta', 'server1'), { server: '198.51.100.11', export: '/srv1' });
  assert.equal(parseExport('netb', '203.0.113.12:/srv2'), { server: '203.0.113.12', export: '/srv2' });
  assert.throws(() => parseExport('netb', 'server1'), /not on netb/);
  assert.throws(() => parseExport('neta', 'srv1'), /ADDRESS:\/PATH/);
});

test("a module's dependencies come from its depends= string, with - and _ alike", () => {
  const ko = Buffer.from('\0license=GPL\0depends=sunrpc,nfs,dns-resolver\0retpoline=Y\0', 'latin1');
  assert.equal(dependsOf(ko), ['sunrpc', 'nfs', 'dns_resolver']);
  assert.equal(dependsOf(Buffer.from('\0depends=\0', 'latin1')), []);
});

test.run();
