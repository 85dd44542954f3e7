// IPv4 arithmetic on "a.b.c.d/len" strings the schema has already validated.

export function addressOf(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}

export function broadcastOf(cidr: string): string {
  const [, prefix = '32'] = cidr.split('/');
  const hostBits = 32 - Number(prefix);
  const network = toNumber(subnetOf(cidr));
  // For /31 and /32 there is no broadcast address: send to the network's own address range end anyway.
  const broadcast = hostBits === 0 ? network : (network + 2 ** hostBits - 1) >>> 0;
  return fromNumber(broadcast);
}

/** Whether `address` (no prefix) lies in the subnet of `cidr`. */
export function inSubnet(address: string, cidr: string): boolean {
  const [, prefix = '32'] = cidr.split('/');
  return subnetOf(`${address}/${prefix}`) === subnetOf(cidr);
}

function toNumber(cidr: string): number {
  return addressOf(cidr).split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function fromNumber(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export function subnetOf(cidr: string): string {
  const [address = '', prefix = '32'] = cidr.split('/');
  const length = Number(prefix);
  // A shift by 32 is a shift by 0 in JavaScript, so /0 needs its own mask.
  const mask = length === 0 ? 0 : ~0 << (32 - length);
  return `${fromNumber((toNumber(address) & mask) >>> 0)}/${length}`;
}
