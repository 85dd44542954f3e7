// Which kernel modules the guest loads, and in what order. The cloud kernel builds virtio and NFS as modules; the
// initramfs has no modprobe and no modules.dep, so we read each module's own `depends=` string (as modinfo would)
// and load dependencies first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The NIC and the NFS client of every version; everything they depend on comes along. */
export const WANTED_MODULES = ['virtio_pci', 'virtio_net', 'nfsv4', 'nfsv3'] as const;
/** A server guest's: the NIC, the shared disk and the kernel NFS server (ext4 is built into the cloud kernel). */
export const SERVER_MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk', 'nfsd'] as const;

/** name → path of every module in the tree (a module's name is its file name, with - and _ the same). */
export function indexModules(modulesDir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ko')) index.set(entry.name.slice(0, -3).replaceAll('-', '_'), path);
    }
  };
  walk(join(modulesDir, 'kernel'));
  return index;
}

/** The `depends=` list that modpost writes into a module's .modinfo section. */
export function dependsOf(ko: Buffer): string[] {
  const text = ko.toString('latin1');
  const at = text.indexOf('\0depends=');
  if (at < 0) return [];
  const value = text.slice(at + '\0depends='.length, text.indexOf('\0', at + 1));
  return value.split(',').filter(Boolean).map((m) => m.replaceAll('-', '_'));
}

/** `wanted` and all they depend on, each after its dependencies. */
export function loadOrder(wanted: readonly string[], index: Map<string, string>): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new Error(`module dependency cycle at ${name}`);
    const path = index.get(name);
    if (!path) throw new Error(`the guest kernel has no module ${name}`);
    visiting.add(name);
    for (const dep of dependsOf(readFileSync(path))) visit(dep);
    visiting.delete(name);
    order.push(name);
  };
  for (const name of wanted) visit(name);
  return order;
}
