#!/bin/busybox sh
# /init-server of a kernel-server guest (lab/guest/, booted with rdinit=/init-server): Debian's cloud kernel running
# its own NFS server (nfsd.ko) on a lab network, with the lab's shared disk as /dev/vda. It loads the modules, takes
# its own address, brings up what a machine runs before any NFS virtual server (the nfsd and rpc_pipefs file
# systems, rpcbind, rpc.mountd), says `ready`, and then runs the commands the host sends: the knfsd profile's
# command lines, one at a time, each answered with its exit code. The host is the lab's own test code: a command is
# a line of shell words it quoted itself.
#
#   ttyS0  console: the kernel's messages and ours (the host's console.log)
#   ttyS1  results: `ready ...`, `done ID rc=N`, `out ID LINE` (the command's output, up to 40 lines)
#   ttyS2  control: `run ID WORDS...`, `poweroff`
. /lib/hanfs-boot.sh order-server
for _ in $(seq 100); do [ -e /dev/vda ] && break; usleep 100000; done
[ -e /dev/vda ] || fail "no shared disk /dev/vda"
mkdir -p /var/lib/nfs/rpc_pipefs /srv
: >/var/lib/nfs/etab
: >/var/lib/nfs/rmtab
: >/etc/exports

mount -t nfsd nfsd /proc/fs/nfsd || fail "mount nfsd"
mount -t rpc_pipefs rpc_pipefs /var/lib/nfs/rpc_pipefs || fail "mount rpc_pipefs"
# The NFSv4 lease and grace of the kernel server, as /etc/nfs.conf gives them to rpc.nfsd (the knfsd profile's way).
printf '[nfsd]\nlease-time=%s\ngrace-time=%s\n' "$hanfs_lease" "$hanfs_lease" >/etc/nfs.conf
rpcbind -w || fail "rpcbind"
rpc.mountd || fail "rpc.mountd"
say "ready server addr=$hanfs_addr lease=$hanfs_lease"

while read -r cmd id words <&6; do
  case "$cmd" in
    run)
      # The words are the host's, quoted for sh: eval runs them as one argument vector.
      eval "$words" >/tmp/out 2>&1 </dev/null
      rc=$?
      head -n 40 /tmp/out | while IFS= read -r line; do echo "out $id $line" >&5; done
      say "done $id rc=$rc"
      ;;
    poweroff) say "bye"; poweroff -f ;;
    '') ;;
    *) say "unknown-command $cmd" ;;
  esac
done
fail "control port closed"
