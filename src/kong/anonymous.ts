const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Kong's anonymous consumer(s), named the way an auth plugin's `anonymous` setting names one: by id
 * or by username (KONG_ANONYMOUS_CONSUMERS). Kong loads that setting by id and then by username, so
 * a UUID-shaped value is matched both ways.
 */
export class AnonymousConsumers {
  private readonly ids = new Set<string>();
  /** Holds strings only: a consumer without a username is never found here. */
  private readonly usernames = new Set<string | null | undefined>();

  constructor(idsOrUsernames: readonly string[]) {
    for (const value of idsOrUsernames) {
      this.usernames.add(value);
      if (UUID.test(value)) this.ids.add(value.toLowerCase());
    }
  }

  /** `id` must already be lower-cased. */
  includes(id: string, username: string | null | undefined): boolean {
    return this.ids.has(id) || this.usernames.has(username);
  }
}
