// Which network addresses a connector call may reach (docs/limits.md,
// Connector calls). A provider is somewhere on the internet: an address in a
// loopback, private, link-local or other special range is refused, checked on
// every address a name resolves to, so that no catalog entry or DNS answer
// can point a call (and its credential) at the service's own network, the
// instance metadata endpoint or Azure's platform address.
import { BlockList, isIP } from 'node:net';

export type AddressKind = 'public' | 'loopback' | 'private' | 'linkLocal' | 'special';

function ranges(kind: AddressKind, v4: string[], v6: string[]): [AddressKind, BlockList] {
  const list = new BlockList();
  for (const cidr of v4) list.addSubnet(cidr.split('/')[0]!, Number(cidr.split('/')[1]), 'ipv4');
  for (const cidr of v6) list.addSubnet(cidr.split('/')[0]!, Number(cidr.split('/')[1]), 'ipv6');
  return [kind, list];
}

const RANGES: Array<[AddressKind, BlockList]> = [
  ranges('loopback', ['127.0.0.0/8'], ['::1/128']),
  // RFC 1918, and IPv6 unique local (fc00::/7) and the old site-local (fec0::/10).
  ranges('private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ['fc00::/7', 'fec0::/10']),
  // 169.254.169.254 is the instance metadata endpoint.
  ranges('linkLocal', ['169.254.0.0/16'], ['fe80::/10']),
  ranges(
    'special',
    [
      '0.0.0.0/8', // "this network": 0.0.0.0 reaches the host itself
      '100.64.0.0/10', // shared address space (carrier-grade NAT)
      '168.63.129.16/32', // Azure's platform address (DNS, health probes, the wire server)
      '192.0.0.0/24', // IETF protocol assignments
      '198.18.0.0/15', // benchmarking
      '224.0.0.0/4', // multicast
      '240.0.0.0/4', // reserved, and the broadcast address
    ],
    ['::/128', 'ff00::/8'],
  ),
];

/** The 8 groups of an IPv6 address, as numbers. */
function groupsOf(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => parseInt(group, 16));
}

/**
 * The IPv4 address an IPv6 one stands for, when it is IPv4-mapped
 * (::ffff:0:0/96) or NAT64 (64:ff9b::/96): such an address reaches that
 * IPv4 address, and is judged as it.
 */
function embeddedIPv4(address: string): string | undefined {
  const g = groupsOf(address);
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !nat64) return undefined;
  return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
}

/** What kind of address this is; anything that is not an IP address is `special`. */
export function addressKind(address: string): AddressKind {
  const family = isIP(address);
  if (family === 0) return 'special';
  const v4 = family === 6 ? embeddedIPv4(address) : address;
  for (const [kind, list] of RANGES) {
    if (v4 ? list.check(v4, 'ipv4') : list.check(address, 'ipv6')) return kind;
  }
  return 'public';
}

/** Whether a call may connect to this address; loopback only for an origin allowed it by configuration. */
export function addressAllowed(address: string, loopbackAllowed: boolean): boolean {
  const kind = addressKind(address);
  return kind === 'public' || (kind === 'loopback' && loopbackAllowed);
}
