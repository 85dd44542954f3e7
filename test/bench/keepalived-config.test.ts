// keepalived's configuration and notify script as the benchmarks generate them, and its timers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  KEEPALIVED_DEFAULT, KEEPALIVED_FAST, keepalivedConfig, labInstances, masterDownMs, notifyScript, settingForDetection,
} from '../../bench/keepalived-config.ts';

const ADDRESSES = { server1: '198.51.100.11/24', server2: '203.0.113.12/24' };

test("master-down time: 3 × advert + skew, the skew in seconds for VRRPv2 and in adverts for VRRPv3", () => {
  assert.is(masterDownMs(KEEPALIVED_DEFAULT), 3609);
  assert.is(masterDownMs(KEEPALIVED_FAST), 361);
});

test('a VRRPv3 setting for a detection time, in whole centiseconds', () => {
  const s = settingForDetection(500);
  assert.equal(s, { name: 'keepalived-500ms', version: 3, advertSeconds: 0.14 });
  assert.ok(Math.abs(masterDownMs(s) - 500) < 20, String(masterDownMs(s)));
  assert.is(settingForDetection(5).advertSeconds, 0.01);
});

test("each server owns its address on pri and backs up the partner's on sec, one router id per address", () => {
  assert.equal(labInstances('server2', ['server1', 'server2'], ADDRESSES), [
    { group: 'server1', interface: 'sec', address: '198.51.100.11/24', virtualRouterId: 11, priority: 100, initialState: 'BACKUP' },
    { group: 'server2', interface: 'pri', address: '203.0.113.12/24', virtualRouterId: 12, priority: 150, initialState: 'MASTER' },
  ]);
});

test('the config: the setting in global_defs, an instance per address with its VIP on its interface and the notify script', () => {
  const conf = keepalivedConfig({
    routerId: 'server1', setting: KEEPALIVED_FAST, instances: labInstances('server1', ['server1', 'server2'], ADDRESSES), notify: '/run/lab/notify',
  });
  assert.match(conf, /global_defs \{\n {2}router_id server1\n {2}vrrp_version 3\n {2}script_user root\n {2}enable_script_security\n\}/);
  assert.match(conf, /vrrp_instance server1 \{\n {2}state MASTER\n {2}interface pri\n {2}virtual_router_id 11\n {2}priority 150\n {2}advert_int 0\.1\n/);
  assert.match(conf, /virtual_ipaddress \{\n {4}203\.0\.113\.12\/24 dev sec\n {2}\}\n {2}notify "\/run\/lab\/notify"/);
  assert.is(conf.match(/vrrp_instance/g)?.length, 2);
  assert.throws(() => keepalivedConfig({ routerId: 'x', setting: KEEPALIVED_DEFAULT, instances: [], notify: '/a b' }), /blanks/);
});

test('the notify script logs the transition as JSON, then runs hanfs group start on MASTER and stop otherwise', () => {
  const script = notifyScript({ server: 'server2', log: '/run/lab/server2.log', hanfs: ['/usr/bin/node', '/src/bin/hanfs'], config: "/run/lab/it's.yaml" });
  assert.ok(script.startsWith('#!/bin/sh\n'));
  assert.match(script, /printf '\{"timestamp":"%s","event":"vrrp","group":"%s","message":"%s %s"\}\\n' "\$at" "\$2" "\$2" "\$3" >> \/run\/lab\/server2\.log/);
  assert.match(script, /MASTER\) op=start ;;\n {2}\*\) op=stop ;;/);
  assert.match(script, /exec \/usr\/bin\/node \/src\/bin\/hanfs group "\$op" "\$2" --config '\/run\/lab\/it'\\''s\.yaml' --node server2 --skip service_ip >> \/run\/lab\/server2\.log 2>&1\n$/);
});

test.run();
