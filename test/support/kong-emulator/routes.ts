import { pageOf } from "./pagination.ts";
import { rawSegments, readBody, unescapeSegment } from "./request.ts";
import type { Responder } from "./responses.ts";
import { type KongStore, validateCredentialBody } from "./store.ts";
import { type EmulatedConsumer, type EmulatedCredential, KONG_VERSION, type KongMode } from "./types.ts";

export interface RouteContext {
  mode: KongMode;
  store: KongStore;
  respond: Responder;
  controlPlaneId: string;
  nodeId: string;
  pageSize: number;
  startedAt: Date;
  totalRequests: () => number;
}

function consumerJson(consumer: EmulatedConsumer) {
  return { ...consumer, updated_at: consumer.created_at, tags: consumer.tags ? [...consumer.tags] : null };
}

function credentialJson(credential: EmulatedCredential) {
  return {
    ...credential,
    consumer: { id: credential.consumer.id },
    tags: credential.tags ? [...credential.tags] : null,
  };
}

function allows(ctx: RouteContext, method: string, allowed: string[]): Response | undefined {
  return allowed.includes(method) ? undefined : ctx.respond.methodNotAllowed();
}

/**
 * `/consumers/...` below the product's prefix. `prefix` is the raw path before `/consumers`,
 * used to build `next` links; the consumer segment in `next` is echoed as the client sent it,
 * which is what Kong's endpoint generator does.
 */
async function consumerRoutes(
  req: Request,
  url: URL,
  segments: string[],
  prefix: string,
  ctx: RouteContext,
): Promise<Response> {
  const [root, rawConsumer, sub, rawCredential, ...rest] = segments;
  if (root !== "consumers" || rawConsumer === undefined || rest.length > 0) return ctx.respond.notFound();
  if (sub !== undefined && sub !== "jwt") return ctx.respond.notFound();
  const method = req.method;
  const { store, respond } = ctx;

  if (sub === undefined) {
    const refused = allows(ctx, method, ["GET"]);
    if (refused) return refused;
    const consumer = store.findConsumer(unescapeSegment(rawConsumer));
    return consumer ? respond.json(200, consumerJson(consumer)) : respond.notFound();
  }

  if (rawCredential === undefined) {
    const refused = allows(ctx, method, ["GET", "POST"]);
    if (refused) return refused;
    if (method === "POST") {
      const parsed = await readBody(req);
      if (!parsed.ok) return respond.badJson();
      const consumer = store.findConsumer(unescapeSegment(rawConsumer));
      if (!consumer) return respond.notFound();
      const valid = validateCredentialBody(parsed.body);
      if (!valid.ok) return respond.storeError(valid.error);
      const inserted = store.insertCredential(consumer.id, valid.input);
      if (!inserted.ok) return respond.storeError(inserted.error);
      return respond.json(201, credentialJson(inserted.credential));
    }
    const consumer = store.findConsumer(unescapeSegment(rawConsumer));
    if (!consumer) return respond.notFound();
    const page = pageOf(store.credentialsOf(consumer.id), url.searchParams, ctx.pageSize);
    if (!page.ok) return respond.storeError(page.error);
    // Kong's nested `next` carries the offset only: later pages fall back to the default size.
    const next =
      page.offset === null
        ? null
        : `${prefix}/consumers/${rawConsumer}/jwt?offset=${encodeURIComponent(page.offset)}`;
    const body: Record<string, unknown> = { data: page.data.map(credentialJson), next };
    if (page.offset !== null) body.offset = page.offset;
    return respond.json(200, body);
  }

  const refused = allows(ctx, method, ["GET", "DELETE"]);
  if (refused) return refused;
  const consumer = store.findConsumer(unescapeSegment(rawConsumer));
  if (!consumer) return respond.notFound();
  const credential = store.findCredential(consumer.id, unescapeSegment(rawCredential));
  if (!credential) return respond.notFound();
  if (method === "GET") return respond.json(200, credentialJson(credential));
  store.removeCredential(credential.id);
  return respond.noContent();
}

function nodeInfo(ctx: RouteContext) {
  return {
    version: KONG_VERSION,
    edition: "community",
    tagline: "Welcome to kong",
    hostname: "kong-emulator",
    node_id: ctx.nodeId,
    lua_version: "LuaJIT 2.1.0-20231117",
    plugins: {
      available_on_server: {
        jwt: { version: KONG_VERSION, priority: 1450 },
        "key-auth": { version: KONG_VERSION, priority: 1250 },
      },
      enabled_in_cluster: ["jwt", "key-auth"],
    },
    configuration: { database: "postgres", role: "traditional" },
  };
}

function nodeStatus(ctx: RouteContext) {
  const total = ctx.totalRequests();
  return {
    database: { reachable: true },
    server: {
      connections_accepted: total,
      connections_active: 1,
      connections_handled: total,
      connections_reading: 0,
      connections_writing: 1,
      connections_waiting: 0,
      total_requests: total,
    },
  };
}

function controlPlane(ctx: RouteContext) {
  const host = ctx.controlPlaneId.slice(0, 10);
  return {
    id: ctx.controlPlaneId,
    name: "emulated-control-plane",
    description: "In-process Konnect emulator",
    labels: {},
    config: {
      control_plane_endpoint: `https://${host}.us.cp0.konghq.com`,
      telemetry_endpoint: `https://${host}.us.tp0.konghq.com`,
      cluster_type: "CLUSTER_TYPE_CONTROL_PLANE",
      auth_type: "pinned_client_certs",
      cloud_gateway: false,
      proxy_urls: [],
    },
    created_at: ctx.startedAt.toISOString(),
    updated_at: ctx.startedAt.toISOString(),
  };
}

export function route(req: Request, url: URL, ctx: RouteContext): Promise<Response> | Response {
  const segments = rawSegments(url.pathname);
  if (ctx.mode === "API_GATEWAY") {
    if (segments.length === 0 || (segments.length === 1 && segments[0] === "status")) {
      return (
        allows(ctx, req.method, ["GET"]) ??
        ctx.respond.json(200, segments.length ? nodeStatus(ctx) : nodeInfo(ctx))
      );
    }
    return consumerRoutes(req, url, segments, "", ctx);
  }
  const [v2, controlPlanes, rawCpId, coreEntities, ...rest] = segments;
  if (v2 !== "v2" || controlPlanes !== "control-planes" || rawCpId === undefined)
    return ctx.respond.notFound();
  if (unescapeSegment(rawCpId) !== ctx.controlPlaneId) return ctx.respond.notFound();
  if (coreEntities === undefined)
    return allows(ctx, req.method, ["GET"]) ?? ctx.respond.json(200, controlPlane(ctx));
  if (coreEntities !== "core-entities") return ctx.respond.notFound();
  return consumerRoutes(req, url, rest, `/v2/control-planes/${rawCpId}/core-entities`, ctx);
}
