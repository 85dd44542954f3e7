// What e2fsck's exit code means for starting a group. The code is a bit mask (e2fsck(8)): 1 errors corrected,
// 2 errors corrected and the system should be rebooted, 4 errors left uncorrected, 8 operational error,
// 16 usage error, 32 cancelled, 128 shared-library error. A file system e2fsck has repaired can be mounted;
// "reboot advised" is about a mounted root file system, which a shared data disk never is, so it is only logged.
export type FsckVerdict = 'ok' | 'reboot_advised' | 'failed';

export function e2fsckVerdict(code: number | null): FsckVerdict {
  if (code === null || code >= 4) return 'failed';
  return code & 2 ? 'reboot_advised' : 'ok';
}
