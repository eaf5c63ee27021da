/**
 * The master key check, in constant time.
 *
 * Both sides are compared as buffers of one fixed size (the key's bytes, then zeros), so that
 * `timingSafeEqual` compares equal-length buffers and the comparison time reveals neither where
 * the keys differ nor the master key's length. The lengths are compared after the bytes, as a
 * separate integer test (a presented `key\0` must not match `key`). This used to hash both sides
 * to equal length instead: the same guarantees at the price of a SHA-256 on every request.
 */
import { timingSafeEqual } from 'node:crypto';

/** The compared size is this, or the master key's length rounded up to a multiple of it. */
const PADDED_BYTES = 512;

export type MasterKeyMatcher = (presented: string) => boolean;

export function createMasterKeyMatcher(masterKey: string): MasterKeyMatcher {
  // The config refuses these already; a blank master key must never be something one can match.
  if (masterKey.trim().length === 0) throw new Error('the master key must not be empty or blank');
  const masterBytes = Buffer.from(masterKey, 'utf8');
  const size = Math.max(1, Math.ceil(masterBytes.length / PADDED_BYTES)) * PADDED_BYTES;
  const expected = Buffer.alloc(size);
  masterBytes.copy(expected);
  // Reused: the check is synchronous, so one request's bytes never meet another's.
  const scratch = Buffer.alloc(size);
  return (presented) => {
    // More characters than the compared size means more bytes too: it cannot be the master key,
    // and answering early tells nothing about the master key's content.
    if (presented.length > size) return false;
    scratch.fill(0);
    // Stops at the buffer's end (without splitting a character): checked against the full length below.
    const written = scratch.write(presented, 'utf8');
    const sameBytes = timingSafeEqual(scratch, expected);
    return sameBytes && written === masterBytes.length && Buffer.byteLength(presented, 'utf8') === written;
  };
}
