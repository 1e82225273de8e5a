import { credentialKeyProblem } from "../kong-jwt/asymmetric.ts";
import {
  type EmulatedConsumer,
  type EmulatedCredential,
  isUuid,
  JWT_ALGORITHMS,
  nowSeconds,
  randomAlphanumeric,
  uuid,
} from "./types.ts";

/** Kong's DAO errors, kept as values so each mode can render them its own way. */
export type StoreError =
  | { kind: "schema"; fields: Record<string, string>; entity?: string[] }
  | { kind: "unique"; key: string }
  | { kind: "primary_key"; id: string };

export type Inserted = { ok: true; credential: EmulatedCredential } | { ok: false; error: StoreError };

export interface CredentialInput {
  id?: string;
  key?: string;
  secret?: string;
  algorithm?: string;
  rsa_public_key?: string | null;
  tags?: string[] | null;
  created_at?: number;
}

const CREDENTIAL_FIELDS = new Set([
  "id",
  "created_at",
  "consumer",
  "key",
  "secret",
  "rsa_public_key",
  "algorithm",
  "tags",
]);
const ALGORITHMS: readonly string[] = JWT_ALGORITHMS;

function checkString(value: unknown): string | undefined {
  if (typeof value !== "string") return "expected a string";
  if (value.length === 0) return "length must be at least 1";
  return undefined;
}

/** Kong's jwt_secrets schema, applied to a POST body; returns field errors like Kong's validator. */
export function validateCredentialBody(
  body: Record<string, unknown>,
): { ok: true; input: CredentialInput } | { ok: false; error: StoreError } {
  const fields: Record<string, string> = {};
  const input: CredentialInput = {};
  for (const [name, value] of Object.entries(body)) {
    // Kong treats an explicit null like an omitted field on insert (defaults and auto values apply).
    if (!CREDENTIAL_FIELDS.has(name)) fields[name] = "unknown field";
    else if (value === null || value === undefined || name === "consumer") continue;
    else if (name === "id") {
      if (typeof value === "string" && isUuid(value)) input.id = value.toLowerCase();
      else fields.id = "expected a valid UUID";
    } else if (name === "created_at") {
      if (typeof value === "number" && Number.isInteger(value)) input.created_at = value;
      else fields.created_at = "expected an integer";
    } else if (name === "tags") {
      if (Array.isArray(value) && value.every((tag) => typeof tag === "string")) input.tags = value;
      else fields.tags = "expected an array";
    } else if (name === "algorithm") {
      if (typeof value !== "string" || !ALGORITHMS.includes(value)) {
        fields.algorithm = `expected one of: ${ALGORITHMS.join(", ")}`;
      } else input.algorithm = value;
    } else {
      const problem = checkString(value);
      if (problem) fields[name] = problem;
      else if (name === "key" || name === "secret" || name === "rsa_public_key")
        input[name] = value as string;
    }
  }
  if (Object.keys(fields).length > 0) return { ok: false, error: { kind: "schema", fields } };
  const keyProblem = credentialKeyProblem(input.algorithm ?? "HS256", input.rsa_public_key);
  if (keyProblem) return { ok: false, error: conditionalFailure(keyProblem) };
  return { ok: true, input };
}

/** How Kong reports daos.lua's conditional on `algorithm` failing for `rsa_public_key`. */
function conditionalFailure(problem: string): StoreError {
  return {
    kind: "schema",
    fields: { rsa_public_key: problem },
    entity: ["failed conditional validation given value of field 'algorithm'"],
  };
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class KongStore {
  private readonly consumers = new Map<string, EmulatedConsumer>();
  private readonly credentials = new Map<string, EmulatedCredential>();
  private generatedUsernames = 0;

  /** The Admin API's rule: a UUID is an id and only an id; anything else is a username. */
  findConsumer(value: string): EmulatedConsumer | undefined {
    if (isUuid(value)) return this.consumers.get(value.toLowerCase());
    for (const consumer of this.consumers.values()) if (consumer.username === value) return consumer;
    return undefined;
  }

  /** Looser lookup for test helpers: an id first, then a username, whatever it looks like. */
  resolveConsumer(idOrUsername: string): EmulatedConsumer | undefined {
    const byIdMatch = this.consumers.get(idOrUsername);
    if (byIdMatch) return byIdMatch;
    for (const consumer of this.consumers.values()) if (consumer.username === idOrUsername) return consumer;
    return undefined;
  }

  addConsumer(input: { id?: string; username?: string | null; custom_id?: string | null; tags?: string[] }) {
    let username = input.username;
    if (username === undefined && (input.custom_id ?? null) === null) {
      this.generatedUsernames += 1;
      username = `consumer-${this.generatedUsernames}`;
    }
    const consumer: EmulatedConsumer = {
      id: (input.id ?? uuid()).toLowerCase(),
      username: username ?? null,
      custom_id: input.custom_id ?? null,
      created_at: nowSeconds(),
      tags: input.tags ?? null,
    };
    if (consumer.username === null && consumer.custom_id === null) {
      throw new Error("a consumer needs a username or a custom_id (Kong refuses one with neither)");
    }
    for (const other of this.consumers.values()) {
      if (other.id === consumer.id) throw new Error(`consumer id ${consumer.id} already exists`);
      if (consumer.username !== null && other.username === consumer.username) {
        throw new Error(`consumer username ${consumer.username} already exists`);
      }
      if (consumer.custom_id !== null && other.custom_id === consumer.custom_id) {
        throw new Error(`consumer custom_id ${consumer.custom_id} already exists`);
      }
    }
    this.consumers.set(consumer.id, consumer);
    return consumer;
  }

  /** Deleting a consumer cascades to its credentials, as Kong's `on_delete = "cascade"` does. */
  removeConsumer(id: string): boolean {
    for (const credential of this.credentials.values()) {
      if (credential.consumer.id === id) this.credentials.delete(credential.id);
    }
    return this.consumers.delete(id);
  }

  insertCredential(consumerId: string, input: CredentialInput): Inserted {
    const credential: EmulatedCredential = {
      id: input.id ?? uuid(),
      consumer: { id: consumerId },
      key: input.key ?? randomAlphanumeric(),
      secret: input.secret ?? randomAlphanumeric(),
      algorithm: input.algorithm ?? "HS256",
      rsa_public_key: input.rsa_public_key ?? null,
      tags: input.tags ?? null,
      created_at: input.created_at ?? nowSeconds(),
    };
    if (this.credentials.has(credential.id)) {
      return { ok: false, error: { kind: "primary_key", id: credential.id } };
    }
    if (this.byKey(credential.key)) return { ok: false, error: { kind: "unique", key: credential.key } };
    this.credentials.set(credential.id, credential);
    return { ok: true, credential };
  }

  /** Admin API rule for `/jwt/{id_or_key}`: a UUID is an id, anything else a key; it must be this consumer's. */
  findCredential(consumerId: string, idOrKey: string): EmulatedCredential | undefined {
    const found = isUuid(idOrKey) ? this.credentials.get(idOrKey.toLowerCase()) : this.byKey(idOrKey);
    return found?.consumer.id === consumerId ? found : undefined;
  }

  byKey(key: string): EmulatedCredential | undefined {
    for (const credential of this.credentials.values()) if (credential.key === key) return credential;
    return undefined;
  }

  consumerById(id: string): EmulatedConsumer | undefined {
    return this.consumers.get(id);
  }

  removeCredential(id: string): boolean {
    return this.credentials.delete(id);
  }

  /** Primary-key order, as Kong pages them: stable, and unrelated to creation time. */
  credentialsOf(consumerId: string): EmulatedCredential[] {
    return [...this.credentials.values()].filter((c) => c.consumer.id === consumerId).sort(byId);
  }
}
