// An export's `clients`: one client, or for Ganesha a comma-separated list of them (its CLIENT block's Clients).
// The same rule serves `hanfs config check` and the generator of Ganesha's config, so what passes one passes both.

/** One client as Ganesha's parser takes it bare: a host, an address, a network, a wildcard, an @netgroup. */
const CLIENT = /^[A-Za-z0-9.:/*?@_-]+$/;

/** The entries of a comma-separated list, spaces around the commas allowed. */
export function clientEntries(clients: string): string[] {
  return clients.split(',').map((entry) => entry.trim());
}

/** Why `clients` cannot be Ganesha's client list (and what was probably meant), or null when it can. */
export function ganeshaClientsProblem(clients: string): { expected: string; hint?: string } | null {
  const entries = clientEntries(clients);
  if (entries.every((entry) => CLIENT.test(entry))) return null;
  const words = entries.flatMap((entry) => entry.split(/\s+/)).filter((word) => word !== '');
  const spaced = words.length > entries.length && words.every((word) => CLIENT.test(word));
  return {
    expected: 'clients separated by commas, each a host, an address, a network like 198.51.100.0/24, a wildcard or an @netgroup',
    ...(spaced ? { hint: `did you mean "${words.join(', ')}"?` } : {}),
  };
}

/** Why `clients` cannot go into exportfs's CLIENT:PATH (one client per export), or null when it can. */
export function knfsdClientProblem(clients: string): { expected: string } | null {
  if (CLIENT.test(clients)) return null;
  return { expected: 'one client (a host, an address, a network, a wildcard or an @netgroup): the knfsd profile exports each export to one client' };
}
