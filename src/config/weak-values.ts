/**
 * Values that parse but must not run in production: address ranges that admit everyone, secrets
 * anyone could guess, an Admin API URL that leads back to this host. The production rules in
 * schema.ts ask these questions; the answers never carry the values themselves.
 */

/** docker-compose.yml's fallback gateway secret: public, since the repository is. */
export const COMPOSE_DEMO_GATEWAY_SECRET = "local-demo-gateway-secret-not-for-production";

/**
 * The widest ranges Kong's addresses plausibly need: 10.0.0.0/8, and fc00::/7 (every unique-local
 * IPv6 address). Anything wider is most of the internet.
 */
export const WIDEST_IPV4_PREFIX = 8;
export const WIDEST_IPV6_PREFIX = 7;

const FIRST_OCTETS = Array.from({ length: 256 }, (_, octet) => octet);

/**
 * The entries of well-formed TRUSTED_PROXY_CIDRS wider than that. A prefix under /7 is too wide in
 * either family (for IPv4, it is wider than /8 already). IPv6 ranges are also measured by the IPv4
 * they admit, because the trust check lets an IPv4-mapped peer (::ffff:a.b.c.d) match them: ::/64 or
 * ::ffff:0:0/96 admit every IPv4 address. A range wider than a /8 contains at least two of the 256
 * addresses x.0.0.0; a /8 or narrower, at most one. BlockList matches an IPv4-mapped address against
 * IPv4 ranges too, so the mapped form answers for both families.
 */
export function tooWideCidrs(cidrs: readonly string[]): string[] {
  return cidrs.filter((cidr) => {
    // split() always returns at least one part.
    const [address, prefix] = cidr.split("/") as [string, ...string[]];
    if (prefix === undefined) return false;
    if (Number(prefix) < WIDEST_IPV6_PREFIX) return true;
    const { BlockList, isIP } = require("node:net") as typeof import("node:net");
    const range = new BlockList();
    range.addSubnet(address, Number(prefix), isIP(address) === 6 ? "ipv6" : "ipv4");
    const firstOctets = FIRST_OCTETS.filter((octet) => range.check(`::ffff:${octet}.0.0.0`, "ipv6"));
    return firstOctets.length > 1;
  });
}

/**
 * Addresses that are this host: loopback, the unspecified address (connecting to 0.0.0.0 or ::
 * reaches the local host), in IPv4, IPv4-mapped and IPv4-compatible IPv6 forms.
 */
function thisHost(BlockList: typeof import("node:net").BlockList) {
  const list = new BlockList();
  list.addSubnet("127.0.0.0", 8, "ipv4");
  list.addSubnet("0.0.0.0", 8, "ipv4");
  // ::/104 holds ::, ::1 and the IPv4-compatible 0.0.0.0/8; mapped forms are matched by the IPv4 rules.
  list.addSubnet("::", 104, "ipv6");
  list.addSubnet("::7f00:0", 104, "ipv6");
  return list;
}

/** Names that resolve to this host without DNS (RFC 6761, and the usual /etc/hosts entries). */
const LOCAL_NAMES = new Set(["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"]);

/**
 * Whether a URL's hostname leads to this host. Expects the WHATWG parser's output, which has already
 * turned decimal, octal, hex and short IPv4 forms (2130706433, 0x7f.1, 127.1) into dotted quads,
 * percent-escapes and full-width letters into ASCII, and IPv6 into compressed hex.
 */
export function reachesThisHost(hostname: string): boolean {
  // Brackets appear in a hostname only around an IPv6 address.
  const host = hostname.toLowerCase().replace(/[[\]]/g, "").replace(/\.+$/, "");
  if (LOCAL_NAMES.has(host) || host.endsWith(".localhost")) return true;
  // Neither a name nor an IPv4 address, which the WHATWG parser always writes as a dotted quad, needs
  // node:net (about 6 ms to load, docs/testing.md) to tell: thisHost()'s IPv4 ranges are 127.0.0.0/8
  // and 0.0.0.0/8. A hostname with a colon is an IPv6 address.
  if (!host.includes(":")) {
    const firstOctet = /^(\d+)(\.\d+){3}$/.exec(host)?.[1];
    return firstOctet === "127" || firstOctet === "0";
  }
  const { BlockList } = require("node:net") as typeof import("node:net");
  return thisHost(BlockList).check(host, "ipv6");
}

const MIN_DISTINCT_CHARACTERS = 8;
const LONGEST_REPEATED_UNIT = 16;

/** A few distinct characters, or a short unit repeated (abab…, 01234567890123…): guessable at any length. */
export function isLowVariety(secret: string): boolean {
  if (new Set(secret).size < MIN_DISTINCT_CHARACTERS) return true;
  for (let unit = 1; unit <= Math.min(LONGEST_REPEATED_UNIT, secret.length / 2); unit++) {
    if (secret.slice(unit) === secret.slice(0, -unit)) return true;
  }
  return false;
}

/** 32 random bytes hold about 30 distinct values; fewer than 16 means the key was not drawn at random. */
const MIN_DISTINCT_KEY_BYTES = 16;

export function isWeakKey(key: Uint8Array): boolean {
  return new Set(key).size < MIN_DISTINCT_KEY_BYTES;
}
