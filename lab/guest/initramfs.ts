// The guests' initramfs, built from what the machine has installed (busybox-static, gcc, rpcbind, nfs-common,
// e2fsprogs), the kernel NFS server's tools (nfs-kernel-server, unpacked, not installed) and the cached kernel's
// modules, once per version of its inputs: the cache key is a hash of the init scripts, the helper's source, this
// builder, the kernel release and the server tools' package, so a changed script rebuilds it and nothing else does.
// One image boots both kinds of guest: /init is a kernel client's, /init-server (rdinit=) a kernel server's.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { sh } from '../exec.ts';
import { guestCacheDir, guestKernel, unpackedPackage } from './kernel.ts';
import { indexModules, loadOrder, SERVER_MODULES, WANTED_MODULES } from './modules.ts';

const HERE = new URL('.', import.meta.url).pathname;
const SOURCES = ['boot.sh', 'init.sh', 'init-server.sh', 'io-helper.c', 'initramfs.ts', 'modules.ts'].map((f) => join(HERE, f));
/** NFSv3 locking in the guest: the kernel's lockd asks rpc.statd, which registers with rpcbind. */
const DAEMONS = ['/sbin/rpcbind', '/sbin/rpc.statd'];
/** A server guest's tools from the host: NSM notification and the journal replay before a mount. */
const SERVER_HOST_TOOLS = ['/usr/sbin/sm-notify', '/sbin/e2fsck'];
/** ... and from the unpacked nfs-kernel-server package (paths inside it, copied to the same path in the guest). */
const SERVER_PACKAGE_TOOLS = ['/usr/sbin/rpc.nfsd', '/usr/sbin/exportfs', '/usr/sbin/rpc.mountd', '/usr/sbin/nfsdcld'];
const SERVER_PACKAGE = 'nfs-kernel-server';

export interface GuestImage {
  kernel: string;
  initramfs: string;
  release: string;
}

/** The kernel and initramfs to boot; fetched and built only when the cache lacks them. */
export async function guestImage(): Promise<GuestImage> {
  const kernel = await guestKernel();
  const serverTools = await unpackedPackage(guestCacheDir(), SERVER_PACKAGE, SERVER_PACKAGE);
  const hash = createHash('sha256').update(kernel.release).update(readFileSync(join(serverTools, '.unpacked')));
  for (const f of SOURCES) hash.update(readFileSync(f));
  const initramfs = join(guestCacheDir(), `initramfs-${kernel.release}-${hash.digest('hex').slice(0, 12)}.cpio`);
  if (!existsSync(initramfs)) {
    // Guests booted side by side ask at once: one build, which they all wait for (two would share a stage directory).
    let building = builds.get(initramfs);
    if (!building) builds.set(initramfs, building = build(kernel.modulesDir, serverTools, initramfs).finally(() => builds.delete(initramfs)));
    await building;
  }
  return { kernel: kernel.vmlinuz, initramfs, release: kernel.release };
}

const builds = new Map<string, Promise<void>>();

async function build(modulesDir: string, serverTools: string, target: string): Promise<void> {
  const stage = `${target}.stage-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  try {
    for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'mnt', 'run', 'lib/modules']) mkdirSync(join(stage, d), { recursive: true });
    copyFileSync('/bin/busybox', join(stage, 'bin/busybox'));
    copyFileSync(join(HERE, 'boot.sh'), join(stage, 'lib/hanfs-boot.sh'));
    for (const [script, as] of [['init.sh', 'init'], ['init-server.sh', 'init-server']] as const) {
      copyFileSync(join(HERE, script), join(stage, as));
      chmodSync(join(stage, as), 0o755);
    }
    // The kernel opens /dev/console for init before anything is mounted.
    await sh(['mknod', '-m', '600', join(stage, 'dev/console'), 'c', '5', '1']);
    await sh(['gcc', '-static', '-O2', '-Wall', '-Werror', '-o', join(stage, 'bin/hanfs-guest-io'), join(HERE, 'io-helper.c')], { timeoutMs: 120_000 });

    const index = indexModules(modulesDir);
    for (const [wanted, file] of [[WANTED_MODULES, 'order'], [SERVER_MODULES, 'order-server']] as const) {
      const order = loadOrder(wanted, index);
      for (const m of order) copyFileSync(index.get(m)!, join(stage, 'lib/modules', `${m}.ko`));
      writeFileSync(join(stage, 'lib/modules', file), `${order.join('\n')}\n`);
    }

    for (const binary of [...DAEMONS, ...SERVER_HOST_TOOLS]) {
      copyInto(stage, binary);
      for (const lib of await sharedLibraries(binary)) copyInto(stage, lib);
    }
    for (const binary of SERVER_PACKAGE_TOOLS) {
      copyInto(stage, binary, serverTools);
      for (const lib of await sharedLibraries(join(serverTools, binary))) copyInto(stage, lib);
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

/** The libraries (and the dynamic loader) that `ldd` names for a binary; one the host lacks fails the build. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = await sh(['ldd', binary]);
  const missing = [...out.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
  if (missing.length > 0) throw new Error(`${binary} needs ${missing.join(', ')}, which this machine lacks`);
  return [...out.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** Copies a file of the host (or of an unpacked package's tree `from`) to the same path inside the stage. */
function copyInto(stage: string, path: string, from = '/'): void {
  const to = join(stage, path);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(from, path), to);
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
