/**
 * Storage namespaces of the identity module, derived from one prefix so several identity
 * instances can share a storage without seeing each other's documents.
 * @internal
 */
export interface IdentityNamespaces {
  /** `users/<id>` → user record. */
  readonly users: string;
  /** `<normalised email>` → { userId }: the uniqueness index. */
  readonly emails: string;
  /** `<lower-case address>` → { userId }: Ethereum addresses linked to users. */
  readonly addresses: string;
  /** `<userId>/<sessionId>` → session (refresh token family). */
  readonly sessions: string;
  /** `<sha3 of refresh token>` → refresh token record. */
  readonly refresh: string;
  /** `<userId>` → TOTP credential and recovery codes. */
  readonly mfa: string;
  /** Attempt counters and locks. */
  readonly throttle: string;
  /** `<userId>/<walletId>` → HD wallet (mnemonic encrypted). */
  readonly wallets: string;
  /** Single-use values: SIWE nonces, consumed challenge ids. */
  readonly nonces: string;
  /** Signing key sets. */
  readonly keys: string;
}

/** Namespaces under `prefix` (default `identity`). */
export function identityNamespaces(prefix = 'identity'): IdentityNamespaces {
  return {
    users: `${prefix}.users`,
    emails: `${prefix}.emails`,
    addresses: `${prefix}.addresses`,
    sessions: `${prefix}.sessions`,
    refresh: `${prefix}.refresh`,
    mfa: `${prefix}.mfa`,
    throttle: `${prefix}.throttle`,
    wallets: `${prefix}.wallets`,
    nonces: `${prefix}.nonces`,
    keys: `${prefix}.keys`,
  };
}

/** A TTL for a document that must live until `expiresAt` (plus slack), at least 1 ms. */
export function ttlUntil(expiresAt: number, now: number, slackMs = 60_000): number {
  return Math.max(1, Math.ceil(expiresAt - now + slackMs));
}

/** A stored document typed by its record (records are plain JSON, but typed as interfaces). */
export interface Doc<T> {
  readonly namespace: string;
  readonly key: string;
  readonly value: T;
  readonly version: number;
  readonly expiresAt: number | null;
}
