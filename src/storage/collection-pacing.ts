/**
 * Bounds the file chunks that wait, dead, for the garbage collector, whatever the throughput
 * (issue 15): the second half of "bounded by design", next to the windows of live chunks
 * (`spec/stream-window.ts`).
 *
 * Why: a chunk's bytes live outside V8's heap (an ArrayBuffer's backing store); a dead chunk's
 * bytes go back only when V8 collects the small object that holds them. V8 collects the young
 * generation when it fills with JavaScript objects, and a stream that only moves bytes (a
 * download, a copy to a provider) makes almost none: 200 MB of file allocate well under 1 MB of
 * objects. So dead chunks piled up until V8's external-memory limit (64 MB above the last
 * collection) forced a full collection, and the faster bytes arrived relative to that
 * collection, the higher the pile (the 30-45 MB of ArrayBuffers at bench:files' peaks).
 *
 * How: every byte the blob stores move (puts through the hashing meter, reads by `get`) is
 * counted here, process-wide; each `COLLECT_EVERY_BYTES` a young-generation collection runs,
 * which frees the chunks that died since the last one (they die young: a window holds them for
 * a moment). What waits for collection is then about `COLLECT_EVERY_BYTES`, for one stream or
 * many, at 10 MB/s or 400 MB/s. Cost: one young collection per 4 MiB moved, about a
 * millisecond (a young generation of 4 MiB at most, `--max-semi-space-size=4`, mostly empty).
 *
 * A chunk that stays alive across two young collections (it waited in the window of a slow
 * stream, a copy to a provider that reads slowly, while JSON work elsewhere filled the young
 * generation) is moved to the old generation, which only a full collection frees. So after each
 * young collection, when the ArrayBuffers still held exceed what the last full collection left
 * by `OLD_CHUNKS_LIMIT_BYTES` (what it left is alive: the windows of the streams running then),
 * a full collection runs: its cost follows how many chunks were promoted, not the throughput,
 * and it bounds them too. Measured from what is alive, a run of many streams at once does not
 * make it collect over and over.
 *
 * V8 offers this only through its `gc` function, exposed by the `--expose-gc` flag; set here at
 * run time, it is reachable only from a fresh context and never becomes a global of Portico's
 * own (no code can call it by accident). Should the flag not take, pacing is off and memory
 * behaves as before.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes moved between two young-generation collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

/** ArrayBuffers held after a young collection beyond those alive at the last full one, before another. */
export const OLD_CHUNKS_LIMIT_BYTES = 16 * 1024 * 1024;

type CollectGarbage = (options: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

function exposeCollector(): CollectGarbage | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as CollectGarbage) : undefined;
  } catch {
    return undefined;
  }
}

const collect = process.env.PORTICO_COLLECTION_PACING === '0' ? undefined : exposeCollector();
let sinceCollection = 0;
let fullCollectionAbove = OLD_CHUNKS_LIMIT_BYTES;

/** Counts bytes a file stream moved; collects the young generation every COLLECT_EVERY_BYTES. */
export function bytesMoved(bytes: number): void {
  if (collect === undefined) return;
  sinceCollection += bytes;
  if (sinceCollection < COLLECT_EVERY_BYTES) return;
  sinceCollection = 0;
  collect({ type: 'minor' });
  const held = process.memoryUsage().arrayBuffers;
  if (held > fullCollectionAbove) {
    collect({ type: 'major' });
    fullCollectionAbove = process.memoryUsage().arrayBuffers + OLD_CHUNKS_LIMIT_BYTES;
  } else if (held + 2 * OLD_CHUNKS_LIMIT_BYTES < fullCollectionAbove) {
    // The streams that were alive at the last full collection have ended.
    fullCollectionAbove = Math.max(OLD_CHUNKS_LIMIT_BYTES, held + OLD_CHUNKS_LIMIT_BYTES);
  }
}

/** Whether pacing runs (the collector could be reached). */
export function collectionPacingActive(): boolean {
  return collect !== undefined;
}
