import { z } from "zod";

/** What the admin routes answer: ids, algorithms and times, never a secret. */

const scopeSchema = z.enum(["all-instances", "this-instance"]).meta({
  description:
    "all-instances: published on the Redis invalidation channel; this-instance: without Redis (or with it down), only this instance dropped its copies",
});

export const invalidateResponseSchema = z
  .object({ consumerId: z.string(), scope: scopeSchema })
  .meta({ id: "InvalidateResponse", description: "Every cached copy of the consumer's credential dropped" });
export type InvalidateResponse = z.infer<typeof invalidateResponseSchema>;

export const rotateResponseSchema = z
  .object({
    consumerId: z.string(),
    credential: z
      .object({
        id: z.string(),
        algorithm: z.string(),
        created: z.boolean().meta({ description: "false: the active key's credential existed already" }),
      })
      .meta({ description: "The credential new tokens are signed with" }),
    retired: z
      .array(z.object({ id: z.string(), removeAfter: z.iso.datetime() }))
      .meta({ description: "Superseded credentials the service created, removed from Kong after that time" }),
    kept: z
      .array(z.object({ id: z.string(), reason: z.string() }))
      .meta({ description: "Other credentials of the consumer, never removed by the service, and why" }),
    scope: scopeSchema,
  })
  .meta({ id: "RotateResponse", description: "The consumer's rotation" });
export type RotateResponse = z.infer<typeof rotateResponseSchema>;
