// keepalived for the lab's servers, as the benchmarks run it: one VRRP instance per service address, on the same
// interfaces the agents use (server1's address on net A: server1 `pri` first, server2 `sec` as backup; server2's on
// net B the other way round), and a notify script that runs hanfs's own group steps (`hanfs group start|stop`)
// while keepalived itself owns the address. Pure text generation: bench/keepalived-lab.ts writes and runs it.

export interface KeepalivedSetting {
  /** The system's name in the results, e.g. keepalived-default. */
  name: string;
  version: 2 | 3;
  advertSeconds: number;
}

/** Debian's keepalived 2.2.7 as installed: VRRPv2, one advertisement a second. */
export const KEEPALIVED_DEFAULT: KeepalivedSetting = { name: 'keepalived-default', version: 2, advertSeconds: 1 };
/** A fast setting people use: VRRPv3 (centisecond adverts), 0.1 s. */
export const KEEPALIVED_FAST: KeepalivedSetting = { name: 'keepalived-fast', version: 3, advertSeconds: 0.1 };

export interface VrrpInstance {
  /** The group whose service address it carries; the instance is named after it, so the notify script knows it. */
  group: string;
  interface: string;
  /** With prefix length, e.g. 198.51.100.11/24. */
  address: string;
  virtualRouterId: number;
  priority: number;
  initialState: 'MASTER' | 'BACKUP';
}

export const OWNER_PRIORITY = 150;
/** keepalived's default priority: the backup's, which sets the skew of its master-down timer. */
export const BACKUP_PRIORITY = 100;

/**
 * How long a backup waits without advertisements before it becomes master (RFC 3768 / 5798): 3 × advert + skew,
 * skew (256 − priority)/256 s in VRRPv2 and (256 − priority)/256 × advert in VRRPv3.
 */
export function masterDownMs(setting: KeepalivedSetting, backupPriority = BACKUP_PRIORITY): number {
  const skew = ((256 - backupPriority) / 256) * (setting.version === 2 ? 1 : setting.advertSeconds);
  return Math.round((3 * setting.advertSeconds + skew) * 1000);
}

/**
 * A VRRPv3 setting whose master-down time is as close as keepalived allows (adverts in centiseconds) to
 * `detectionMs`: to compare false takeovers with hanfs at the same detection time.
 */
export function settingForDetection(detectionMs: number, backupPriority = BACKUP_PRIORITY): KeepalivedSetting {
  const exact = detectionMs / 1000 / (3 + (256 - backupPriority) / 256);
  const advertSeconds = Math.max(0.01, Math.round(exact * 100) / 100);
  return { name: `keepalived-${detectionMs}ms`, version: 3, advertSeconds };
}

/** The two instances as one server of the lab pair runs them: its own address as owner, its partner's as backup. */
export function labInstances(server: string, servers: readonly [string, string], addresses: Readonly<Record<string, string>>): VrrpInstance[] {
  return servers.map((group) => {
    const own = group === server;
    const address = addresses[group];
    if (!address) throw new Error(`no service address for ${group}`);
    return {
      group,
      interface: own ? 'pri' : 'sec',
      address,
      // The address's last byte: 11 for server1's, 12 for server2's; unique per network, which is all VRRP needs.
      virtualRouterId: Number(address.split('/')[0]!.split('.')[3]),
      priority: own ? OWNER_PRIORITY : BACKUP_PRIORITY,
      initialState: own ? 'MASTER' : 'BACKUP',
    };
  });
}

export function keepalivedConfig(o: { routerId: string; setting: KeepalivedSetting; instances: VrrpInstance[]; notify: string }): string {
  const s = o.setting;
  const notify = quote(o.notify);
  const instance = (i: VrrpInstance) => `vrrp_instance ${i.group} {
  state ${i.initialState}
  interface ${i.interface}
  virtual_router_id ${i.virtualRouterId}
  priority ${i.priority}
  advert_int ${s.advertSeconds}
  virtual_ipaddress {
    ${i.address} dev ${i.interface}
  }
  notify ${notify}
}
`;
  return `# keepalived for ${o.routerId}, setting ${s.name}: VRRPv${s.version}, advert ${s.advertSeconds} s (written by the benchmarks)
global_defs {
  router_id ${o.routerId}
  vrrp_version ${s.version}
  script_user root
  enable_script_security
}
${o.instances.map(instance).join('')}`;
}

/**
 * keepalived runs the notify script with "INSTANCE name state priority" and neither waits for it nor looks at its
 * exit status (fire and forget): two notifications in quick succession run side by side. The script logs the
 * transition as a JSON line with millisecond time (keepalived's own log has whole seconds), then hands over to
 * `hanfs group`, whose JSON lines go to the same log as the agent's would.
 */
export function notifyScript(o: { server: string; log: string; hanfs: string[]; config: string }): string {
  const hanfs = [...o.hanfs.map(shellWord), 'group', '"$op"', '"$2"', '--config', shellWord(o.config), '--node', shellWord(o.server), '--skip', 'service_ip'];
  return `#!/bin/sh
# keepalived's notify script for ${o.server} (written by the benchmarks): $1 INSTANCE, $2 the instance, named after
# the group whose address it carries, $3 its new state, $4 the priority.
at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
printf '{"timestamp":"%s","event":"vrrp","group":"%s","message":"%s %s"}\\n' "$at" "$2" "$2" "$3" >> ${shellWord(o.log)}
case "$3" in
  MASTER) op=start ;;
  *) op=stop ;;
esac
exec ${hanfs.join(' ')} >> ${shellWord(o.log)} 2>&1
`;
}

function quote(path: string): string {
  if (/["\s]/.test(path)) throw new Error(`keepalived script path with blanks or quotes: ${path}`);
  return `"${path}"`;
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
