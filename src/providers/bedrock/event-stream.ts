/**
 * AWS event-stream framing (`application/vnd.amazon.eventstream`) -> messages, decoded with
 * `@smithy/eventstream-codec` (the SDK's own codec: prelude, headers, payload, both CRC32s checked).
 * (https://smithy.io/2.0/aws/amazon-eventstream.html, `docs/specs/bedrock.md` §Event stream)
 *
 * Each message has `:message-type` `event` (with `:event-type`, the union member: `messageStart`,
 * `contentBlockDelta`, ...) or `exception` (with `:exception-type`: `throttlingException`, ...),
 * and a JSON payload. Bytes are pulled at the consumer's pace; a broken frame (bad CRC, a body
 * that ends mid-message) is a connection error.
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';

export interface StreamMessage {
  kind: 'event' | 'exception' | 'error';
  /** `:event-type` or `:exception-type` (`:error-code` for an `error` message). */
  type: string;
  payload: unknown;
}

export async function* decodeEventStream(body: AsyncIterable<Uint8Array>, upstreamName = 'Amazon Bedrock'): AsyncGenerator<StreamMessage> {
  // Loaded with the first stream, not at start.
  const [{ EventStreamCodec }, { fromUtf8, toUtf8 }] = await Promise.all([import('@smithy/eventstream-codec'), import('@smithy/util-utf8')]);
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  // Messages are cut out of the bytes by their prelude's total length (a chunk may hold part of
  // one, or several), then decoded whole by the codec, which checks both CRCs.
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    while (pending.length >= PRELUDE_BYTES) {
      const total = pending.readUInt32BE(0);
      if (total < MIN_MESSAGE_BYTES || total > MAX_MESSAGE_BYTES) throw malformed(upstreamName, `a message of ${total} bytes`);
      if (pending.length < total) break;
      const frame = pending.subarray(0, total);
      pending = pending.subarray(total);
      let message;
      try {
        message = codec.decode(frame);
      } catch (error) {
        throw malformed(upstreamName, error instanceof Error ? error.message : String(error));
      }
      yield messageOf(message.headers, toUtf8(message.body));
    }
  }
  if (pending.length > 0) throw new UpstreamConnectionError(`The ${upstreamName} event stream ended in the middle of a message.`);
}

/** Total length and headers length, then the prelude's CRC. */
const PRELUDE_BYTES = 12;
/** A prelude and the message CRC, without headers or payload. */
const MIN_MESSAGE_BYTES = 16;
/** The event-stream format's bound on a message (16 MiB). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function malformed(upstreamName: string, what: string): UpstreamConnectionError {
  return new UpstreamConnectionError(`The ${upstreamName} event stream is malformed: ${what}`);
}

function messageOf(headers: Record<string, { type: string; value: unknown }>, text: string): StreamMessage {
  const header = (name: string) => {
    const value = headers[name]?.value;
    return typeof value === 'string' ? value : undefined;
  };
  const messageType = header(':message-type') ?? 'event';
  let payload: unknown = undefined;
  if (text !== '') {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { message: text.slice(0, 1000) };
    }
  }
  if (messageType === 'exception') return { kind: 'exception', type: header(':exception-type') ?? 'InternalServerException', payload };
  if (messageType === 'error') return { kind: 'error', type: header(':error-code') ?? 'InternalServerException', payload: payload ?? { message: header(':error-message') } };
  return { kind: 'event', type: header(':event-type') ?? '', payload };
}
