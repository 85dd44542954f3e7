// Test fixtures for the resource layer: a pair config in the lab's addressing (server1 primary pri 198.51.100.11,
// secondary sec 203.0.113.11; server2 primary pri 203.0.113.12, secondary sec 198.51.100.12) with the disk, mount
// point and command overrides a test needs, and a CommandRunner that records argv and answers from a script.
import { parseConfig } from '../../config/load.ts';
import type { PairConfig } from '../../config/schema.ts';
import { pairView, type PairView } from '../../agent/pair-view.ts';
import type { CommandResult, CommandRunner, LogFn } from '../../agent/ports.ts';

export interface PairOptions {
  profile?: 'ganesha' | 'knfsd';
  /** server1's disk and mount point (its export is the mount point, pseudo /srv1, squash none). */
  device?: string;
  mountPoint?: string;
  /** Extra YAML lines under server1's disk and export entries, e.g. `mountOptions: [noatime]`. */
  diskExtra?: string;
  exportsYaml?: string;
  /** server1's NFS versions, e.g. `[3, 4]` (unset: the default, NFSv4 only). */
  protocols?: string;
  commands?: Record<string, string[]>;
  /** Where secretFile and the mailbox point: never read by the resource layer. */
  dir?: string;
}

export function pairYaml(o: PairOptions = {}): string {
  const dir = o.dir ?? '/nonexistent/hanfs-test';
  const mountPoint = o.mountPoint ?? '/srv/server1';
  const exportsYaml = o.exportsYaml ?? `[{ path: ${mountPoint}, pseudo: /srv1, squash: none }]`;
  return `pair: resources-test
secretFile: ${dir}/secret
watchdog: none
nfs:
  profile: ${o.profile ?? 'ganesha'}
  commands: ${JSON.stringify(o.commands ?? {})}
nodes:
  server1:
    publicKey: 97nq6ndijEhxAEugKQGXKkANFO-_-xJ2ZK-8DNOVT7A
    primary: { interface: pri, address: 198.51.100.11/24 }
    secondary: { interface: sec, address: 203.0.113.11/24 }
    mailbox: ${dir}/mailbox
    disks:
      - device: ${o.device ?? '/dev/null'}
        mountPoint: ${mountPoint}
        fsType: ext4
${o.diskExtra ? `        ${o.diskExtra}\n` : ''}    exports: ${exportsYaml}
${o.protocols ? `    protocols: ${o.protocols}\n` : ''}  server2:
    publicKey: HNa642NFn_2Eff6qWEfGPY_svWY-u0sAg_yn7RJK80c
    primary: { interface: pri, address: 203.0.113.12/24 }
    secondary: { interface: sec, address: 198.51.100.12/24 }
    mailbox: ${dir}/mailbox
    disks: [{ device: /dev/hanfs-test-server2, mountPoint: ${dir}/server2, fsType: xfs }]
    exports: [{ path: ${dir}/server2, pseudo: /srv2 }]
`;
}

export function parsePair(yaml: string): PairConfig {
  const parsed = parseConfig(yaml, 'test.yaml');
  if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.config;
}

export function viewOf(o: PairOptions = {}, self = 'server1'): PairView {
  return pairView(parsePair(pairYaml(o)), self);
}

export type Answer = Partial<Pick<CommandResult, 'code' | 'stdout' | 'stderr' | 'timedOut'>>;

/** Records every argv; answers each with `answer(argv)` (exit 0 with no output by default). */
export class FakeRunner implements CommandRunner {
  readonly calls: string[][] = [];

  constructor(private readonly answer: (argv: string[]) => Answer = () => ({})) {}

  async run(argv: string[]): Promise<CommandResult> {
    this.calls.push(argv);
    const a = this.answer(argv);
    return {
      argv, code: a.code === undefined ? 0 : a.code, signal: null, stdout: a.stdout ?? '', stderr: a.stderr ?? '',
      durationMs: 1, timedOut: a.timedOut ?? false, dryRun: false,
    };
  }

  /** The calls as command lines, for compact assertions. */
  lines(): string[] {
    return this.calls.map((argv) => argv.join(' '));
  }
}

export interface LogLine {
  level: string;
  message: string;
}

export function recordingLog(): { log: LogFn; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, log: (level, message) => lines.push({ level, message }) };
}
