// Test fixture: two network namespaces of this test run joined by a veth pair, and a way to run a script of ours
// inside one. The links are created inside the namespaces (nothing touches the host's interfaces), addresses only
// from 198.51.100.0/24, no routes beyond the link's own. Callers remove() it in a finally block.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NetnsPair {
  a: string;
  b: string;
  /** veth-a in namespace a, its peer veth-b in namespace b; both up, 198.51.100.1/24 and .2/24. */
  addressA: string;
  addressB: string;
  remove(): void;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createNetnsPair(tag: string): NetnsPair {
  const a = `hanfs-t${process.pid}-${tag}-a`;
  const b = `hanfs-t${process.pid}-${tag}-b`;
  const created: string[] = [];
  const remove = () => {
    for (const ns of created.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Already gone: nothing to clean.
      }
    }
  };
  try {
    for (const ns of [a, b]) {
      ip('netns', 'add', ns);
      created.push(ns);
    }
    ip('-n', a, 'link', 'add', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', b);
    ip('-n', a, 'addr', 'add', '198.51.100.1/24', 'dev', 'veth-a');
    ip('-n', b, 'addr', 'add', '198.51.100.2/24', 'dev', 'veth-b');
    ip('-n', a, 'link', 'set', 'veth-a', 'up');
    ip('-n', b, 'link', 'set', 'veth-b', 'up');
  } catch (err) {
    remove();
    throw err;
  }
  return { a, b, addressA: '198.51.100.1', addressB: '198.51.100.2', remove };
}

/**
 * Runs one of our TypeScript scripts with node inside namespace `ns` (Node cannot setns itself). `prefix` goes
 * between `ip netns exec NS` and node, e.g. a setpriv that drops a capability.
 */
export function spawnInNetns(
  ns: string, script: string, args: string[], prefix: string[] = [],
): ChildProcessWithoutNullStreams {
  return spawn('ip', ['netns', 'exec', ns, ...prefix, process.execPath, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs a script in `ns` to its end and parses the JSON it prints; kills it (by PID) if it overruns `timeoutMs`. */
export function runJsonInNetns<T>(
  ns: string, script: string, args: string[], timeoutMs: number, prefix: string[] = [],
): Promise<T> {
  const child = spawnInNetns(ns, script, args, prefix);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        const output = `stdout ${JSON.stringify(stdout)}, stderr ${stderr}`;
        reject(new Error(`${script} in ${ns} ended with ${code ?? signal}: ${output}`));
      }
    });
  });
}

/** True when this module is the script node was started with (and not, say, imported by uvu). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
