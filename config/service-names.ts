// An NFSv3 group's lock clients (every group's, with the knfsd profile) learn of a move from sm-notify, which sends the name of the group's service address,
// never the address itself (nfs-utils refuses an address without a reverse mapping: "my_name is unusable"), so that
// address needs a name on both servers. `hanfs config check` looks it up as sm-notify will (getnameinfo, a name
// required), and says so in a note (the file may be checked on a machine that is not a server): at a takeover it is
// too late, the notification fails and the group is restarted until it is given up.
import { lookupService } from 'node:dns/promises';
import { addressOf } from './ipv4.ts';
import type { PairConfig } from './schema.ts';

/** The name of an address, or a thrown error (getnameinfo's, as Node words it: ENOTFOUND, EAI_AGAIN...). */
export type NameLookup = (ip: string) => Promise<string>;

const getnameinfo: NameLookup = async (ip) => (await lookupService(ip, 0)).hostname;

/** One line per NFSv3 group (every group of a knfsd pair) whose service address has no name on this machine. */
export async function serviceNameProblems(config: PairConfig, lookup: NameLookup = getnameinfo): Promise<string[]> {
  const knfsd = config.nfs.profile === 'knfsd';
  const nfsv3 = Object.entries(config.nodes).filter(([, node]) => knfsd || node.protocols.includes(3));
  return (await Promise.all(nfsv3.map(async ([name, node]) => {
    const ip = addressOf(node.primary.address);
    try {
      await lookup(ip);
      return [];
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return [`nodes.${name}.${knfsd ? 'primary.address' : 'protocols'}: NFSv3 clients learn of a move from sm-notify, which sends the name of ${ip}, never the `
        + `address, and ${ip} has no name on this machine (${why}): every notification would fail here; add it to /etc/hosts `
        + 'or DNS on both servers'];
    }
  }))).flat();
}
