/**
 * Bedrock `ConverseStream` events -> OpenAI `chat.completion.chunk` server-sent events.
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html,
 * `ConverseStreamOutput` in the service model, `docs/specs/bedrock.md` §ConverseStream)
 *
 * Bedrock: `messageStart {role}`, per content block `contentBlockStart` (tool use: id and name),
 * `contentBlockDelta` (`text`, `toolUse.input` as a piece of JSON text, or `reasoningContent`:
 * Claude's thinking text, its signature, or redacted bytes), `contentBlockStop`,
 * then `messageStop {stopReason}` and `metadata {usage, metrics}`; an exception message may
 * replace the rest. OpenAI: a first chunk with the role, content and tool-call deltas, a chunk
 * with `finish_reason`, optionally a usage chunk, then `data: [DONE]`.
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';
import type { OpenAIFinishReason } from '../anthropic/chat-response.ts';
import { chunkFrame, DONE_FRAME, usageChunkFrame } from '../../spec/chat-chunks.ts';
import { finishReasonOfStop, usageOfConverse, type ConverseTokenUsage } from './converse-response.ts';
import { awsErrorToUpstreamError, isRecord } from './errors.ts';
import type { StreamMessage } from './event-stream.ts';

export interface ConverseStreamTranslationOptions {
  id: string;
  created: number;
  model: string;
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
  deploymentId?: string;
}

/** An exception message of the stream as Portico's error. */
export function streamErrorOf(message: StreamMessage, deploymentId?: string): Error | null {
  return message.kind === 'event' ? null : awsErrorToUpstreamError({ errorType: message.type, body: message.payload, deploymentId });
}

export class ConverseStreamTranslator {
  done = false;
  private readonly options: ConverseStreamTranslationOptions;
  private finish: OpenAIFinishReason | null = null;
  private usage: ConverseTokenUsage | undefined;
  private readonly toolCallIndexes = new Map<number, number>();

  constructor(options: ConverseStreamTranslationOptions) {
    this.options = options;
  }

  onMessage(message: StreamMessage): string[] {
    if (this.done) return [];
    const error = streamErrorOf(message, this.options.deploymentId);
    if (error !== null) {
      this.done = true;
      throw error;
    }
    const payload = isRecord(message.payload) ? message.payload : {};
    switch (message.type) {
      case 'messageStart':
        return [this.frame({ role: 'assistant', content: '' })];
      case 'contentBlockStart': {
        const toolUse = isRecord(payload.start) && isRecord(payload.start.toolUse) ? payload.start.toolUse : undefined;
        if (toolUse === undefined || typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') return [];
        const toolIndex = this.toolCallIndexes.size;
        this.toolCallIndexes.set(Number(payload.contentBlockIndex), toolIndex);
        return [this.frame({ tool_calls: [{ index: toolIndex, id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: '' } }] })];
      }
      case 'contentBlockDelta': {
        const delta = isRecord(payload.delta) ? payload.delta : {};
        if (typeof delta.text === 'string') return delta.text === '' ? [] : [this.frame({ content: delta.text })];
        const toolIndex = this.toolCallIndexes.get(Number(payload.contentBlockIndex));
        if (isRecord(delta.toolUse) && typeof delta.toolUse.input === 'string' && delta.toolUse.input !== '' && toolIndex !== undefined) {
          return [this.frame({ tool_calls: [{ index: toolIndex, function: { arguments: delta.toolUse.input } }] })];
        }
        // Claude's thinking as on anthropic/: its text, its signature, or a redacted block whole.
        const reasoning = isRecord(delta.reasoningContent) ? delta.reasoningContent : undefined;
        if (reasoning !== undefined && typeof reasoning.text === 'string' && reasoning.text !== '') {
          return [this.frame({ reasoning_content: reasoning.text, thinking_blocks: [{ type: 'thinking', thinking: reasoning.text }] })];
        }
        if (reasoning !== undefined && typeof reasoning.signature === 'string') return [this.frame({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: reasoning.signature }] })];
        if (reasoning !== undefined && typeof reasoning.redactedContent === 'string') return [this.frame({ thinking_blocks: [{ type: 'redacted_thinking', data: reasoning.redactedContent }] })];
        return [];
      }
      case 'messageStop':
        this.finish = finishReasonOfStop(typeof payload.stopReason === 'string' ? payload.stopReason : undefined);
        return [this.frame({}, this.finish)];
      case 'metadata':
        this.usage = isRecord(payload.usage) ? (payload.usage as ConverseTokenUsage) : undefined;
        return this.end();
      default:
        return []; // contentBlockStop, and event types newer than this code
    }
  }

  /** The stream's last frames; the upstream may end after `messageStop` without `metadata`. */
  end(): string[] {
    if (this.done) return [];
    this.done = true;
    const frames: string[] = [];
    if (this.finish === null) {
      this.finish = 'stop';
      frames.push(this.frame({}, 'stop'));
    }
    if (this.options.includeUsage) frames.push(this.usageFrame());
    frames.push(DONE_FRAME);
    return frames;
  }

  get stopped(): boolean {
    return this.finish !== null;
  }

  private frame(delta: Record<string, unknown>, finishReason: OpenAIFinishReason | null = null): string {
    return chunkFrame(this.options, delta, finishReason);
  }

  private usageFrame(): string {
    return usageChunkFrame(this.options, usageOfConverse(this.usage));
  }
}

/**
 * Translates decoded messages into OpenAI SSE bytes, one upstream message at a time. Closing the
 * result closes the upstream. A stream that ends before `messageStop` broke: that is thrown.
 */
export async function* translateConverseStream(messages: AsyncIterable<StreamMessage>, options: ConverseStreamTranslationOptions): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const translator = new ConverseStreamTranslator(options);
  for await (const message of messages) {
    for (const frame of translator.onMessage(message)) yield encoder.encode(frame);
    if (translator.done) return;
  }
  if (!translator.stopped) throw new UpstreamConnectionError('The Amazon Bedrock stream ended before messageStop.');
  for (const frame of translator.end()) yield encoder.encode(frame);
}
