// What the resource layer reads from /proc: mountinfo, device numbers, the TCP socket tables.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceNumberOf, majorMinor } from '../../agent/resources/device-numbers.ts';
import { parseMountinfo, topMountAt } from '../../agent/resources/mountinfo.ts';
import { connectedPeers, decodeProcNetAddress, listeningInodes, procNetAddresses } from '../../agent/resources/proc-net-tcp.ts';

test('mountinfo: device, mount point (octal escapes undone), type and source; optional fields skipped', () => {
  const mounts = parseMountinfo([
    '36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
    '120 36 7:5 / /tmp/hanfs\\040x/srv rw,relatime shared:7 master:3 - ext4 /dev/loop5 rw',
    '121 36 0:52 / /tmp/hanfs\\040x/srv rw - tmpfs none rw',
    '',
  ].join('\n'));
  assert.equal(mounts[1], { device: '7:5', mountPoint: '/tmp/hanfs x/srv', fsType: 'ext4', source: '/dev/loop5' });
  assert.is(mounts.length, 3);
  assert.is(topMountAt(mounts, '/tmp/hanfs x/srv')?.source, 'none', 'the last mount on a directory is the visible one');
  assert.is(topMountAt(mounts, '/tmp'), undefined);
});

test('device numbers: glibc major/minor encoding, also above 255; /dev/null is 1:3', async () => {
  assert.is(majorMinor(0x0703n), '7:3');
  assert.is(majorMinor((259n << 8n) & 0xfff00n | 0x05n), '259:5');
  // minor 300 = 0x12c: low byte 0x2c in bits 0-7, the rest in bits 20 and up.
  assert.is(majorMinor((7n << 8n) | 0x2cn | (0x1n << 20n)), '7:300');
  assert.is(await deviceNumberOf('/dev/null'), '1:3');
});

test('/proc/net/tcp and tcp6 spelling of 198.51.100.11:2049 (little-endian words)', () => {
  assert.equal(procNetAddresses('198.51.100.11', 2049), {
    tcp: '0B6433C6:0801',
    tcp6: '0000000000000000FFFF00000B6433C6:0801',
  });
});

test('listening sockets: LISTEN state only, on that address, by inode', () => {
  const table = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0000000000000000FFFF00000B6433C6:0801 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 50075 1 0000000049efcb30 100 0 0 10 0',
    '   1: 0000000000000000FFFF00000B6433C6:0801 0000000000000000FFFF00003264C633:03FF 01 00000000:00000000 00:00000000 00000000     0        0 50099 1 0000000049efcb30 100 0 0 10 0',
    '   2: 0000000000000000FFFF00000C6433C6:0801 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 50100 1 0000000049efcb30 100 0 0 10 0',
  ].join('\n');
  assert.equal(listeningInodes(table, '0000000000000000FFFF00000B6433C6:0801'), ['50075']);
});

test('connected peers: ESTABLISHED on that address only, IPv4 and v4-mapped IPv6 decoded', () => {
  const tcp6 = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0000000000000000FFFF00000B6433C6:0801 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 50075 1',
    '   1: 0000000000000000FFFF00000B6433C6:0801 0000000000000000FFFF0000656433C6:03A3 01 00000000:00000000 00:00000000 00000000     0        0 50099 1',
    '   2: 0000000000000000FFFF00000B6433C6:0801 0000000000000000FFFF0000666433C6:02BC 06 00000000:00000000 00:00000000 00000000     0        0 0 3',
    '   3: 0000000000000000FFFF00000C6433C6:0801 0000000000000000FFFF0000676433C6:02BD 01 00000000:00000000 00:00000000 00000000     0        0 50100 1',
    '   4: 0000000000000000FFFF00000B6433C6:0801 20010DB8000000000000000000000001:02BE 01 00000000:00000000 00:00000000 00000000     0        0 50101 1',
  ].join('\n');
  assert.equal(connectedPeers(tcp6, procNetAddresses('198.51.100.11', 2049).tcp6), [{ ip: '198.51.100.101', port: 931 }]);
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0B6433C6:0801 656433C6:03A3 01 00000000:00000000 00:00000000 00000000     0        0 0 2',
  ].join('\n');
  assert.equal(connectedPeers(tcp, '0B6433C6:0801'), [{ ip: '198.51.100.101', port: 931 }]);
  assert.is(decodeProcNetAddress('garbage'), null);
});

test.run();
