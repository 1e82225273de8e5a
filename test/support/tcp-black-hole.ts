import type { Socket } from "bun";

/**
 * A TCP proxy to `target` that can be told to stop forwarding: from `hang()` on, connections stay
 * open and whatever is sent is swallowed, as with a peer behind a network partition that drops
 * packets instead of resetting the connection. `release()` forwards again; what was swallowed
 * stays lost, so a peer still waiting for a reply to it waits forever (a proxy that accepted before
 * its backend was reachable).
 */
export async function startBlackHole(target: { hostname: string; port: number }, options = { hung: false }) {
  let hung = options.hung;
  const upstreams = new Map<Socket<unknown>, Socket<unknown>>();
  /** Client connections that sent something which was swallowed. */
  const swallowedFrom = new Set<Socket<unknown>>();
  let accepted = 0;
  /** Everything clients sent, forwarded or swallowed, as text (RESP is text enough to count commands). */
  let sent = "";
  const listener = Bun.listen<unknown>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async open(client) {
        accepted++;
        client.pause();
        const upstream = await Bun.connect({
          ...target,
          socket: {
            data(_socket, data) {
              if (!hung) client.write(data);
            },
            close() {
              client.end();
            },
          },
        });
        upstreams.set(client, upstream);
        client.resume();
      },
      data(client, data) {
        sent += Buffer.from(data).toString("latin1");
        if (hung) swallowedFrom.add(client);
        else upstreams.get(client)?.write(data);
      },
      close(client) {
        upstreams.get(client)?.end();
        upstreams.delete(client);
      },
    },
  });
  return {
    url: `redis://127.0.0.1:${listener.port}`,
    /** Connections accepted so far. */
    get accepted() {
      return accepted;
    },
    /** How many times clients sent `command` (e.g. "PING"), forwarded or swallowed. */
    sentCount(command: string) {
      return sent.split(`\r\n${command}\r\n`).length - 1;
    },
    /** Connections whose data was swallowed (open or not). */
    get swallowed() {
      return swallowedFrom.size;
    },
    hang() {
      hung = true;
    },
    release() {
      hung = false;
    },
    /** Closes the connections made so far, as a peer that resets them would; new ones are accepted. */
    drop() {
      for (const [client, upstream] of upstreams) {
        upstream.end();
        client.end();
      }
    },
    stop() {
      for (const upstream of upstreams.values()) upstream.end();
      listener.stop(true);
    },
  };
}
