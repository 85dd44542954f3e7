// `npm run demo` until the namespace lab exists: one scripted failover in the simulator, narrated. server1's
// machine crashes, server2 detects it, fences it and takes its group over; server1 comes back fenced and the
// operator reintegrates it. Prints the timeline and the milliseconds each phase took.
import type { Fault } from '../agent/sim/faults.ts';
import { simSetup } from '../agent/sim/setup.ts';
import { World } from '../agent/sim/world.ts';

const CRASH_AT = 5000;
const BACK_AT = 15_000;
const faults: Fault[] = [{ kind: 'machine_crash', node: 0, at: CRASH_AT, until: BACK_AT }];
const setup = simSetup({ reintegrate: 'manual', hasFenceCommand: false, chaosMs: BACK_AT, healMs: 15_000 });
const world = new World(2024, setup, faults, undefined, true);
const result = world.run();

const t = setup.timing;
console.log('hanfs demo: a simulated failover (the real one in the namespace lab comes with the lab)');
console.log(`timing: heartbeat ${t.heartbeatIntervalMs} ms × ${t.missesBeforeSuspicion} misses, ICMP ${t.icmpTimeoutMs} ms, ` +
  `disk probe ${t.diskProbeTimeoutMs} ms, lease ${t.selfFenceLeaseMs} ms\n`);

const narrated = /fault|boots|→|watchdog|VIOLATION|refused/;
const named = (line: string) => line.replace(/node(\d)/g, 'server$1');
for (const line of result.trace.filter((l) => narrated.test(l))) console.log(`  ${named(line)}`);

const when = (pattern: RegExp, after = 0) => {
  const line = result.trace.find((l) => pattern.test(l) && Number.parseFloat(l) * 1000 >= after);
  return line === undefined ? null : Number.parseFloat(line) * 1000;
};
const phases: [string, number | null, number | null][] = [
  ['detection (crash → fence decided)', CRASH_AT, when(/node2 probing → fencing_partner/)],
  ['fencing wait (→ partner lease expired)', when(/node2 probing → fencing_partner/), when(/node2 fencing_partner → taking_over/)],
  ['start of server1’s group on server2', when(/node2 fencing_partner → taking_over/), when(/node2 taking_over → serving_both/)],
  ['takeover in all (crash → served again)', CRASH_AT, when(/node2 taking_over → serving_both/)],
  ['reintegration (request → server1 serving)', when(/node1 fenced → reintegrating/), when(/node1 starting → normal/, BACK_AT)],
];
console.log('\nphase durations:');
for (const [name, from, to] of phases) {
  console.log(`  ${name.padEnd(44)} ${from === null || to === null ? 'did not happen' : `${Math.round(to - from)} ms`}`);
}
const ok = result.violations.length === 0;
console.log(`\ninvariants: ${ok ? 'all held (one owner per disk and address at every instant)' : result.violations.join('; ')}`);
process.exitCode = ok ? 0 : 1;
