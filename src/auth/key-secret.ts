/**
 * Virtual key secrets: how they are minted and how they are stored.
 *
 * A secret is `sk-` + 43 url-safe characters (32 random bytes). Only its SHA-256 hash is stored:
 * the secret is shown once, at `/key/generate`. SHA-256 (not a slow password hash) is right
 * here because the input is 256 bits of randomness, not a human password; it also keeps the hot
 * path (one hash per uncached request) cheap. Lookups go by hash, so comparing happens inside
 * the database index rather than in a timing-sensitive string comparison.
 */
import { hash, randomBytes } from 'node:crypto';

export const VIRTUAL_KEY_PREFIX = 'sk-';

export function generateKeySecret(): string {
  return VIRTUAL_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of the secret, as stored in `api_keys.key_hash`. */
export function hashKeySecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}
