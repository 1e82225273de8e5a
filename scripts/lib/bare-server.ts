/**
 * The benchmark's baseline: a bare Bun.serve answering every request with a fixed body the size of a
 * token response. Whatever /tokens costs on top of this is the service's own overhead.
 */
const body = JSON.stringify({
  access_token: "x".repeat(Number(process.env.BODY_CHARS ?? 560)),
  expires_in: 900,
  token_type: "Bearer",
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  routes: { "/tokens": () => new Response(body, { headers: { "content-type": "application/json" } }) },
  fetch: () => new Response(null, { status: 404 }),
});
process.on("SIGTERM", () => server.stop(true).then(() => process.exit(0)));
