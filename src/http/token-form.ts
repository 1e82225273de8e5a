import { oauthError } from "./oauth-error.ts";
import { bodyTooLarge } from "./problem.ts";

/** The answer to a form that cannot be used, and how the token metrics count it. */
export interface FormRefusal {
  readonly reason: "invalid_request" | "body_too_large";
  readonly response: Response;
}

export const FORM_MEDIA_TYPE = "application/x-www-form-urlencoded";
/** The media type, in any case, alone or before its parameters (`; charset=UTF-8`). */
const FORM_CONTENT_TYPE = new RegExp(`^${FORM_MEDIA_TYPE}\\s*(;|$)`, "i");

/**
 * Checks a client-credentials request (RFC 6749 §4.4.2): undefined when a token may be issued, else the
 * §5.2 error to answer. Other parameters are ignored, as §3.2 requires; the consumer is Kong's. `scope` is refused rather than ignored: the token carries no scope, and a client that
 * asked for one must not believe it got it (§3.3). An empty value counts as absent and a repeated
 * parameter is malformed, both per §3.2.
 */
export async function readTokenForm(request: Request, maxBytes: number): Promise<FormRefusal | undefined> {
  // Without the header, String(null) is "null", which no form type matches.
  if (!FORM_CONTENT_TYPE.test(String(request.headers.get("content-type")))) {
    return refused(`The body must be ${FORM_MEDIA_TYPE}.`);
  }
  const body = await request.arrayBuffer();
  if (body.byteLength > maxBytes) {
    return { reason: "body_too_large", response: bodyTooLarge(maxBytes, oauthError) };
  }
  const form = new URLSearchParams(new TextDecoder().decode(body));
  for (const name of ["grant_type", "scope"]) {
    if (form.getAll(name).length > 1) return refused(`${name} is given more than once.`);
  }
  const grantType = form.get("grant_type");
  if (!grantType) return refused("grant_type is missing.");
  if (grantType !== "client_credentials") {
    return refused("Only grant_type=client_credentials is supported.", "unsupported_grant_type");
  }
  if (form.get("scope"))
    return refused("This service issues tokens without scopes; omit scope.", "invalid_scope");
  return undefined;
}

function refused(
  detail: string,
  error: "invalid_request" | "unsupported_grant_type" | "invalid_scope" = "invalid_request",
): FormRefusal {
  return { reason: "invalid_request", response: oauthError(400, { error, detail }) };
}
