/**
 * The master key check, in constant time.
 *
 * Both sides are hashed first so that `timingSafeEqual` compares equal-length buffers and the
 * comparison time does not reveal the master key's length either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export type MasterKeyMatcher = (presented: string) => boolean;

export function createMasterKeyMatcher(masterKey: string): MasterKeyMatcher {
  const expected = digest(masterKey);
  return (presented) => timingSafeEqual(digest(presented), expected);
}
