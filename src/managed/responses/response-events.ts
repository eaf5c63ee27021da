/**
 * A Responses event stream with its response objects rewritten (`response.created`,
 * `response.in_progress`, `response.completed`, ... carry the whole response, and with it its id):
 * the events are split as they arrive, and only those that carry a `response` object are parsed
 * and written again; every other event (the text deltas) passes as it came. A rewrite may take
 * its time (storing the finished response): the event waits for it, and so do the ones after.
 */

type Json = Record<string, unknown>;

/** Only an event with this text can carry a response object (inside a JSON string the quotes would be escaped). */
const RESPONSE_KEY = '"response":';

export type ResponseRewrite = (response: Json) => Json | Promise<Json>;

export async function* withResponseIdsInEvents(source: AsyncIterable<Uint8Array>, rewrite: ResponseRewrite): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  for await (const chunk of source) {
    pending += decoder.decode(chunk, { stream: true });
    let out = '';
    let start = 0;
    for (let end = eventEnd(pending, start); end !== -1; end = eventEnd(pending, start)) {
      const event = rewrittenEvent(pending.slice(start, end), rewrite);
      out += typeof event === 'string' ? event : await event;
      start = end;
    }
    if (start > 0) pending = pending.slice(start);
    if (out !== '') yield encoder.encode(out);
  }
  pending += decoder.decode();
  if (pending !== '') yield encoder.encode(await rewrittenEvent(pending, rewrite));
}

/** Where the event starting at `from` ends, its blank line included (`\n\n` or `\r\n\r\n`); -1 while incomplete. */
function eventEnd(text: string, from: number): number {
  const lf = text.indexOf('\n\n', from);
  const crlf = text.indexOf('\r\n\r\n', from);
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
  return lf === -1 ? -1 : lf + 2;
}

/** One event's text, its data rewritten when it is a JSON object with a `response` object that has an id. */
function rewrittenEvent(event: string, rewrite: ResponseRewrite): string | Promise<string> {
  if (!event.includes(RESPONSE_KEY)) return event;
  const lines = event.split(/\r?\n/);
  const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
  if (data.length === 0) return event;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch {
    return event;
  }
  const response = (parsed as { response?: unknown } | null)?.response;
  if (response === null || typeof response !== 'object' || typeof (response as Json).id !== 'string') return event;
  const newline = event.includes('\r\n') ? '\r\n' : '\n';
  const kept = lines.filter((line) => line !== '' && !line.startsWith('data:'));
  const written = (rewritten: Json) => [...kept, `data: ${JSON.stringify({ ...(parsed as Json), response: rewritten })}`].join(newline) + newline + newline;
  const rewritten = rewrite(response as Json);
  return rewritten instanceof Promise ? rewritten.then(written) : written(rewritten);
}
