import type { Handler } from "./pipeline.ts";
import type { RequestContext } from "./request-context.ts";
import type { Route } from "./route.ts";

/** The quality `accept` gives `mediaType`: that of the most specific range naming it (RFC 9110 §12.5.1). */
export function qualityOf(accept: string, mediaType: string): number {
  const [type] = mediaType.split("/");
  let best = { specificity: -1, q: 0 };
  for (const range of accept.split(",")) {
    const [name, ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    const specificity = name === mediaType ? 2 : name === `${type}/*` ? 1 : name === "*/*" ? 0 : -1;
    if (specificity < 0 || specificity < best.specificity) continue;
    const written = Number(parameters.find((parameter) => parameter.startsWith("q="))?.slice(2) ?? 1);
    const q = Number.isFinite(written) ? written : 0;
    // An exact type may be listed twice (OpenMetrics versions): the better quality counts.
    best = { specificity, q: specificity === best.specificity ? Math.max(best.q, q) : q };
  }
  return best.q;
}

/**
 * Which of `offered` to answer with: the one `accept` rates highest, the first (the default) on a
 * tie, and the first too when nothing offered is acceptable, so a client that asks for nothing in
 * particular (or something this route never answers with) gets the default.
 */
export function negotiate(accept: string | null, offered: readonly string[]): number {
  if (!accept) return 0;
  let chosen = 0;
  let best = qualityOf(accept, offered[0] as string);
  for (let index = 1; index < offered.length; index++) {
    const q = qualityOf(accept, offered[index] as string);
    if (q > best) {
      chosen = index;
      best = q;
    }
  }
  return chosen;
}

/** An answer in another media type than the route's JSON, for a request whose Accept prefers it. */
export interface Representation {
  readonly mediaType: string;
  readonly description: string;
  readonly handler: Handler;
}

export type NegotiatedRoute = Omit<Route, "also"> & { readonly representations: readonly Representation[] };

/**
 * A route answering in JSON by default and in each representation when Accept prefers it; the
 * document lists every one from the same record. Every answer says it varies with Accept.
 */
export function negotiated({ representations, handler, ...route }: NegotiatedRoute): Route {
  const offered = ["application/json", ...representations.map(({ mediaType }) => mediaType)];
  const handlers = [handler, ...representations.map((representation) => representation.handler)];
  return {
    ...route,
    also: representations.map(({ mediaType, description }) => ({ mediaType, description })),
    handler: async (request: Request, ctx: RequestContext) => {
      const chosen = handlers[negotiate(request.headers.get("accept"), offered)] as Handler;
      const response = await chosen(request, ctx);
      response.headers.append("vary", "Accept");
      return response;
    },
  };
}
