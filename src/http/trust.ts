import type { Server } from "bun";
import type { Config } from "../config/index.ts";
import { problem, type Refuse } from "./problem.ts";
import { secretMatcher } from "./secret.ts";

/**
 * The trust boundary with Kong: only requests that came through Kong may name a consumer. Either (or
 * both) of a shared secret that Kong's request-transformer adds, and the peer address being one of
 * Kong's. Refusals happen before anything else, so a forged request never reaches Kong.
 */
export function createGatewayTrust(security: Config["security"]) {
  const matches = security.gatewaySecret ? secretMatcher(security.gatewaySecret) : undefined;
  const header = security.gatewayHeader;
  const allowed = security.trustedProxyCidrs ? peerFilter(security.trustedProxyCidrs) : undefined;

  /**
   * Undefined when the request may proceed; otherwise the answer to send. A dual-stack listener
   * reports IPv4 peers as IPv4-mapped IPv6 (::ffff:a.b.c.d); BlockList matches those against the
   * IPv4 ranges by itself.
   */
  return function check(
    request: Request,
    server: Server<unknown>,
    refuse: Refuse = problem,
  ): Response | undefined {
    if (allowed) {
      const peer = server.requestIP(request)?.address;
      if (!peer || !allowed(peer)) {
        return refuse(403, {
          type: "untrusted-peer",
          detail: "This endpoint only answers requests from Kong.",
        });
      }
    }
    if (matches && !matches(request.headers.get(header))) {
      return refuse(401, {
        type: "untrusted-gateway",
        detail: "The request did not come through the gateway.",
        headers: { "www-authenticate": 'Key realm="kong"' },
      });
    }
    return undefined;
  };
}

/**
 * Whether a peer address is in one of the ranges. node:net is required here, not imported: loading
 * it costs about 6 ms of start-up, which a service without TRUSTED_PROXY_CIDRS never needs.
 */
function peerFilter(cidrs: readonly string[]): (peer: string) => boolean {
  const { BlockList, isIP } = require("node:net") as typeof import("node:net");
  const family = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4");
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split("/") as [string, string | undefined];
    if (prefix === undefined) list.addAddress(address, family(address));
    else list.addSubnet(address, Number(prefix), family(address));
  }
  return (peer) => list.check(peer, family(peer));
}
