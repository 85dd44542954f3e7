// The prober runs in a child inside namespace a of a test-made pair (Node cannot enter a namespace itself); b
// answers ICMP with the kernel's own echo replies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createNetnsPair, ip, runJsonInNetns } from '../sensors/netns-pair.ts';

const CHILD = 'test/net/icmp-child.ts';

interface ChildOutput {
  replies?: Record<string, number>;
  logs?: Array<{ level: string; message: string }>;
  error?: string;
}

test('replies come from the partner on its network, not from an unused address or through another interface', async () => {
  const pair = createNetnsPair('icmp');
  try {
    // A second link in a, administratively down: a probe bound to it fails to send.
    ip('-n', pair.a, 'link', 'add', 'veth-c', 'type', 'veth', 'peer', 'name', 'veth-d');
    const out = await runJsonInNetns<ChildOutput>(pair.a, CHILD, [JSON.stringify({
      networks: [
        { net: 'partner', iface: 'veth-a', partnerAddress: pair.addressB },
        { net: 'unused', iface: 'veth-a', partnerAddress: '198.51.100.99' },
        // The partner's address, but bound to lo: SO_BINDTODEVICE keeps the probe off veth-a, so no reply.
        { net: 'wrong-iface', iface: 'lo', partnerAddress: pair.addressB },
        { net: 'down', iface: 'veth-c', partnerAddress: pair.addressB },
      ],
      timeoutMs: 400,
      rounds: 3,
    })], 20_000);
    assert.is(out.error, undefined);
    assert.equal(out.replies, { partner: 3 });
    // Failures are logged, rate-limited: one line per network and error, not one per probe.
    const downLines = out.logs!.filter((l) => l.message.includes(' on down: '));
    assert.is(downLines.length, 1, JSON.stringify(out.logs));
    assert.is(downLines[0]!.level, 'warn');
    const unusedLines = out.logs!.filter((l) => l.message.includes(' on unused: '));
    assert.equal(unusedLines, [{ level: 'debug', message: 'ICMP probe to 198.51.100.99 on unused: Request timed out' }]);
  } finally {
    pair.remove();
  }
});

test('a missing interface is an Error naming it', async () => {
  const pair = createNetnsPair('icmpif');
  try {
    const out = await runJsonInNetns<ChildOutput>(pair.a, CHILD, [JSON.stringify({
      networks: [
        { net: 'a', iface: 'veth-a', partnerAddress: pair.addressB },
        { net: 'b', iface: 'nosuch0', partnerAddress: pair.addressB },
      ],
      timeoutMs: 100,
      rounds: 1,
    })], 20_000);
    assert.match(out.error ?? '', /^ICMP probes on b: cannot bind to interface nosuch0: /);
  } finally {
    pair.remove();
  }
});

test('without CAP_NET_RAW the error says what is needed', async () => {
  const pair = createNetnsPair('icmpcap');
  try {
    const dropNetRaw = ['setpriv', '--bounding-set', '-net_raw', '--inh-caps', '-net_raw'];
    const out = await runJsonInNetns<ChildOutput>(pair.a, CHILD, [JSON.stringify({
      networks: [{ net: 'a', iface: 'veth-a', partnerAddress: pair.addressB }],
      timeoutMs: 100,
      rounds: 1,
    })], 20_000, dropNetRaw);
    assert.is(out.error, 'ICMP probes need CAP_NET_RAW (run as root or grant the capability)');
  } finally {
    pair.remove();
  }
});

test.run();
