import { BlockList, isIP } from 'node:net';

/**
 * Which addresses an SIS URL may reach. SIS URLs are typed in by administrators, so without a policy the sync
 * would be a port scanner of the service's own network (its metrics port, the cloud metadata service).
 */
export interface SisAddressPolicy {
  /** Loopback, link-local (169.254/16 and fe80::/10, cloud metadata), unspecified, multicast and reserved ranges. */
  refuseInternal: boolean;
  /** RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10 and IPv6 unique-local fc00::/7. */
  refusePrivate: boolean;
  /**
   * Exceptions, allowed whatever they resolve to: host names (`sis.district.local`, case-insensitive), IP
   * addresses (`10.1.2.3`, `::1`) or CIDR ranges (`10.20.0.0/16`).
   */
  allowedHosts: readonly string[];
}

/** Nothing refused: the policy outside production unless configured otherwise (tests use fake SIS on 127.0.0.1). */
export const PERMISSIVE_ADDRESS_POLICY: SisAddressPolicy = {
  refuseInternal: false,
  refusePrivate: false,
  allowedHosts: [],
};

const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/** `[::1]` → `::1`; IPv4-mapped IPv6 (`::ffff:127.0.0.1`) → the IPv4 address, so it meets the IPv4 rules. */
function normaliseAddress(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  return mapped ? mapped[1] : bare;
}

function isAllowedAddress(address: string, policy: SisAddressPolicy): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return policy.allowedHosts.some((entry) => {
    const [network, prefix] = entry.split('/');
    if (!network || isIP(network) === 0) return false;
    const list = new BlockList();
    const entryFamily = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(network, entryFamily);
    else list.addSubnet(network, Number(prefix), entryFamily);
    return list.check(address, family);
  });
}

/** Why `address` (an IP) may not be reached, or undefined when it may. `hostname` is checked against the allow list. */
export function addressRefusal(address: string, policy: SisAddressPolicy, hostname?: string): string | undefined {
  if (hostname !== undefined && isAllowedHostName(hostname, policy)) return undefined;
  const ip = normaliseAddress(address);
  const version = isIP(ip);
  if (version === 0) return `${address} is not an IP address`;
  if (isAllowedAddress(ip, policy)) return undefined;
  const family = version === 6 ? 'ipv6' : 'ipv4';
  if (policy.refuseInternal && INTERNAL.check(ip, family)) {
    return `${ip} is a loopback, link-local or reserved address`;
  }
  if (policy.refusePrivate && PRIVATE.check(ip, family)) return `${ip} is a private network address`;
  return undefined;
}

function isAllowedHostName(hostname: string, policy: SisAddressPolicy): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return policy.allowedHosts.some((entry) => entry.toLowerCase().replace(/\.$/, '') === name);
}

/**
 * Why a URL's host may not be reached, judged without DNS: an IP literal by its address, `localhost` and
 * `*.localhost` as loopback. Other names are judged at connect time, on the addresses they resolve to.
 */
export function hostRefusal(hostname: string, policy: SisAddressPolicy): string | undefined {
  if (isAllowedHostName(hostname, policy)) return undefined;
  const bare = normaliseAddress(hostname);
  if (isIP(bare) !== 0) return addressRefusal(bare, policy);
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (policy.refuseInternal && (name === 'localhost' || name.endsWith('.localhost'))) {
    return `${hostname} is a loopback name`;
  }
  return undefined;
}
