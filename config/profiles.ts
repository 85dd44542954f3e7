// Default command templates: argv arrays whose {placeholders} the agent fills in before running them.
// A pair's config may replace any template its profile knows (nfs.commands).

export const nfsProfiles = ['ganesha', 'knfsd'] as const;
export type NfsProfile = (typeof nfsProfiles)[number];

export type CommandTemplate = readonly string[];
export type CommandTable = Readonly<Record<string, CommandTemplate>>;

export const commonCommands: CommandTable = {
  addressAdd: ['ip', 'addr', 'add', '{address}', 'dev', '{interface}'],
  addressDel: ['ip', 'addr', 'del', '{address}', 'dev', '{interface}'],
  arpAnnounce: ['arping', '-U', '-c', '1', '-I', '{interface}', '{ip}'],
  arpProbe: ['arping', '-D', '-c', '1', '-w', '1', '-I', '{interface}', '{ip}'],
  journalReplay: ['e2fsck', '-p', '-E', 'journal_only', '{device}'],
  fsck: ['e2fsck', '-p', '{device}'],
  mount: ['mount', '-t', '{fsType}', '{device}', '{mountPoint}'],
  umount: ['umount', '{mountPoint}'],
};

/**
 * NFSv3 lock recovery (agent/resources/nsm.ts), for Ganesha's NFSv3 groups and for every knfsd group: the machine's
 * rpcbind and rpc.statd when they do not run yet (both background themselves), and the reboot notification from
 * the group's address with the group's own state directory.
 */
const nsmCommands: CommandTable = {
  rpcbind: ['rpcbind', '-w'],
  statd: ['rpc.statd', '--no-notify', '-P', '{stateDir}', '-H', '{callout}'],
  smNotify: ['sm-notify', '-f', '-v', '{ip}', '-P', '{stateDir}'],
};

export const profileCommands: Readonly<Record<NfsProfile, CommandTable>> = {
  ganesha: {
    start: ['ganesha.nfsd', '-F', '-f', '{configFile}', '-L', '{logFile}', '-p', '{pidFile}'],
    reloadExports: ['kill', '-HUP', '{pid}'],
    // After the group's Ganesha stopped: the connections the kernel still keeps on the group's address.
    forgetConnections: ['ss', '-K', '-t', 'src', '{ip}'],
    ...nsmCommands,
  },
  knfsd: {
    exportAdd: ['exportfs', '-o', '{options}', '{clients}:{path}'],
    exportRemove: ['exportfs', '-u', '{clients}:{path}'],
    // The NFSv4 client tracker, in the foreground (the agent runs it as a daemon), its records on the group's disk.
    clientTracker: ['nfsdcld', '-F', '-s', '{stateDir}'],
    serverStart: ['rpc.nfsd', '8'],
    serverStop: ['rpc.nfsd', '0'],
    ...nsmCommands,
  },
};

/**
 * The placeholders each command is run with: what the resource code passes to its template (agent/resources). A
 * template may use these and no others; `hanfs config check` holds every configured template to them.
 */
export const commandPlaceholders: Readonly<Record<string, readonly string[]>> = {
  addressAdd: ['address', 'ip', 'interface'],
  addressDel: ['address', 'ip', 'interface'],
  arpAnnounce: ['address', 'ip', 'interface'],
  arpProbe: ['address', 'ip', 'interface'],
  journalReplay: ['device', 'mountPoint', 'fsType'],
  fsck: ['device', 'mountPoint', 'fsType'],
  mount: ['device', 'mountPoint', 'fsType'],
  umount: ['device', 'mountPoint', 'fsType'],
  start: ['configFile', 'logFile', 'pidFile'],
  reloadExports: ['pid'],
  exportAdd: ['options', 'clients', 'path'],
  exportRemove: ['options', 'clients', 'path'],
  clientTracker: ['stateDir'],
  serverStart: [],
  serverStop: [],
  forgetConnections: ['address', 'ip'],
  rpcbind: [],
  statd: ['stateDir', 'callout'],
  smNotify: ['address', 'ip', 'stateDir'],
};

/** The placeholders of the fence command (agent/daemon/fence-command.ts): this node and the partner. */
export const fencePlaceholders: readonly string[] = ['node', 'partner'];

export function defaultCommands(profile: NfsProfile): CommandTable {
  return { ...commonCommands, ...profileCommands[profile] };
}
