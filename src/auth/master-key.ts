/**
 * The master key check, in constant time.
 *
 * Both sides are hashed first so that `timingSafeEqual` compares equal-length buffers and the
 * comparison time does not reveal the master key's length either.
 */
import { hash, timingSafeEqual } from 'node:crypto';

/** One-shot `crypto.hash`: no Hash object per request (it runs on every authenticated request). */
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

export type MasterKeyMatcher = (presented: string) => boolean;

export function createMasterKeyMatcher(masterKey: string): MasterKeyMatcher {
  const expected = digest(masterKey);
  return (presented) => timingSafeEqual(digest(presented), expected);
}
