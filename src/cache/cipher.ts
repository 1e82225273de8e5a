/**
 * AES-256-GCM for credential secrets at rest in Redis (crypto.subtle: off the hot path, so its worker
 * thread costs nothing that matters). The key id travels with each value, so rotating
 * CACHE_ENCRYPTION_KEY turns old values into cache misses instead of garbage.
 */
export interface SealedSecret {
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
}

export class SecretCipher {
  /** A fingerprint of the key, not the key: safe to store next to the ciphertext. */
  readonly keyId: string;
  private readonly key: Promise<CryptoKey>;

  constructor(rawKey: Uint8Array<ArrayBuffer>) {
    this.keyId = new Bun.CryptoHasher("sha256").update(rawKey).digest("hex").slice(0, 16);
    // Stryker disable next-line BooleanLiteral: the key never leaves this class; not extractable is defence in depth.
    this.key = crypto.subtle.importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  }

  /**
   * `context` (AES-GCM associated data) is authenticated with the ciphertext: the value opens only
   * with the very same context, so whatever the caller puts in it cannot be altered or moved.
   */
  async seal(plaintext: string, context: string): Promise<SealedSecret> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
      await this.key,
      new TextEncoder().encode(plaintext),
    );
    return {
      kid: this.keyId,
      iv: Buffer.from(iv).toString("base64"),
      ct: Buffer.from(ct).toString("base64"),
    };
  }

  /** Undefined when the value was sealed with another key, altered, or moved. */
  async open(sealed: SealedSecret, context: string): Promise<string | undefined> {
    // Stryker disable next-line ConditionalExpression: another key fails GCM authentication anyway; this spares the work.
    if (sealed.kid !== this.keyId) return undefined;
    let plaintext: ArrayBuffer | undefined;
    try {
      plaintext = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: new Uint8Array(Buffer.from(sealed.iv, "base64")),
          additionalData: new TextEncoder().encode(context),
        },
        await this.key,
        new Uint8Array(Buffer.from(sealed.ct, "base64")),
      );
    } catch {
      // Altered, moved, or sealed with another key: GCM authentication failed.
    }
    return plaintext && new TextDecoder().decode(plaintext);
  }
}
