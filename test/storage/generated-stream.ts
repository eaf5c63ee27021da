/**
 * A stream of pseudo-random bytes for blob store tests: made piece by piece (never held whole),
 * hashing what it emits, so a test knows the expected sha256 and length without buffering.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface GeneratedStreamOptions {
  /** Destroy the stream with "client went away" once this many bytes were sent. */
  failAfter?: number;
  /** Size of each piece pushed (default 64 KiB). */
  pieceBytes?: number;
  /** Called after each piece (memory sampling). */
  onChunk?: () => void;
}

export function generatedStream(totalBytes: number, options: GeneratedStreamOptions = {}) {
  const hash = createHash('sha256');
  const pieceBytes = options.pieceBytes ?? 64 * 1024;
  let sent = 0;
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  const stream = new Readable({
    read() {
      if (options.failAfter !== undefined && sent >= options.failAfter) {
        this.destroy(new Error('client went away'));
        return;
      }
      if (sent >= totalBytes) {
        this.push(null);
        return;
      }
      const size = Math.min(pieceBytes, totalBytes - sent);
      const piece = Buffer.allocUnsafe(size);
      let i = 0;
      for (; i + 4 <= size; i += 4) piece.writeUInt32LE(next(), i);
      for (; i < size; i++) piece[i] = next() >>> 24;
      hash.update(piece);
      sent += size;
      options.onChunk?.();
      this.push(piece);
    },
  });
  return { stream, sha256: () => hash.digest('hex'), sent: () => sent };
}
