// A listening address as the config writes it: HOST:PORT, with an IPv6 host in brackets ("[::1]:9405").

export const LISTEN_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function parseListen(value: string): { host: string; port: number } | null {
  const m = LISTEN_PATTERN.exec(value);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
