#!/usr/bin/env bash
# A lab server as a machine: its power switch, which is also the lab's fence device (the agents' fenceCommand runs
# it), and the fresh mount namespace a machine boots with. Bash, not the lab's TypeScript CLI: a fence device
# confirms in tens of milliseconds, and a Node start would be most of the fence's time on a loaded machine.
#
#   machine.sh power-off NETNS MOUNTNS_FILE BRIDGE_NETNS:PORT...   prints the instant (ms) the links went dark
#   machine.sh power-on NETNS MOUNTNS_FILE ADDRESS LOG [BRIDGE_NETNS:PORT...] -- ARGV...
#                                   the links given up, ADDRESS on sec, ARGV (the agent) started detached; prints its PID
#   machine.sh fresh-mountns NETNS MOUNTNS_FILE
#
# Each runs whole under the server's lock (MOUNTNS_FILE.lock): a power-off that overlapped a power-on (the partner's
# fence command still running when the harness booted the server) killed the processes it had listed before the
# new agent started, then flushed the addresses the boot had just added: an agent running with no address, its
# group "online" behind an address it did not have, and both agents stuck in partner_degraded.
set -uo pipefail

# A machine boots with its own mounts; sysfs mounted from inside the server's network namespace shows that
# namespace's interfaces in /sys/class/net, where the agent reads its links' state. It also gets a /run of its own
# and its own /etc/hosts (private_run, below).
#
# One at a time per server, under its lock (`locked`, below, takes it for every command): the test's power-off and
# the partner's fence command may power the same server off at once, and two runs interleaved here (one unpinning
# the namespace the other was mounting into, or both mounting into one) failed the power-off ("reassociate to
# namespace 'ns/mnt' failed", ": > FILE: Operation not permitted") or left a /run without the lab's directory in
# it. The last run's namespace stands, whole.
fresh_mountns() {
  local netns=$1 file=$2
  umount -l "$file" 2>/dev/null
  : > "$file" &&
    unshare --mount="$file" --propagation slave true &&
    nsenter --mount="$file" --net="/run/netns/$netns" mount -t sysfs sysfs /sys &&
    private_run "$file"
}

# Runs "$@" with the server's lock held; the lock's descriptor is not passed on to what it starts.
locked() {
  local file=$1
  shift
  { flock 9 || return 1; "$@"; } 9>"$file.lock"
}

# A /run of the server's own, empty at each boot as a machine's tmpfs is: rpcbind and rpc.statd (NFSv3 groups) keep
# their socket, lock and pid files at fixed paths there, and two of each on one host would collide (a client would
# reach the other server's rpcbind through its unix socket). The lab's directory (MOUNTNS_FILE's, under /run) is
# bound back in at the same path, from a new directory at each boot (the lab's removal takes them all). The server's
# /etc/hosts names the service addresses (sm-notify sends a name, never an address): lab/mountns.ts writes it as
# SERVER-hosts beside MOUNTNS_FILE.
private_run() {
  local file=$1 labdir server dir
  labdir=$(dirname "$file")
  server=$(basename "$file" .mntns)
  case "$labdir" in /run/*) ;; *) echo "machine.sh: $labdir is not under /run" >&2; return 1 ;; esac
  dir=$(mktemp -d "$labdir/$server-sysrun.XXXXXX") && mkdir -p "$dir${labdir#/run}" &&
    nsenter --mount="$file" mount --bind "$labdir" "$dir${labdir#/run}" &&
    nsenter --mount="$file" mount --rbind "$dir" /run || return 1
  [ ! -f "$labdir/$server-hosts" ] || nsenter --mount="$file" mount --bind "$labdir/$server-hosts" /etc/hosts
}

# In the order a power loss has them: the links go dark first (a killed NFS server whose links were up would have
# its kernel reset the clients' connections, which no power-off does); then every process dies; the machine lets
# go of its disks (the killed processes hold their mount namespace until their last thread has exited: waited
# for), its addresses and its kernel's TCP connections. Those outlive their killed processes in a namespace
# (FIN_WAIT behind the cut links) and, once the server held the same address again, answered a client that
# reconnected from its old port with ACKs of their own instead of a reset: ss -K aborts them.
power_off() {
  local netns=$1 file=$2 link
  shift 2
  for link in "$@"; do ip -n "${link%%:*}" link set "${link#*:}" down || return 1; done
  date +%s%3N
  local pids
  pids=$(ip netns pids "$netns")
  # shellcheck disable=SC2086 # one PID per word
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  local pid tries=0
  for pid in $pids; do
    while [ -e "/proc/$pid" ] && [ $tries -lt 500 ]; do sleep 0.01; tries=$((tries + 1)); done
  done
  # IPv4 only: the kernel's IPv6 link-local addresses come back with the link at boot, and without any, Ganesha
  # ignores its IPv4 Bind_addr and listens on every address.
  ip -n "$netns" -4 addr flush dev pri 2>/dev/null
  ip -n "$netns" -4 addr flush dev sec 2>/dev/null
  nsenter --net="/run/netns/$netns" ss -K -t -a > /dev/null 2>&1
  fresh_mountns "$netns" "$file"
}

# A machine boots: its links come up, its stable address is on sec, and its agent starts (detached, in a session of
# its own, without the lock's descriptor); the rest is the agent's.
power_on() {
  local netns=$1 address=$3 log=$4
  shift 4
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    ip -n "${1%%:*}" link set "${1#*:}" up || return 1
    shift
  done
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || { echo "machine.sh power-on: no command to start" >&2; return 64; }
  # Read whole, not piped into grep -q: under pipefail, ip killed by SIGPIPE once grep has its match reads as absent.
  case "$(ip -n "$netns" -o -4 addr show dev sec)" in
    *" $address "*) ;;
    *) ip -n "$netns" addr add "$address" dev sec || return 1 ;;
  esac
  setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $!
}

case "${1:-}" in
  power-off) shift; [ $# -ge 3 ] || { echo "usage: $0 power-off NETNS MOUNTNS_FILE BRIDGE_NETNS:PORT..." >&2; exit 64; }; locked "$2" power_off "$@" ;;
  power-on) shift; [ $# -ge 6 ] || { echo "usage: $0 power-on NETNS MOUNTNS_FILE ADDRESS LOG [BRIDGE_NETNS:PORT...] -- ARGV..." >&2; exit 64; }; locked "$2" power_on "$@" ;;
  fresh-mountns) shift; [ $# -eq 2 ] || { echo "usage: $0 fresh-mountns NETNS MOUNTNS_FILE" >&2; exit 64; }; locked "$2" fresh_mountns "$@" ;;
  *) echo "usage: $0 power-off|power-on|fresh-mountns ..." >&2; exit 64 ;;
esac
