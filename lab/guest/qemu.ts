// The QEMU command line of a kernel guest (an NFS client, or a kernel NFS server with the shared disk). TCG, not KVM: /dev/kvm exists here but nested KVM fails. QEMU runs
// in the guest's lab network namespace (nsenter --net only: `ip netns exec` would hand it a copy of the host's mount
// table, and with it the servers' mount namespaces), where its tap is enslaved to that network's bridge.
import type { GuestImage } from './initramfs.ts';
import { guestFile, type Guest } from './registry.ts';
import { nsName } from '../topology.ts';

/** The name QEMU runs under; cleanup checks it in /proc/PID/cmdline before it kills a PID. */
export function qemuName(prefix: string, guest: Pick<Guest, 'name'>): string {
  return `hanfs-${prefix}-${guest.name}`;
}

/** Locally administered, one per guest index (the nets are separate bridges: two labs never share one). */
function mac(guest: Guest): string {
  return `52:54:00:4e:${guest.net === 'neta' ? '0a' : '0b'}:${guest.index.toString(16).padStart(2, '0')}`;
}

/** The guest's /init reads the hanfs_* parameters, which the kernel hands it as environment variables. */
function kernelCommandLine(guest: Guest): string {
  const common = ['console=ttyS0', 'panic=-1', `hanfs_name=${guest.name}`, `hanfs_addr=${guest.address}`];
  if (guest.serves) return [...common, 'rdinit=/init-server', `hanfs_lease=${guest.serves.leaseSeconds}`].join(' ');
  return [...common, `hanfs_server=${guest.server}`, `hanfs_export=${guest.export}`, `hanfs_vers=${guest.vers}`].join(' ');
}

/**
 * A server guest's shared disk: the same image file in every server guest, as a dual-ported disk is. Through the
 * host's page cache (writethrough: a write the guest saw complete is in the file) without QEMU's image lock, which
 * would refuse the second server; only one guest mounts it at a time, and a powered-off guest writes nothing more.
 */
function diskArgv(guest: Guest): string[] {
  return guest.serves ? ['-drive', `file=${guest.serves.disk},if=virtio,format=raw,cache=writethrough,file.locking=off`] : [];
}

export function qemuArgv(prefix: string, guest: Guest, image: GuestImage): string[] {
  return ['nsenter', `--net=/run/netns/${nsName(prefix, guest.net)}`,
    'qemu-system-x86_64', '-name', qemuName(prefix, guest),
    '-accel', 'tcg', '-cpu', 'max', '-m', '256', '-nographic', '-no-reboot', '-monitor', 'none',
    '-kernel', image.kernel, '-initrd', image.initramfs, '-append', kernelCommandLine(guest),
    ...diskArgv(guest),
    '-netdev', `tap,id=n0,ifname=${guest.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n0,mac=${mac(guest)}`,
    // ttyS0 console, ttyS1 results, ttyS2 control (see init.sh).
    '-serial', `file:${guestFile(prefix, guest.name, 'console.log')}`,
    '-serial', `file:${guestFile(prefix, guest.name, 'results.log')}`,
    '-serial', `unix:${guestFile(prefix, guest.name, 'control.sock')},server=on,wait=off`,
  ];
}
