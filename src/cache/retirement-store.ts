import type { RedisConnection } from "./redis-connection.ts";

/** A credential the service created and a newer one superseded: deleted in Kong once it is due. */
export interface Retirement {
  /** The X-Consumer-ID its cache entries live under. */
  readonly consumerId: string;
  /** The consumer Kong holds the credential under. */
  readonly kongConsumerId: string;
  readonly credentialId: string;
}

/** One retirement and when it is due, epoch milliseconds. */
export interface DueRetirement extends Retirement {
  readonly dueAt: number;
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
  claimDue(now: number, leaseUntil: number, limit: number): Promise<DueRetirement[]>;
  /** Forgets a retirement: done, or not to be done. */
  finish(retirement: Retirement): Promise<void>;
  /** When a recorded retirement is due; undefined when it is not recorded. */
  dueAt(retirement: Retirement): Promise<number | undefined>;
}

/** One member per credential: the same retirement scheduled twice is one entry. */
function member({ consumerId, kongConsumerId, credentialId }: Retirement): string {
  return JSON.stringify([consumerId, kongConsumerId, credentialId]);
}

function fromMember(text: string, dueAt: number): DueRetirement | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 3 || !fields.every((field) => typeof field === "string")) {
    return undefined;
  }
  const [consumerId, kongConsumerId, credentialId] = fields as [string, string, string];
  return { consumerId, kongConsumerId, credentialId, dueAt };
}

/** This instance only: what a service without Redis (or with Redis down) remembers. */
export class MemoryRetirementStore implements RetirementStore {
  private readonly due = new Map<string, number>();

  async schedule(retirement: Retirement, dueAt: number): Promise<boolean> {
    const key = member(retirement);
    if (!this.due.has(key)) this.due.set(key, dueAt);
    return true;
  }

  async postpone(retirement: Retirement, dueAt: number): Promise<void> {
    const key = member(retirement);
    const current = this.due.get(key);
    if (current !== undefined && dueAt > current) this.due.set(key, dueAt);
  }

  /** The earliest due first, as Redis's sorted set gives them. */
  async claimDue(now: number, leaseUntil: number, limit: number): Promise<DueRetirement[]> {
    const due = [...this.due].filter(([, dueAt]) => dueAt <= now).sort(([, a], [, b]) => a - b);
    const claimed: DueRetirement[] = [];
    for (const [key, dueAt] of due.slice(0, limit)) {
      this.due.set(key, leaseUntil);
      const retirement = fromMember(key, dueAt);
      if (retirement) claimed.push(retirement);
    }
    return claimed;
  }

  async finish(retirement: Retirement): Promise<void> {
    this.due.delete(member(retirement));
  }

  async dueAt(retirement: Retirement): Promise<number | undefined> {
    return this.due.get(member(retirement));
  }
}

/** Takes due members and leases them in one step, so two instances never claim the same one. */
const CLAIM_DUE = `
local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
for i = 1, #due, 2 do redis.call('zadd', KEYS[1], 'XX', ARGV[2], due[i]) end
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
    const reply = await this.zadd(["NX"], dueAt, retirement);
    return reply !== undefined;
  }

  async postpone(retirement: Retirement, dueAt: number): Promise<void> {
    await this.zadd(["XX", "GT"], dueAt, retirement);
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<DueRetirement[]> {
    const reply = await this.connection.run(
      (client) =>
        client.eval(CLAIM_DUE, {
          keys: [this.key],
          arguments: [String(now), String(leaseUntil), String(limit)],
        }),
      undefined,
    );
    if (!Array.isArray(reply)) return [];
    const claimed: DueRetirement[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const retirement = fromMember(String(reply[i]), Number(reply[i + 1]));
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

  private zadd(flags: string[], dueAt: number, retirement: Retirement) {
    const args = ["ZADD", this.key, ...flags, String(Math.ceil(dueAt)), member(retirement)];
    return this.connection.run((client) => client.sendCommand(args), undefined);
  }
}
