import type { z } from "zod";
import { readJson } from "./body.ts";
import type { Handler } from "./pipeline.ts";
import type { Refuse } from "./problem.ts";
import type { RequestContext } from "./request-context.ts";

export type Method = "GET" | "POST" | "DELETE";

/** An answer the route gives besides its success; without a schema, a problem document. */
export interface AnswerDoc {
  readonly description: string;
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly schema?: z.ZodType;
}

/** A text body the success may be answered with instead of JSON. */
export interface AlternativeAnswer {
  readonly mediaType: string;
  readonly description: string;
}

/** How a route's errors look, when not RFC 9457 problems: for the pipeline and the document alike. */
export interface ErrorFormat {
  readonly refuse: Refuse;
  readonly mediaType: string;
  readonly schema: z.ZodType;
}

/** A header or query parameter; path parameters are read from the path itself. */
export interface Parameter {
  readonly name: string;
  readonly in: "header" | "query";
  readonly required: boolean;
  readonly description?: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

/**
 * One route: what Bun mounts, what the OpenAPI document says, and what the request must hold come
 * from this one record, so no route is served undocumented or documented without being served.
 */
export interface Route {
  readonly method: Method;
  /** Bun's route pattern; `:name` segments are documented as path parameters. */
  readonly path: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly ok: AnswerDoc & { readonly status: number; readonly schema: z.ZodType };
  readonly extra?: Readonly<Record<string, AnswerDoc>>;
  readonly parameters?: readonly Parameter[];
  readonly security?: readonly Readonly<Record<string, string[]>>[];
  /** Other media types the success is also answered in, chosen by Accept (see negotiated). */
  readonly also?: readonly AlternativeAnswer[];
  /**
   * The request body as the document shows it; JSON unless `bodyMediaType`. A JSON body is validated
   * against it before the handler runs (see withBody); POST /tokens's form is read by a step of its own
   * (src/http/token-form.ts).
   */
  readonly body?: z.ZodType;
  readonly bodyMediaType?: string;
  /** Every error this route answers itself, the pipeline's 413 and 500 included; problems otherwise. */
  readonly errors?: ErrorFormat;
  readonly handler: Handler;
}

export type BodyRoute<T> = Omit<Route, "body" | "handler"> & {
  readonly body: z.ZodType<T>;
  /** Below the pipeline's limit: these bodies are small. */
  readonly maxBodyBytes: number;
  readonly handle: (body: T, request: Request, ctx: RequestContext) => Response | Promise<Response>;
};

/**
 * A route whose handler receives its body parsed and validated against the schema the document
 * shows; a body that does not fit is answered 400 (413 over `maxBodyBytes`) by readJson.
 */
export function withBody<T>({ body, maxBodyBytes, handle, ...route }: BodyRoute<T>): Route {
  return {
    ...route,
    body,
    handler: async (request, ctx) => {
      const read = await readJson(request, body, maxBodyBytes);
      return read.ok ? handle(read.value, request, ctx) : read.response;
    },
  };
}
