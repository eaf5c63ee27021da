/**
 * The client's `custom_id` of input line `index`, for results that come back keyed by line index
 * (the inline executor's surrogates). An input holds up to 50,000 ids of up to 512 characters:
 * they are never all held. One reader walks the input forward as results ask for later lines;
 * the ids it passes over (their results have not come yet) are kept, at most `window` of them.
 * Results arrive mostly in input order, so that is one pass and a few ids held; an id that is
 * behind the reader and no longer kept is found by a fresh pass over the input (results far out
 * of order cost reading time, never memory).
 */
import type { BatchInputLine } from '../../../spec/openai-objects.ts';

/** Ids passed over and still awaited, kept by default: 1,024 x 512 characters at most. */
export const DEFAULT_WINDOW = 1024;

export class CustomIdLookup {
  readonly #open: () => AsyncIterable<BatchInputLine>;
  readonly #window: number;
  /** Ids the reader passed over, by line index, oldest first. */
  readonly #passed = new Map<number, string>();
  #reader: AsyncIterator<BatchInputLine> | undefined;
  /** The index of the line the reader gives next. */
  #next = 0;
  #ended = false;

  constructor(open: () => AsyncIterable<BatchInputLine>, window = DEFAULT_WINDOW) {
    this.#open = open;
    this.#window = window;
  }

  /** How many ids are held now (at most the window). */
  get held(): number {
    return this.#passed.size;
  }

  /** The `custom_id` of line `index`; undefined when the input has no such line. */
  async idOf(index: number): Promise<string | undefined> {
    if (!Number.isInteger(index) || index < 0) return undefined;
    const passed = this.#passed.get(index);
    if (passed !== undefined) {
      this.#passed.delete(index);
      return passed;
    }
    if (index < this.#next) return this.#readAgain(index);
    if (this.#ended) return undefined;
    this.#reader ??= this.#open()[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.#reader.next();
      if (next.done) {
        this.#ended = true;
        return undefined;
      }
      const at = this.#next;
      this.#next += 1;
      if (at === index) return next.value.custom_id;
      this.#passed.set(at, next.value.custom_id);
      // The oldest goes first: results run roughly in order, so it is the least likely to be asked for.
      if (this.#passed.size > this.#window) this.#passed.delete(this.#passed.keys().next().value!);
    }
  }

  /** Closes the input reader. */
  async close(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    this.#ended = true;
    this.#passed.clear();
    await reader?.return?.();
  }

  /** A line behind the reader and no longer kept: one more pass over the input, up to it. */
  async #readAgain(index: number): Promise<string | undefined> {
    let at = 0;
    for await (const line of this.#open()) {
      if (at === index) return line.custom_id;
      at += 1;
    }
    return undefined;
  }
}
