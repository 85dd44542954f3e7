# Sourced by both guests' init (init.sh, init-server.sh) as /lib/hanfs-boot.sh: what every lab guest does first.
# The busybox applets, the kernel's file systems, the serial ports (5: results, 6: control), say and fail, the
# modules listed in /lib/modules/$1 loaded in their order, and this guest's address on eth0 once the NIC is there.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/sbin:/usr/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /mnt /run /var/run /var/lib/nfs/sm /var/lib/nfs/sm.bak

stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 -echo
exec 5>/dev/ttyS1 6</dev/ttyS2

say() { echo "$*" >&5; echo "hanfs-guest: $*" >/dev/console; }
fail() {
  say "failed $*"
  poweroff -f
}

for m in $(cat "/lib/modules/$1"); do
  insmod "/lib/modules/$m.ko" || fail "insmod $m"
done

for _ in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; usleep 100000; done
[ -e /sys/class/net/eth0 ] || fail "no eth0"
ip link set lo up
ip addr add "$hanfs_addr" dev eth0 || fail "address $hanfs_addr"
ip link set eth0 up
