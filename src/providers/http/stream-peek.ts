/**
 * The first event of an upstream stream, read before the answer is handed out: an error that
 * comes before any content is thrown here, so routing can still retry or fall back before a byte
 * reaches the client. `skip` passes over keep-alive events (Anthropic's `ping`).
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';

export async function peekStream<T>(
  events: AsyncGenerator<T>,
  options: { errorOf(event: T): Error | null; skip?(event: T): boolean; upstreamName: string },
): Promise<AsyncGenerator<T>> {
  for (;;) {
    const next = await events.next().catch(async (error: unknown) => {
      await events.return(undefined);
      throw error;
    });
    if (next.done) throw new UpstreamConnectionError(`The ${options.upstreamName} stream ended before its first event.`);
    if (options.skip?.(next.value)) continue;
    const error = options.errorOf(next.value);
    if (error !== null) {
      await events.return(undefined);
      throw error;
    }
    return prepend(next.value, events);
  }
}

/** The peeked event, then the rest; closing this closes the upstream. */
async function* prepend<T>(first: T, rest: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield first;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return(undefined);
  }
}
