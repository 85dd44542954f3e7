// IPv4 arithmetic on "a.b.c.d/len" strings the schema has already validated.

export function addressOf(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}

export function subnetOf(cidr: string): string {
  const [address = '', prefix = '32'] = cidr.split('/');
  const length = Number(prefix);
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  // A shift by 32 is a shift by 0 in JavaScript, so /0 needs its own mask.
  const mask = length === 0 ? 0 : ~0 << (32 - length);
  const network = (value & mask) >>> 0;
  const octets = [24, 16, 8, 0].map((shift) => (network >>> shift) & 255);
  return `${octets.join('.')}/${length}`;
}
