// The OCF resource agent's description (`hanfs ocf meta-data`): its parameters with their defaults and its actions
// with their timeouts, in OCF 1.1's XML. One table here is what the meta-data prints, what `hanfs ocf` reads from
// the environment (OCF_RESKEY_<name>) and what the tests check, so that a parameter cannot be read but not listed.
// The XML stays within ra-api-1.dtd (which ocf-tester validates against) as well as OCF 1.1's metadata.rng: hence
// no reload-agent action and no reloadable or unique-group attributes, which the DTD does not know.

export const OCF_AGENT_NAME = 'vserver';
export const OCF_PROVIDER = 'hanfs';

export interface OcfParameter {
  name: string;
  required: boolean;
  unique: boolean;
  type: 'string' | 'integer' | 'boolean' | 'time';
  default: string;
  shortdesc: string;
  longdesc: string;
}

export const OCF_PARAMETERS: readonly OcfParameter[] = [
  {
    name: 'group', required: true, unique: true, type: 'string', default: '',
    shortdesc: 'The NFS virtual server (a node name of the pair configuration)',
    longdesc: 'The NFS virtual server this resource runs: the name of the node in the pair configuration whose '
      + 'disks, exports and service address (its primary address) it serves. One resource per virtual server.',
  },
  {
    name: 'config', required: false, unique: false, type: 'string', default: '/etc/hanfs/pair.yaml',
    shortdesc: 'The hanfs pair configuration file',
    longdesc: 'The hanfs pair configuration that describes the virtual server, the same file on every cluster node '
      + '(owned by root, not writable by others; hanfs config check checks it). Its timing, mailbox, keys and '
      + 'fence command are the pair agent\'s and are not used here: Pacemaker decides and fences.',
  },
  {
    name: 'node', required: false, unique: false, type: 'string', default: '',
    shortdesc: 'This machine\'s node name in the pair configuration',
    longdesc: 'Which node of the pair configuration this machine is, for the interface names: the service address '
      + 'goes on its primary interface for its own group and on its secondary one for the other group. Empty: the '
      + 'node whose hostname is this machine\'s; on a machine that is none of them, the group\'s own node.',
  },
  {
    name: 'interface', required: false, unique: false, type: 'string', default: '',
    shortdesc: 'Interface for the service address',
    longdesc: 'The interface the service address goes on, instead of the one the pair configuration names for this '
      + 'node (see node). Empty: from the configuration.',
  },
  {
    name: 'skip', required: false, unique: false, type: 'string', default: '',
    shortdesc: 'Resource kinds left to other resources',
    longdesc: 'Comma-separated resource kinds this resource leaves alone, e.g. "service_ip,arp" when an IPaddr2 '
      + 'resource of the same group owns the address. Kinds: log_replay, filesystem, nfs_server, exports, '
      + 'service_ip, arp, nsm_notify. Empty: all of them.',
  },
];

export interface OcfAction {
  name: string;
  timeout: string;
  interval?: string;
  depth?: string;
}

/**
 * A start replays journals (e2fsck, bounded at 600 s per disk by the resource layer, but seconds in practice) and
 * waits up to 10 s for the NFS server to listen; a stop ends Ganesha (5 s before SIGKILL) and each busy mount's
 * holders (10 s bound per disk). Pacemaker fences the node when a stop times out, so the stop's timeout is generous.
 */
export const OCF_ACTIONS: readonly OcfAction[] = [
  { name: 'start', timeout: '120s' },
  { name: 'stop', timeout: '60s' },
  { name: 'monitor', timeout: '30s', interval: '10s', depth: '0' },
  { name: 'monitor', timeout: '60s', interval: '60s', depth: '10' },
  { name: 'validate-all', timeout: '30s' },
  { name: 'reload', timeout: '30s' },
  { name: 'meta-data', timeout: '10s' },
];

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function ocfMetadata(version: string): string {
  const params = OCF_PARAMETERS.map((p) => `    <parameter name="${p.name}" required="${p.required ? 1 : 0}" unique="${p.unique ? 1 : 0}">
      <longdesc lang="en">${escapeXml(p.longdesc)}</longdesc>
      <shortdesc lang="en">${escapeXml(p.shortdesc)}</shortdesc>
      <content type="${p.type}" default="${escapeXml(p.default)}"/>
    </parameter>`).join('\n');
  const actions = OCF_ACTIONS.map((a) => `    <action name="${a.name}" timeout="${a.timeout}"${a.interval ? ` interval="${a.interval}"` : ''}${a.depth ? ` depth="${a.depth}"` : ''}/>`).join('\n');
  return `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="${OCF_AGENT_NAME}" version="${escapeXml(version)}">
  <version>1.1</version>
  <longdesc lang="en">One hanfs NFS virtual server as a cluster resource, with hanfs's own resource layer (the one its pair agent runs): start replays each ext4 disk's journal (e2fsck), mounts the disks, starts the group's NFS-Ganesha bound to its service address with its NFSv4 recovery records on the group's disk, adds the address, sends gratuitous ARPs and tickle ACKs to the clients recorded on the disk, and notifies NSM (knfsd profile); stop undoes it in reverse, ending what keeps a disk busy. Start and stop are idempotent; a stop that fails returns an error, on which Pacemaker fences the node. Monitor depth 0 (LooksAlive) checks that the disks are mounted, the NFS server runs and the address is up; depth 10 (IsAlive) also that each disk's device is there and its file system writable (a file written, fsync'ed and read back) and that the NFS server listens on the address. Reload applies the configuration file's exports to the running server (Ganesha rereads them on SIGHUP). Requires fencing (stonith-enabled) and one virtual server per resource.</longdesc>
  <shortdesc lang="en">hanfs NFS virtual server (disks, NFS server, exports, service address)</shortdesc>
  <parameters>
${params}
  </parameters>
  <actions>
${actions}
  </actions>
</resource-agent>
`;
}
