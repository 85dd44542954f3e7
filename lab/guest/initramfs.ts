// The guest's initramfs, built from what the machine has installed (busybox-static, gcc, rpcbind, nfs-common) and
// the cached kernel's modules, once per version of its inputs: the cache key is a hash of the init script, the
// helper's source, this builder and the kernel release, so a changed script rebuilds it and nothing else does.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { sh } from '../exec.ts';
import { guestCacheDir, guestKernel } from './kernel.ts';
import { indexModules, loadOrder, WANTED_MODULES } from './modules.ts';

const HERE = new URL('.', import.meta.url).pathname;
const SOURCES = ['init.sh', 'io-helper.c', 'initramfs.ts', 'modules.ts'].map((f) => join(HERE, f));
/** NFSv3 locking in the guest: the kernel's lockd asks rpc.statd, which registers with rpcbind. */
const DAEMONS = ['/sbin/rpcbind', '/sbin/rpc.statd'];

export interface GuestImage {
  kernel: string;
  initramfs: string;
  release: string;
}

/** The kernel and initramfs to boot; fetched and built only when the cache lacks them. */
export async function guestImage(): Promise<GuestImage> {
  const kernel = await guestKernel();
  const hash = createHash('sha256').update(kernel.release);
  for (const f of SOURCES) hash.update(readFileSync(f));
  const initramfs = join(guestCacheDir(), `initramfs-${kernel.release}-${hash.digest('hex').slice(0, 12)}.cpio`);
  if (!existsSync(initramfs)) await build(kernel.modulesDir, initramfs);
  return { kernel: kernel.vmlinuz, initramfs, release: kernel.release };
}

async function build(modulesDir: string, target: string): Promise<void> {
  const stage = `${target}.stage-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  try {
    for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'mnt', 'run', 'lib/modules']) mkdirSync(join(stage, d), { recursive: true });
    copyFileSync('/bin/busybox', join(stage, 'bin/busybox'));
    copyFileSync(join(HERE, 'init.sh'), join(stage, 'init'));
    chmodSync(join(stage, 'init'), 0o755);
    // The kernel opens /dev/console for init before anything is mounted.
    await sh(['mknod', '-m', '600', join(stage, 'dev/console'), 'c', '5', '1']);
    await sh(['gcc', '-static', '-O2', '-Wall', '-Werror', '-o', join(stage, 'bin/hanfs-guest-io'), join(HERE, 'io-helper.c')], { timeoutMs: 120_000 });

    const index = indexModules(modulesDir);
    const order = loadOrder(WANTED_MODULES, index);
    for (const m of order) copyFileSync(index.get(m)!, join(stage, 'lib/modules', `${m}.ko`));
    writeFileSync(join(stage, 'lib/modules/order'), `${order.join('\n')}\n`);

    for (const daemon of DAEMONS) {
      copyInto(stage, daemon);
      for (const lib of await sharedLibraries(daemon)) copyInto(stage, lib);
    }
    // libtirpc's transports; rpcbind finds its port (sunrpc) and protocols by name.
    for (const f of ['/etc/netconfig', '/etc/services', '/etc/protocols']) copyInto(stage, f);
    writeFileSync(join(stage, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n_rpc:x:102:65534::/run:/bin/false\nstatd:x:103:65534::/var/lib/nfs:/bin/false\n');
    writeFileSync(join(stage, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');

    writeCpio(stage, `${target}.tmp-${process.pid}`);
    renameSync(`${target}.tmp-${process.pid}`, target);
    pruneOthers(target);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Older initramfs builds (of a changed script) are never booted again; 16 MB each. */
function pruneOthers(keep: string): void {
  const dir = dirname(keep);
  for (const f of readdirSync(dir)) {
    if (/^initramfs-.*\.cpio$/.test(f) && join(dir, f) !== keep) rmSync(join(dir, f), { force: true });
  }
}

/** The libraries (and the dynamic loader) that `ldd` names for a binary. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await sh(['ldd', binary]);
  return [...out.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** Copies a host file to the same path inside the stage, following symlinks. */
function copyInto(stage: string, path: string): void {
  const to = join(stage, path);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(path, to);
  if (path.includes('bin/')) chmodSync(to, 0o755);
}

/** An uncompressed newc archive (the kernel unpacks it faster under TCG than a compressed one). */
function writeCpio(stage: string, file: string): void {
  const names: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      names.push(relative(stage, join(dir, e.name)));
      if (e.isDirectory()) walk(join(dir, e.name));
    }
  };
  walk(stage);
  const out = openSync(file, 'w');
  try {
    const r = spawnSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: stage, input: `${names.join('\n')}\n`, stdio: ['pipe', out, 'pipe'] });
    if (r.status !== 0) throw new Error(`cpio: ${r.stderr?.toString().trim() || r.error?.message}`);
  } finally {
    closeSync(out);
  }
}
