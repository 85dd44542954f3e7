// A lease Ganesha accepts but Linux clients do not live with. Ganesha 4.3 judges a lease in whole seconds
// (time(NULL) in nfs4_lease.c), so a client silent for just over lease − 1 s may be expired, and it answers that
// client's next SEQUENCE with NFS4ERR_EXPIRED, which a Linux client holding no stateid for the call returns as EIO
// (seen in the lab: a stat of the mount's root, 1.3 s after the client's last call, with a 2 s lease). A Linux
// client that holds no state checks its lease no sooner than 5 s after its last renewal (nfs4renewd.c) and then
// recovers before its next call: a lease over 6 s is out of reach. A note, not an error: the lab runs 2 s where
// its clients never sit idle, to keep its tests short.
import type { PairConfig } from './schema.ts';

export const LINUX_SAFE_LEASE_SECONDS = 7;

export function leaseNotes(config: PairConfig): string[] {
  const { profile, leaseSeconds } = config.nfs;
  if (profile !== 'ganesha' || leaseSeconds >= LINUX_SAFE_LEASE_SECONDS) return [];
  return [`nfs.leaseSeconds: ${leaseSeconds} s: a Linux NFSv4 client that holds no open file and sends nothing for just over `
    + `${leaseSeconds - 1} s gets EIO at its next call (Ganesha expires it in whole seconds, Linux checks its lease only every `
    + `5 s); use ${LINUX_SAFE_LEASE_SECONDS} or more`];
}
