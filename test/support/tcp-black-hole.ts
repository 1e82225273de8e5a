import type { Socket } from "bun";

/**
 * A TCP proxy to `target` that can be told to stop forwarding: from `hang()` on, connections stay
 * open and whatever is sent is swallowed, as with a peer behind a network partition that drops
 * packets instead of resetting the connection.
 */
export async function startBlackHole(target: { hostname: string; port: number }) {
  let hung = false;
  const upstreams = new Map<Socket<unknown>, Socket<unknown>>();
  const listener = Bun.listen<unknown>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async open(client) {
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
        if (!hung) upstreams.get(client)?.write(data);
      },
      close(client) {
        upstreams.get(client)?.end();
        upstreams.delete(client);
      },
    },
  });
  return {
    url: `redis://127.0.0.1:${listener.port}`,
    hang() {
      hung = true;
    },
    stop() {
      for (const upstream of upstreams.values()) upstream.end();
      listener.stop(true);
    },
  };
}
