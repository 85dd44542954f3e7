#!/bin/busybox sh
# /init of a kernel-client guest (lab/guest/): Debian's cloud kernel with this busybox initramfs, one NIC on a lab
# network. It loads the modules, takes its address, mounts the export as a user would (a hard mount with the default
# options), says `ready`, and then runs what the host asks for on the control port. The kernel passes its unknown
# command line parameters (hanfs_*) to us as environment variables.
#
#   ttyS0  console: the kernel's messages and ours (the host's console.log)
#   ttyS1  results: one line per operation, `op=write file=w12 ok=1 startMs=... durMs=...`, and replies
#   ttyS2  control: the host writes `start`, `stop`, `verify`, `clean`, `poweroff`, one a line
. /lib/hanfs-boot.sh order

# Wall-clock milliseconds in T, without a fork (busybox ash has EPOCHREALTIME, "s.uuuuuu").
now() {
  _e=$EPOCHREALTIME
  T=$(( ${_e%.*} * 1000 + (1${_e#*.} - 1000000) / 1000 ))
}

# op NAME FILE OK START: one result line, timed from START to now.
op() {
  now
  echo "op=$1 file=$2 ok=$3 startMs=$4 durMs=$((T - $4))" >&5
}

# pace START EVERY: sleeps out the rest of EVERY ms after START.
pace() {
  now
  _rest=$(($1 + $2 - T))
  [ "$_rest" -gt 0 ] && usleep $((_rest * 1000))
}

if [ "$hanfs_vers" = 3 ]; then
  # NFSv3 locks: the kernel's lockd needs rpc.statd, which registers with rpcbind.
  rpcbind -w || fail "rpcbind"
  rpc.statd --no-notify || fail "rpc.statd"
  fstype=nfs
else
  fstype=nfs4
fi

now
mounted_from=$T
for _ in $(seq 30); do
  mount -t $fstype -o "vers=$hanfs_vers,addr=$hanfs_server" "$hanfs_server:$hanfs_export" /mnt && break
  sleep 1
done
grep -q ' /mnt ' /proc/mounts || fail "mount $hanfs_server:$hanfs_export vers=$hanfs_vers"
now
say "ready mount=$hanfs_server:$hanfs_export vers=$hanfs_vers mountMs=$((T - mounted_from)) options=$(grep ' /mnt ' /proc/mounts | cut -d' ' -f4)"

PAD=$(dd if=/dev/zero bs=4000 count=1 2>/dev/null | tr '\0' x)

# A new file every 100 ms: about 4 KB written and fsynced (dd conv=fsync), then read back past the page cache.
writer() {
  n=0
  while [ ! -e /tmp/stop ]; do
    n=$((n + 1))
    f="w$n"
    now
    began=$T
    if printf '%s %s\n' "$f" "$PAD" | dd of="$DIR/$f" bs=65536 conv=fsync 2>/dev/null; then ok=1; else ok=0; fi
    op write "$f" $ok $began
    if [ $ok = 1 ]; then
      echo "$f" >>/tmp/written
      now
      t0=$T
      if [ "$(dd if="$DIR/$f" bs=65536 iflag=direct 2>/dev/null)" = "$f $PAD" ]; then ok=1; else ok=0; fi
      op read "$f" $ok $t0
    fi
    pace $began 100
  done
}

# A read stream: 64 KiB at a time through a 1 MiB file, past the page cache, one read every 100 ms.
stream() {
  k=0
  while [ ! -e /tmp/stop ]; do
    now
    began=$T
    got=$(dd if="$DIR/stream.dat" bs=65536 count=1 skip=$k iflag=direct 2>/dev/null | wc -c)
    if [ "$got" = 65536 ]; then ok=1; else ok=0; fi
    op stream "stream.dat@$k" $ok $began
    k=$(((k + 1) % 16))
    pace $began 100
  done
}

start() {
  DIR="/mnt/$hanfs_name.$EPOCHSECONDS"
  err=$(mkdir -p "$DIR" 2>&1) || { say "start-failed mkdir $DIR: $err"; return; }
  dd if=/dev/urandom of="$DIR/stream.dat" bs=65536 count=16 conv=fsync 2>/dev/null || { say "start-failed stream.dat"; return; }
  rm -f /tmp/stop
  : >/tmp/written
  writer &
  workers="$!"
  stream &
  workers="$workers $!"
  hanfs-guest-io keep open "$DIR/open.dat" 100 none >&5 &
  helpers="$!"
  hanfs-guest-io keep flock "$DIR/flock.dat" 200 flock >&5 &
  helpers="$helpers $!"
  hanfs-guest-io keep fcntl "$DIR/fcntl.dat" 200 fcntl >&5 &
  helpers="$helpers $!"
  say "started dir=$DIR"
}

stop() {
  touch /tmp/stop
  kill -TERM $helpers 2>/dev/null
  wait $workers $helpers
  say "stopped"
}

# Every file whose write and fsync were acknowledged, read back past the page cache.
verify() {
  files=0
  bad=0
  for f in $(cat /tmp/written); do
    files=$((files + 1))
    now
    t0=$T
    if [ "$(dd if="$DIR/$f" bs=65536 iflag=direct 2>/dev/null)" = "$f $PAD" ]; then ok=1; else ok=0; bad=$((bad + 1)); fi
    op verify "$f" $ok $t0
  done
  say "verified files=$files bad=$bad"
}

# The trial's files, once verified: the fault matrix runs dozens of trials against one small lab disk.
clean() {
  if rm -rf "$DIR"; then say "cleaned"; else say "clean-failed $DIR"; fi
}

while read -r cmd <&6; do
  case "$cmd" in
    start) start ;;
    stop) stop ;;
    verify) verify ;;
    clean) clean ;;
    poweroff) say "bye"; poweroff -f ;;
    '') ;;
    *) say "unknown-command $cmd" ;;
  esac
done
fail "control port closed"
