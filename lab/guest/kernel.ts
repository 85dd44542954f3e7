// The guest's kernel: Debian's cloud kernel, fetched with `apt-get download` and unpacked with `dpkg-deb -x` into the
// lab's cache once; every later guest boots the same copy without asking apt again. Nothing of it is committed.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../exec.ts';

/** Where built guest pieces are kept between runs (HANFS_GUEST_CACHE overrides it). */
export function guestCacheDir(): string {
  return process.env.HANFS_GUEST_CACHE ?? '/var/cache/hanfs-lab/guest';
}

export interface GuestKernel {
  release: string;
  vmlinuz: string;
  /** The unpacked package's module tree, lib/modules/RELEASE. */
  modulesDir: string;
}

const COMPLETE = '.unpacked';

/** The cached kernel, fetched and unpacked first if the cache has none. */
export async function guestKernel(): Promise<GuestKernel> {
  const cache = guestCacheDir();
  mkdirSync(cache, { recursive: true });
  const cached = readdirSync(cache).find((d) => d.startsWith('kernel-') && existsSync(join(cache, d, COMPLETE)));
  if (cached) return describe(join(cache, cached), cached.slice('kernel-'.length));
  return describe(...(await fetchKernel(cache)));
}

function describe(dir: string, release: string): GuestKernel {
  return { release, vmlinuz: join(dir, 'boot', `vmlinuz-${release}`), modulesDir: join(dir, 'lib', 'modules', release) };
}

/** The package that the metapackage linux-image-cloud-amd64 stands for today, e.g. linux-image-6.1.0-57-cloud-amd64. */
async function imagePackage(): Promise<string> {
  const depends = async () => (await sh(['apt-cache', 'depends', 'linux-image-cloud-amd64'])).match(/Depends: (linux-image-\S+)/)?.[1];
  const found = (await depends().catch(() => undefined)) ?? (await sh(['apt-get', 'update', '-qq'], { timeoutMs: 300_000 }), await depends());
  if (!found) throw new Error('apt knows no linux-image-cloud-amd64: cannot fetch a kernel for the guests');
  return found;
}

async function fetchKernel(cache: string): Promise<[string, string]> {
  const pkg = await imagePackage();
  const release = pkg.slice('linux-image-'.length);
  return [await unpackedPackage(cache, pkg, `kernel-${release}`), release];
}

/**
 * A Debian package unpacked (not installed) under cache/NAME, fetched once: the kernel, and the kernel NFS server's
 * tools for the server guests (installed on the host, nfs-kernel-server would try to start a server the host kernel
 * does not have).
 */
export async function unpackedPackage(cache: string, pkg: string, name: string): Promise<string> {
  const final = join(cache, name);
  if (existsSync(join(final, COMPLETE))) return final;
  const work = join(cache, `.fetch-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    // As root apt would hand the download to its sandbox user, who cannot write into the cache.
    // apt-get download writes into the working directory: env -C gives it one without a shell. Lists older than the
    // mirror name a version it no longer has: update them once and try again.
    const download = () => sh(['env', '-C', work, 'apt-get', 'download', '-o', 'APT::Sandbox::User=root', pkg], { timeoutMs: 300_000 });
    await download().catch(async () => {
      await sh(['apt-get', 'update', '-qq'], { timeoutMs: 300_000 });
      await download();
    });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    const dir = join(work, 'tree');
    await sh(['dpkg-deb', '-x', join(work, deb), dir], { timeoutMs: 120_000 });
    writeFileSync(join(dir, COMPLETE), `${pkg}\n`);
    // Another lab may have unpacked the same package meanwhile: then its copy stands and ours goes with `work`.
    if (!existsSync(join(final, COMPLETE))) {
      rmSync(final, { recursive: true, force: true });
      renameSync(dir, final);
    }
    return final;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
