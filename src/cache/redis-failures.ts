/**
 * Tells a command that failed because the topology is changing (a node lost, a shard without its
 * master, a master stepping down) from one Redis refused for what it is (an unknown command, an ACL,
 * a wrong type). The first kind is an episode /health reports; the second says nothing about Redis's
 * health. Redis error replies start with their code in capitals; a client-side failure (a closed
 * socket, an offline client, a refused connection) has no code.
 */
const TOPOLOGY_CODES = new Set([
  "CLUSTERDOWN",
  "MASTERDOWN",
  "READONLY",
  "LOADING",
  "TRYAGAIN",
  "MOVED",
  "ASK",
]);

export function isTopologyFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const code = /^([A-Z]{2,})(?: |$)/.exec(message)?.[1];
  return code === undefined || TOPOLOGY_CODES.has(code);
}

/**
 * Redis's answer to a SUBSCRIBE its ACL refuses: "NOPERM this user has no permissions to access one
 * of the channels used as arguments" (7.0), "NOPERM User <name> has no permissions to access the
 * '<channel>' channel" (7.2 on). A NOPERM for a command or a key is not one.
 */
export function isChannelRefusal(error: unknown): boolean {
  return error instanceof Error && /^NOPERM .*\bchannels?\b/.test(error.message);
}
