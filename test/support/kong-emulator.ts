/**
 * An in-process Kong Admin API (KONG_MODE=API_GATEWAY) or Konnect control-plane API (KONNECT),
 * limited to what the token service touches: consumers and their JWT credentials. Behaviour
 * follows docs/kong-facts.md#admin-api and docs/kong-facts.md#konnect, and Kong's own endpoint code.
 *
 * `KongEmulator.start()` is synchronous: `Bun.serve` binds before returning, so the emulator is
 * reachable as soon as it is constructed. Always `await emulator.stop()`.
 *
 * Where the product is subtle, the emulator copies it rather than tidying it up:
 * - lists come in id order (Kong's primary key), so "newest" must be chosen by `created_at`;
 *   two credentials created in the same second tie on `created_at` in Kong too, and only an id
 *   comparison orders them (deterministically, not by age);
 * - a nested list's `next` carries `offset` only, so later pages use the default size;
 * - path segments go through `ngx.unescape_uri`, which also turns an unescaped `+` into a space.
 * Konnect's core-entity error bodies are modelled as problem documents carrying Kong's message;
 * PUT/PATCH on credentials and listing all consumers are not emulated (405/404).
 */

import { connectionReset, FaultQueue, hangUntil, sleep } from "./kong-emulator/faults.ts";
import { BodyPadder } from "./kong-emulator/padding.ts";
import { Responder } from "./kong-emulator/responses.ts";
import { type RouteContext, route } from "./kong-emulator/routes.ts";
import { KongStore } from "./kong-emulator/store.ts";
import {
  type EmulatedConsumer,
  type EmulatedCredential,
  type Fault,
  JWT_ALGORITHMS,
  type KongEmulatorOptions,
  type KongMode,
  nowSeconds,
  type RecordedCall,
  randomAlphanumeric,
  uuid,
} from "./kong-emulator/types.ts";
import { credentialKeyProblem } from "./kong-jwt/asymmetric.ts";

export type {
  CredentialLookup,
  EmulatedConsumer,
  EmulatedCredential,
  Fault,
  KongEmulatorOptions,
  KongMode,
  PaddedBody,
  RecordedCall,
} from "./kong-emulator/types.ts";
export { isUuid, JWT_ALGORITHMS, KONG_VERSION, uuid } from "./kong-emulator/types.ts";

type CredentialFields = Partial<
  Pick<EmulatedCredential, "key" | "secret" | "algorithm" | "created_at" | "id" | "rsa_public_key" | "tags">
>;

export class KongEmulator {
  readonly mode: KongMode;
  readonly origin: string;
  readonly adminUrl: string;
  /** Undefined only for an open (OSS-like) API_GATEWAY. */
  readonly adminToken: string | undefined;
  readonly controlPlaneId: string;
  readonly calls: RecordedCall[] = [];

  private readonly store = new KongStore();
  private readonly faults = new FaultQueue();
  private readonly padder = new BodyPadder();
  /** Konnect realm consumers: Kong authenticates them, the control plane has no record of them. */
  private readonly realm = new Map<string, EmulatedConsumer>();
  private readonly stopping = new AbortController();
  private readonly server: ReturnType<typeof Bun.serve>;
  private readonly context: RouteContext;
  private latencyMs = 0;

  static start(options: KongEmulatorOptions = {}): KongEmulator {
    return new KongEmulator(options);
  }

  private constructor(options: KongEmulatorOptions) {
    this.mode = options.mode ?? "API_GATEWAY";
    this.controlPlaneId = options.controlPlaneId ?? uuid();
    this.adminToken =
      this.mode === "KONNECT" ? (options.adminToken ?? `kpat_${randomAlphanumeric(40)}`) : options.adminToken;
    const pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1)
      throw new Error(`pageSize must be >= 1, got ${pageSize}`);
    this.context = {
      mode: this.mode,
      store: this.store,
      respond: new Responder(this.mode),
      controlPlaneId: this.controlPlaneId,
      nodeId: uuid(),
      pageSize,
      startedAt: new Date(),
      totalRequests: () => this.calls.length,
    };
    const hostname = options.hostname ?? "127.0.0.1";
    this.server = Bun.serve({
      hostname,
      port: options.port ?? 0,
      development: false,
      // A hung request must stay hung until the client aborts or stop(); Bun's default 10 s
      // idle timeout would otherwise answer for us.
      idleTimeout: 0,
      ...(options.tls ? { tls: options.tls } : {}),
      fetch: (req) => this.handle(req),
    });
    const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
    const scheme = options.tls ? "https" : "http";
    this.origin = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${this.server.port}`;
    this.adminUrl =
      this.mode === "KONNECT" ? `${this.origin}/v2/control-planes/${this.controlPlaneId}` : this.origin;
  }

  addConsumer(
    input: { id?: string; username?: string | null; custom_id?: string | null; tags?: string[] } = {},
  ): EmulatedConsumer {
    return { ...this.store.addConsumer(input) };
  }

  /**
   * A consumer of a Konnect consumer realm (docs/kong-facts.md#konnect-realms): what Kong puts in
   * X-Consumer-ID and X-Consumer-Username for it. The control-plane API answers 404 for its id, as
   * Konnect does.
   */
  addRealmConsumer(input: { id?: string; username: string }): EmulatedConsumer {
    if (this.mode !== "KONNECT") throw new Error("consumer realms exist only in KONNECT mode");
    const id = (input.id ?? uuid()).toLowerCase();
    if (this.store.consumerById(id)) throw new Error(`${id} is a control-plane consumer, not a realm one`);
    for (const other of this.realm.values()) {
      if (other.id === id) throw new Error(`realm consumer id ${id} already exists`);
      if (other.username === input.username)
        throw new Error(`realm username ${input.username} already exists`);
    }
    const consumer = { id, username: input.username, custom_id: null, created_at: nowSeconds(), tags: null };
    this.realm.set(id, consumer);
    return { ...consumer };
  }

  /** Seeds a credential directly (no HTTP); throws where the Admin API would answer 4xx. */
  addCredential(consumerIdOrUsername: string, input: CredentialFields = {}): EmulatedCredential {
    const consumer = this.requireConsumer(consumerIdOrUsername);
    const algorithm = input.algorithm ?? "HS256";
    if (!(JWT_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new Error(`algorithm ${algorithm} is not one Kong's jwt plugin knows`);
    }
    const keyProblem = credentialKeyProblem(algorithm, input.rsa_public_key);
    if (keyProblem) throw new Error(`algorithm ${algorithm}: rsa_public_key ${keyProblem}`);
    const inserted = this.store.insertCredential(consumer.id, { ...input, algorithm });
    if (!inserted.ok) throw new Error(`cannot add credential: ${JSON.stringify(inserted.error)}`);
    return { ...inserted.credential };
  }

  removeConsumer(id: string): void {
    if (!this.store.removeConsumer(id)) throw new Error(`no consumer ${id}`);
  }

  removeCredential(consumerId: string, idOrKey: string): void {
    const credential = this.store
      .credentialsOf(this.requireConsumer(consumerId).id)
      .find((c) => c.id === idOrKey || c.key === idOrKey);
    if (!credential) throw new Error(`no credential ${idOrKey} on consumer ${consumerId}`);
    this.store.removeCredential(credential.id);
  }

  /** In the order the Admin API lists them (by id), not by age. */
  credentialsOf(consumerIdOrUsername: string): EmulatedCredential[] {
    return this.store.credentialsOf(this.requireConsumer(consumerIdOrUsername).id).map((c) => ({ ...c }));
  }

  /** What Kong's jwt plugin does with the token's key claim: a global lookup by `key`. */
  credentialByKey(key: string): { credential: EmulatedCredential; consumer: EmulatedConsumer } | undefined {
    const credential = this.store.byKey(key);
    const consumer = credential && this.store.consumerById(credential.consumer.id);
    return credential && consumer ? { credential: { ...credential }, consumer: { ...consumer } } : undefined;
  }

  countCalls(filter: { method?: string; pathIncludes?: string } = {}): number {
    return this.calls.filter(
      (call) =>
        (filter.method === undefined || call.method === filter.method.toUpperCase()) &&
        (filter.pathIncludes === undefined || call.path.includes(filter.pathIncludes)),
    ).length;
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  inject(fault: Fault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Closes every connection; hung or delayed requests are released with a connection reset. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.server.stop(true);
  }

  private requireConsumer(idOrUsername: string): EmulatedConsumer {
    const consumer = this.store.resolveConsumer(idOrUsername);
    if (!consumer) throw new Error(`no consumer ${idOrUsername}`);
    return consumer;
  }

  private async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const call: RecordedCall = {
      method: req.method,
      path: url.pathname,
      search: url.search,
      headers: new Headers(req.headers),
      status: 0,
      at: Date.now(),
    };
    this.calls.push(call);
    const signals = [req.signal, this.stopping.signal];
    const fault = this.faults.take({ method: call.method, path: call.path });
    if (this.latencyMs > 0 && !(await sleep(this.latencyMs, ...signals))) return connectionReset();
    if (fault?.delayMs && !(await sleep(fault.delayMs, ...signals))) return connectionReset();
    if (fault?.reset) return connectionReset();
    if (fault?.hang) return hangUntil(...signals);
    const answer = fault?.status !== undefined ? this.faultResponse(fault) : await this.answer(req, url);
    call.status = answer.status;
    return fault?.pad ? this.padder.pad(answer, fault.pad, signals) : answer;
  }

  private faultResponse(fault: Fault): Response {
    return this.context.respond.fault(fault.status ?? 500, fault.body, fault.headers);
  }

  private async answer(req: Request, url: URL): Promise<Response> {
    if (!this.authorized(req.headers)) return this.context.respond.unauthorized();
    try {
      return await route(req, url, this.context);
    } catch (error) {
      // A bug in the emulator must surface in the test output, not as a silent hang.
      console.error("kong emulator: unexpected error", error);
      return this.context.respond.fault(500, undefined);
    }
  }

  private authorized(headers: Headers): boolean {
    if (this.adminToken === undefined) return true;
    if (this.mode === "API_GATEWAY") return headers.get("kong-admin-token") === this.adminToken;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
    return match?.[1] === this.adminToken;
  }
}
