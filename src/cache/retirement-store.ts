import type { ZAddOptions } from "./redis-clients.ts";
import type { RedisConnection } from "./redis-connection.ts";

/** A credential the service created and a newer one superseded: deleted in Kong once it is due. */
export interface Retirement {
  /** The X-Consumer-ID its cache entries live under. */
  readonly consumerId: string;
  /** The consumer Kong holds the credential under. */
  readonly kongConsumerId: string;
  readonly credentialId: string;
}

/**
 * Where retirements wait for their time. Every method answers false or nothing rather than throwing:
 * a retirement that cannot be recorded is a credential left in Kong, never one deleted early.
 */
export interface RetirementStore {
  /** Records the retirement unless it is recorded already (the earlier time stands); false if not recorded. */
  schedule(retirement: Retirement, dueAt: number): Promise<boolean>;
  /** Moves a recorded retirement later, never earlier; nothing when it is not recorded. */
  postpone(retirement: Retirement, dueAt: number): Promise<void>;
  /**
   * Claims up to `limit` due retirements: each is moved to `leaseUntil`, so no other instance takes
   * it meanwhile, and comes back then if the claimer never finishes.
   */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<Retirement[]>;
  /** Forgets a retirement: done, or not to be done. */
  finish(retirement: Retirement): Promise<void>;
  /** When a recorded retirement is due; undefined when it is not recorded. */
  dueAt(retirement: Retirement): Promise<number | undefined>;
}

/** One member per credential: the same retirement scheduled twice is one entry. */
function member({ consumerId, kongConsumerId, credentialId }: Retirement): string {
  return JSON.stringify([consumerId, kongConsumerId, credentialId]);
}

/** A member written by this service, or undefined for anything else in the set. */
function fromMember(text: string): Retirement | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    // Not JSON: not one of ours, refused below like any other foreign member.
  }
  if (!Array.isArray(fields) || fields.length !== 3 || !fields.every((field) => typeof field === "string")) {
    return undefined;
  }
  const [consumerId, kongConsumerId, credentialId] = fields as [string, string, string];
  return { consumerId, kongConsumerId, credentialId };
}

/** This instance only: what a service without Redis (or with Redis down) remembers. */
export class MemoryRetirementStore implements RetirementStore {
  /** By member, as in Redis: the same retirement is one entry. */
  private readonly due = new Map<string, { readonly retirement: Retirement; dueAt: number }>();

  async schedule(retirement: Retirement, dueAt: number): Promise<boolean> {
    const key = member(retirement);
    if (!this.due.has(key)) this.due.set(key, { retirement, dueAt });
    return true;
  }

  async postpone(retirement: Retirement, dueAt: number): Promise<void> {
    const recorded = this.due.get(member(retirement));
    if (recorded) recorded.dueAt = Math.max(recorded.dueAt, dueAt);
  }

  /** The earliest due first, as Redis's sorted set gives them. */
  async claimDue(now: number, leaseUntil: number, limit: number): Promise<Retirement[]> {
    const due = [...this.due.values()].filter((entry) => entry.dueAt <= now);
    due.sort((a, b) => a.dueAt - b.dueAt);
    return due.slice(0, limit).map((entry) => {
      entry.dueAt = leaseUntil;
      return entry.retirement;
    });
  }

  async finish(retirement: Retirement): Promise<void> {
    this.due.delete(member(retirement));
  }

  async dueAt(retirement: Retirement): Promise<number | undefined> {
    return this.due.get(member(retirement))?.dueAt;
  }
}

/** Takes due members and leases them in one step, so two instances never claim the same one. */
const CLAIM_DUE = `
local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('zadd', KEYS[1], 'XX', ARGV[2], member) end
return due`;

/** Every instance's retirements in one sorted set, `<prefix>:retirements`, scored by due time. */
export class RedisRetirementStore implements RetirementStore {
  private readonly key: string;

  constructor(
    private readonly connection: RedisConnection,
    prefix: string,
  ) {
    this.key = `${prefix}:retirements`;
  }

  async schedule(retirement: Retirement, dueAt: number): Promise<boolean> {
    const reply = await this.zadd({ condition: "NX" }, dueAt, retirement);
    return reply !== undefined;
  }

  async postpone(retirement: Retirement, dueAt: number): Promise<void> {
    await this.zadd({ condition: "XX", comparison: "GT" }, dueAt, retirement);
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<Retirement[]> {
    const reply = await this.connection.run(
      (client) =>
        client.eval(CLAIM_DUE, {
          keys: [this.key],
          arguments: [String(now), String(leaseUntil), String(limit)],
        }),
      undefined,
    );
    if (!Array.isArray(reply)) return [];
    const claimed: Retirement[] = [];
    for (const text of reply) {
      const retirement = fromMember(String(text));
      if (retirement) claimed.push(retirement);
    }
    return claimed;
  }

  async finish(retirement: Retirement): Promise<void> {
    await this.connection.run((client) => client.zRem(this.key, member(retirement)), undefined);
  }

  async dueAt(retirement: Retirement): Promise<number | undefined> {
    const score = await this.connection.run((client) => client.zScore(this.key, member(retirement)), null);
    return typeof score === "number" ? score : undefined;
  }

  private zadd(options: ZAddOptions, dueAt: number, retirement: Retirement) {
    const entry = { score: Math.ceil(dueAt), value: member(retirement) };
    return this.connection.run((client) => client.zAdd(this.key, entry, options), undefined);
  }
}
