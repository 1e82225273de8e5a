import type { z } from "zod";
import { bodyTooLarge, problem } from "./problem.ts";

/**
 * Reads a small JSON body and validates it. An empty body is `{}` so schemas with defaults work for
 * bodiless POSTs. Bad JSON or a schema mismatch is a 400 problem naming the fields, never the values.
 */
export async function readJson<T>(
  request: Request,
  schema: z.ZodType<T>,
  maxBytes: number,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  const text = await request.text();
  if (text.length > maxBytes) {
    return { ok: false, response: bodyTooLarge(maxBytes) };
  }
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      return {
        ok: false,
        response: problem(400, { type: "invalid-body", detail: "The body is not valid JSON." }),
      };
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
  return { ok: false, response: problem(400, { type: "invalid-body", detail: fields.join("; ") }) };
}
