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
    issues.push(...knfsdProtocols(input));
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

/** Versions per group or export are Ganesha's: the one kernel server serves what /etc/nfs.conf enables, to every export. */
function knfsdProtocols(input: unknown): z.core.$ZodIssue[] {
  const nodes = isMapping(input) && isMapping(input.nodes) ? Object.entries(input.nodes) : [];
  const given = nodes.flatMap(([name, node]) => {
    if (!isMapping(node)) return [];
    const exports = Array.isArray(node.exports) ? node.exports : [];
    return [
      ...('protocols' in node ? [{ path: ['nodes', name, 'protocols'], value: node.protocols }] : []),
      ...exports.flatMap((exported, index) => (isMapping(exported) && 'protocols' in exported
        ? [{ path: ['nodes', name, 'exports', index, 'protocols'], value: exported.protocols }] : [])),
    ];
  });
  return given.map(({ path, value }) => ({
    code: 'custom',
    path,
    message: 'no protocols with the knfsd profile (the kernel server serves the NFS versions that vers3 and vers4 in the '
      + '[nfsd] section of /etc/nfs.conf enable, to every export)',
    input: value,
  }));
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
