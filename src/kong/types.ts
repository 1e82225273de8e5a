import { z } from "zod";

export type KongMode = "API_GATEWAY" | "KONNECT";

/**
 * Bounds on what is kept from Kong's answers (and so in every cache tier). Kong's ids are UUIDs and
 * its generated keys and secrets 32 characters; these leave ample room for hand-made ones.
 */
const MAX_ID = 64;
const MAX_USERNAME = 1024;
const MAX_KEY = 512;
const MAX_SECRET = 1024;
const MAX_ALGORITHM = 16;
/** A 4096-bit RSA key in SPKI PEM is about 800 characters. */
const MAX_PUBLIC_KEY = 4096;
const MAX_OFFSET = 2048;
/** Kong allows tags of 128 characters; a credential with more tags than this is not one of ours. */
const MAX_TAG = 128;
const MAX_TAGS = 64;

/**
 * A string field of a credential that is no use beyond `max`: an over-long value reads as empty,
 * which makes the credential unusable (skipped, never cached) rather than the whole answer invalid.
 */
const usableUpTo = (max: number) => z.string().transform((value) => (value.length <= max ? value : ""));

/** Kong's consumer entity, as much of it as the token path reads (docs/kong-facts.md#consumer-entity). */
export const kongConsumerSchema = z.object({
  id: z.string().min(1).max(MAX_ID),
  username: z.string().max(MAX_USERNAME).nullish(),
});
export type KongConsumer = z.infer<typeof kongConsumerSchema>;

/** Kong's jwt credential entity (docs/kong-facts.md#credential-entity). */
export const kongCredentialSchema = z.object({
  id: z.string().min(1).max(MAX_ID),
  key: usableUpTo(MAX_KEY),
  secret: usableUpTo(MAX_SECRET).nullish(),
  algorithm: usableUpTo(MAX_ALGORITHM).default("HS256"),
  rsa_public_key: usableUpTo(MAX_PUBLIC_KEY).nullish(),
  created_at: z.number().default(0),
  /** Only whether the service's tag is among them matters; tags that cannot be read count as none. */
  tags: z.array(z.string().max(MAX_TAG)).max(MAX_TAGS).nullish().catch(null),
});
export type KongCredential = z.infer<typeof kongCredentialSchema>;

export const kongCredentialPageSchema = z.object({
  data: z.array(kongCredentialSchema),
  next: z.string().max(MAX_OFFSET).nullish(),
  offset: z.string().max(MAX_OFFSET).nullish(),
});
