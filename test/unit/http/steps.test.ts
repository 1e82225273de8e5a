import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { RequestContext } from "../../../src/http/request-context.ts";
import { CommonHeaders } from "../../../src/http/request-context.ts";
import { behind, guard, type Step } from "../../../src/http/steps.ts";

const ctx: RequestContext = {
  requestId: "r-1",
  startedAt: 0,
  server: {} as Server<unknown>,
  headers: {},
  common: new CommonHeaders({}),
  headersGiven: false,
};
const request = () => new Request("http://auth.internal/tokens");

/** A step that notes it ran and adds its name to the context's trail. */
function noting(
  name: string,
  seen: string[],
): Step<RequestContext & { trail?: string[] }, RequestContext & { trail: string[] }> {
  return (req, context, next) => {
    seen.push(name);
    return next(req, { ...context, trail: [...(context.trail ?? []), name] });
  };
}

describe("behind: steps in front of a handler", () => {
  test("the steps run in the order given, each passing what it learnt to the next and the handler", async () => {
    const seen: string[] = [];
    const handler = behind(
      noting("trust", seen),
      noting("identity", seen),
      noting("limit", seen),
      (_r, c) => {
        seen.push("handler");
        return new Response(`${c.requestId} ${c.trail.join(">")}`);
      },
    );
    const response = await handler(request(), ctx);
    expect(seen).toEqual(["trust", "identity", "limit", "handler"]);
    expect(await response.text()).toBe("r-1 trust>identity>limit");
  });

  test("one or two steps compose the same way", async () => {
    const seen: string[] = [];
    const one = behind(noting("a", seen), (_r, c) => new Response(c.trail.join(">")));
    expect(await (await one(request(), ctx)).text()).toBe("a");
    const two = behind(noting("a", seen), noting("b", seen), (_r, c) => new Response(c.trail.join(">")));
    expect(await (await two(request(), ctx)).text()).toBe("a>b");
  });

  test("a step that answers stops the request there: later steps and the handler never run", () => {
    const seen: string[] = [];
    const refusing: Step<RequestContext, RequestContext> = () => new Response("no", { status: 403 });
    const handler = behind(noting("first", seen), refusing, noting("after", seen), () => {
      seen.push("handler");
      return new Response("yes");
    });
    const response = handler(request(), ctx) as Response;
    expect(response.status).toBe(403);
    expect(seen).toEqual(["first"]);
  });

  test("a synchronous chain answers synchronously (no promise on the hot path)", () => {
    const handler = behind(
      guard(
        () => undefined,
        () => {},
      ),
      () => new Response("sync"),
    );
    expect(handler(request(), ctx)).toBeInstanceOf(Response);
  });
});

describe("guard: a step that only checks", () => {
  test("nothing to say: the request goes on with the same context, and nothing is counted as refused", async () => {
    let refusals = 0;
    let received: RequestContext | undefined;
    const step = guard(
      () => undefined,
      () => refusals++,
    );
    const response = step(request(), ctx, (_r, c) => {
      received = c;
      return new Response("through");
    }) as Response;
    expect(await response.text()).toBe("through");
    expect(received).toBe(ctx);
    expect(refusals).toBe(0);
  });

  test("an answer is sent instead of the handler's, and the refusal is told once", async () => {
    let refusals = 0;
    let handled = false;
    const checked: Request[] = [];
    const step = guard(
      (req: Request) => {
        checked.push(req);
        return new Response("forged", { status: 401 });
      },
      () => refusals++,
    );
    const sent = request();
    const response = step(sent, ctx, () => {
      handled = true;
      return new Response("through");
    }) as Response;
    expect(response.status).toBe(401);
    expect(await response.text()).toBe("forged");
    expect(checked).toEqual([sent]);
    expect(refusals).toBe(1);
    expect(handled).toBe(false);
  });
});
