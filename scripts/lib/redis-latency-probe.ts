/**
 * Run as its own process: PINGs Redis one after the other over a raw socket (like
 * `redis-cli --latency`, at sub-millisecond resolution) until SIGTERM, then prints the slowest round
 * trip in milliseconds and the number of samples.
 *
 *   bun scripts/lib/redis-latency-probe.ts <port>
 */
const port = Number(process.argv[2]);
let worst = 0;
let samples = 0;
let sentAt = 0;

function ping(socket: { write(data: string): number }) {
  sentAt = performance.now();
  socket.write("PING\r\n");
}

Bun.connect({
  hostname: "127.0.0.1",
  port,
  socket: {
    data(socket) {
      worst = Math.max(worst, performance.now() - sentAt);
      samples++;
      ping(socket);
    },
  },
}).then((socket) => {
  process.on("SIGTERM", () => {
    console.log(`${worst.toFixed(3)} ${samples}`);
    socket.end();
    process.exit(0);
  });
  console.log("ready");
  ping(socket);
});
