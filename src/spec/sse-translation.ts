/**
 * One stream of server-sent events turned into another as the bytes arrive: a chat completion
 * stream into Anthropic's events (`server/messages-api/message-answer.ts`) or the Responses API's
 * (`spec/responses-bridge.ts`). Each event's `data` is parsed and handed to the translator, which
 * answers the frames to send; `[DONE]` and the stream's end close it. Lines may end in CRLF.
 */
export interface SseTranslator {
  /** The frames for one event's parsed `data`, or for `[DONE]` (`undefined`). */
  onData(data: unknown): string[];
  /** The closing frames, once the source ended (empty when `[DONE]` already closed it). */
  finish(): string[];
}

export async function* translateServerSentEvents(chunks: AsyncIterable<Uint8Array>, translator: SseTranslator): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    if (pending.includes('\r')) pending = pending.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    let end = pending.indexOf('\n\n');
    while (end !== -1) {
      const data = pending
        .slice(0, end)
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      pending = pending.slice(end + 2);
      if (data === '[DONE]') out.push(...translator.onData(undefined));
      else if (data !== '') {
        const parsed = parsedOrUndefined(data);
        // Not JSON: not an event a translation reads.
        if (parsed !== undefined) out.push(...translator.onData(parsed));
      }
      end = pending.indexOf('\n\n');
    }
    if (out.length > 0) yield encoder.encode(out.join(''));
  }
  const rest = translator.finish();
  if (rest.length > 0) yield encoder.encode(rest.join(''));
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
