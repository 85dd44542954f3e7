// Rules about what the file says, not what it resolves to: once defaults are filled in, a key given and a key left
// out look the same. They run on the YAML as written, beside the schema.
import type { z } from 'zod';

/** What the knfsd profile does with the NFSv4 lease and grace times: nothing, the kernel server has its own. */
const KNFSD_TIMES = ['leaseSeconds', 'graceSeconds'] as const;

/** Issues in the shape of the schema's, for config/errors.ts to place and phrase. */
export function checkPairInput(input: unknown): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const nfs = isMapping(input) ? input.nfs : undefined;
  if (isMapping(nfs) && nfs.profile === 'knfsd') {
    for (const key of KNFSD_TIMES) {
      if (!(key in nfs)) continue;
      issues.push({
        code: 'custom',
        path: ['nfs', key],
        message: `no ${key} with the knfsd profile (the kernel server takes its lease and grace times from /proc/fs/nfsd, `
          + 'which lease-time and grace-time in the [nfsd] section of /etc/nfs.conf set)',
        input: nfs[key],
      });
    }
  }
  return issues;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
