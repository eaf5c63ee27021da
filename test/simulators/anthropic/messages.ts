/**
 * The Message an Anthropic model answers (API reference "Messages"), from the deterministic fake
 * model: a text block echoing the last user text, or, when tools are offered and the text says
 * `use tool` (or `tool_choice` forces it), one `tool_use` block with `stop_reason: "tool_use"`;
 * with extended thinking on, a thinking block before it (`thinking.ts`).
 *
 * Usage counts cache fields: the prompt up to the last `cache_control` breakpoint is written to a
 * per-simulator cache the first time (`cache_creation_input_tokens`) and read after
 * (`cache_read_input_tokens`); `input_tokens` is the rest. (Anthropic's minimum cacheable length is
 * not simulated.)
 */
import { createHash } from 'node:crypto';
import { randomBase62 } from '../common/ids.ts';
import { countTokens, requestedFailureStatus, streamPieces, textOf, toolArguments, truncateToTokens, TOOL_TRIGGER } from '../common/fake-model.ts';
import type { ParamsError } from './validate-params.ts';
import { thinkingBlockFor, thinkingEnabled } from './thinking.ts';

type Json = Record<string, unknown>;

export interface MessageContext {
  /** `null` when the model is served; otherwise Anthropic's 404 `model: <name>`. */
  modelError(model: string): ParamsError | null;
  /** Prompt-prefix hashes already cached. */
  promptCache: Set<string>;
  serviceTier: 'standard' | 'batch';
}

function lastUserText(messages: Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    const text = textOf(m.content);
    if (text) return text;
    if (Array.isArray(m.content)) {
      const result = (m.content as Json[]).find((b) => b.type === 'tool_result');
      if (result) return textOf(result.content);
    }
    return '';
  }
  return '';
}

interface Segment {
  text: string;
  breakpoint: boolean;
}

/** The prompt in cache order: tools, then system, then messages. */
function promptSegments(body: Json): Segment[] {
  const segments: Segment[] = [];
  const push = (block: unknown, text: string) => segments.push({ text, breakpoint: Boolean((block as Json | undefined)?.cache_control) });
  for (const tool of (body.tools as Json[] | undefined) ?? []) push(tool, JSON.stringify(tool));
  if (typeof body.system === 'string') push(undefined, body.system);
  else for (const b of (body.system as Json[] | undefined) ?? []) push(b, String(b.text));
  for (const m of body.messages as Json[]) {
    if (typeof m.content === 'string') push(undefined, m.content);
    else for (const b of m.content as Json[]) push(b, b.type === 'text' ? String(b.text) : JSON.stringify(b));
  }
  return segments;
}

/** A request's prompt tokens, cached or not: what `/v1/messages/count_tokens` answers for it. */
export function promptTokens(body: Json): number {
  return promptSegments(body).reduce((n, s) => n + countTokens(s.text), 0) + 4 * (body.messages as Json[]).length;
}

function promptUsage(body: Json, ctx: MessageContext): { input: number; creation: number; read: number } {
  const segments = promptSegments(body);
  const total = promptTokens(body);
  const bp = segments.map((s) => s.breakpoint).lastIndexOf(true);
  if (bp < 0) return { input: total, creation: 0, read: 0 };
  const prefix = segments.slice(0, bp + 1);
  const cached = prefix.reduce((n, s) => n + countTokens(s.text), 0);
  const key = createHash('sha256').update(String(body.model)).update(JSON.stringify(prefix)).digest('hex');
  const hit = ctx.promptCache.has(key);
  ctx.promptCache.add(key);
  return { input: total - cached, creation: hit ? 0 : cached, read: hit ? cached : 0 };
}

function chosenTool(body: Json, userText: string): Json | null {
  const tools = ((body.tools as Json[] | undefined) ?? []).filter((t) => typeof t.input_schema === 'object');
  const choice = (body.tool_choice ?? { type: 'auto' }) as Json;
  if (tools.length === 0 || choice.type === 'none') return null;
  if (choice.type === 'tool') return tools.find((t) => t.name === choice.name) ?? null;
  if (choice.type === 'any' || TOOL_TRIGGER.test(userText)) return tools[0];
  return null;
}

/** A Message, or the error the API answers instead (status + message). Params must be valid. */
export function createMessage(body: Json, ctx: MessageContext): { message: Json } | { error: ParamsError } {
  const userText = lastUserText(body.messages as Json[]);
  const failStatus = requestedFailureStatus(userText);
  if (failStatus !== null) return { error: { status: failStatus, message: failStatus === 400 ? 'The simulator was asked to fail this request.' : '' } };
  const modelError = ctx.modelError(String(body.model));
  if (modelError) return { error: modelError };

  const usage = promptUsage(body, ctx);
  const tool = chosenTool(body, userText);
  let content: Json[];
  let stopReason = 'end_turn';
  let stopSequence: string | null = null;
  let outputTokens: number;
  if (tool) {
    const input = toolArguments(tool.input_schema, userText);
    content = [{ type: 'tool_use', id: `toolu_01${randomBase62(22)}`, name: tool.name, input }];
    stopReason = 'tool_use';
    outputTokens = countTokens(JSON.stringify(input));
  } else {
    let text = userText;
    for (const seq of (body.stop_sequences as string[] | undefined) ?? []) {
      const at = text.indexOf(seq);
      if (at >= 0) {
        text = text.slice(0, at);
        stopReason = 'stop_sequence';
        stopSequence = seq;
      }
    }
    const cut = truncateToTokens(text, body.max_tokens as number);
    if (cut.truncated) {
      stopReason = 'max_tokens';
      stopSequence = null;
    }
    content = [{ type: 'text', text: cut.text }];
    outputTokens = countTokens(cut.text);
  }
  if (thinkingEnabled(body)) {
    // The model thinks first; its thinking counts as output.
    const thinking = thinkingBlockFor(userText);
    content.unshift(thinking.block);
    outputTokens += thinking.tokens;
  }
  return {
    message: {
      id: `msg_01${randomBase62(22)}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content,
      stop_reason: stopReason,
      stop_sequence: stopSequence,
      usage: {
        input_tokens: usage.input,
        cache_creation_input_tokens: usage.creation,
        cache_read_input_tokens: usage.read,
        output_tokens: outputTokens,
        service_tier: ctx.serviceTier,
      },
    },
  };
}

/**
 * The streaming event sequence (docs "Streaming Messages"): message_start, then per block
 * content_block_start / content_block_delta (text_delta, input_json_delta, or thinking_delta and one
 * signature_delta) / content_block_stop,
 * a ping after the first block starts, message_delta (stop_reason, output usage), message_stop.
 */
export function messageStreamEvents(message: Json): Array<{ event: string; data: Json }> {
  const usage = message.usage as Json;
  const events: Array<{ event: string; data: Json }> = [];
  const add = (data: Json) => events.push({ event: String(data.type), data });
  add({ type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  (message.content as Json[]).forEach((block, index) => {
    if (block.type === 'thinking') {
      add({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      if (index === 0) add({ type: 'ping' });
      for (const thinking of streamPieces(String(block.thinking))) add({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
      add({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } });
    } else if (block.type === 'redacted_thinking') {
      add({ type: 'content_block_start', index, content_block: block });
      if (index === 0) add({ type: 'ping' });
    } else if (block.type === 'tool_use') {
      add({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      if (index === 0) add({ type: 'ping' });
      for (const partial of streamPieces(JSON.stringify(block.input))) add({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partial } });
    } else {
      add({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      if (index === 0) add({ type: 'ping' });
      for (const text of streamPieces(String(block.text))) add({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    }
    add({ type: 'content_block_stop', index });
  });
  add({ type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence }, usage: { output_tokens: usage.output_tokens } });
  add({ type: 'message_stop' });
  return events;
}
