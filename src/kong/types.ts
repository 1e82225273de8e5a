import { z } from "zod";

export type KongMode = "API_GATEWAY" | "KONNECT";

/** Kong's consumer entity, as much of it as the token path reads (kong-facts §3). */
export const kongConsumerSchema = z.object({
  id: z.string().min(1),
  username: z.string().nullish(),
  custom_id: z.string().nullish(),
});
export type KongConsumer = z.infer<typeof kongConsumerSchema>;

/** Kong's jwt credential entity (kong-facts §3). */
export const kongCredentialSchema = z.object({
  id: z.string().min(1),
  key: z.string(),
  secret: z.string().nullish(),
  algorithm: z.string().default("HS256"),
  created_at: z.number().default(0),
});
export type KongCredential = z.infer<typeof kongCredentialSchema>;

export const kongCredentialPageSchema = z.object({
  data: z.array(kongCredentialSchema),
  next: z.string().nullish(),
  offset: z.string().nullish(),
});
