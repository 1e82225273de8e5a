const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/** A JSON answer that no cache keeps. */
export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
