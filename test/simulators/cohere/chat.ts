/**
 * What a Cohere chat model answers (https://docs.cohere.com/reference/chat, `V2ChatResponse`), from
 * the deterministic fake model: the last user text echoed; the last tool result echoed after a tool
 * call; with tools offered and the text saying `use tool` (or `tool_choice: REQUIRED`), a tool plan
 * and one call of the first tool, `finish_reason: TOOL_CALL` (`NONE` forbids it); a reasoning model
 * (`command-a-reasoning-*`) thinks first unless `thinking.type` is `disabled`.
 *
 * Usage as Cohere reports it: `billed_units` (what is billed) and `tokens` (all tokens, including
 * the few Cohere adds around each message, here 3 a message), so a reader can tell which it took.
 *
 * The streamed form (https://docs.cohere.com/reference/chat-stream) is the same answer cut into
 * `message-start`, `content-start`/`-delta`/`-end`, `tool-plan-delta`, `tool-call-start`/`-delta`/
 * `-end` and `message-end` events.
 */
import { randomBase62, uuid } from '../common/ids.ts';
import { countTokens, requestedFailureStatus, streamPieces, textOf, toolArguments, truncateToTokens, TOOL_TRIGGER } from '../common/fake-model.ts';

type Json = Record<string, unknown>;

/** Tokens Cohere adds around each message, counted in `tokens` but not billed. */
const UNBILLED_TOKENS_PER_MESSAGE = 3;

export interface ChatOutcomeError {
  status: number;
  message?: string;
}

/** The text the fake model answers: the last user text, or the last tool result when the conversation ends with one. */
function promptText(messages: Json[]): { text: string; fromTool: boolean } {
  const last = messages.at(-1);
  if (last?.role === 'tool') return { text: textOf(last.content), fromTool: true };
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return { text: textOf(messages[i].content), fromTool: false };
  return { text: '', fromTool: false };
}

function chosenTool(body: Json, text: string, fromTool: boolean): Json | null {
  const tools = (body.tools as Json[] | undefined) ?? [];
  if (tools.length === 0 || body.tool_choice === 'NONE') return null;
  if (body.tool_choice === 'REQUIRED' || (!fromTool && TOOL_TRIGGER.test(text))) return (tools[0].function as Json) ?? null;
  return null;
}

function thinks(body: Json): boolean {
  return /reasoning/.test(String(body.model)) && (body.thinking as Json | undefined)?.type !== 'disabled';
}

/** A `V2ChatResponse`, or the error the API answers instead. The body must be valid. */
export function createChatResponse(body: Json): { response: Json } | { error: ChatOutcomeError } {
  const messages = body.messages as Json[];
  const { text, fromTool } = promptText(messages);
  const failStatus = requestedFailureStatus(text);
  if (failStatus !== null) return { error: { status: failStatus } };

  const inputTokens = messages.reduce((n, m) => n + countTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? m.tool_calls ?? '')), 0);
  const message: Json = { role: 'assistant' };
  const content: Json[] = [];
  let outputTokens = 0;
  let finishReason = 'COMPLETE';
  if (thinks(body)) {
    const thinking = `The user wrote: ${text}`;
    content.push({ type: 'thinking', thinking });
    outputTokens += countTokens(thinking);
  }
  const tool = chosenTool(body, text, fromTool);
  if (tool) {
    const args = JSON.stringify(toolArguments(tool.parameters, text));
    message.tool_plan = `I will use the ${String(tool.name)} tool.`;
    message.tool_calls = [{ id: `${String(tool.name)}_${randomBase62(12)}`, type: 'function', function: { name: tool.name, arguments: args } }];
    outputTokens += countTokens(args) + countTokens(String(message.tool_plan));
    finishReason = 'TOOL_CALL';
  } else {
    let answer = text;
    for (const stop of (body.stop_sequences as string[] | undefined) ?? []) {
      const at = answer.indexOf(stop);
      if (at >= 0) {
        answer = answer.slice(0, at);
        finishReason = 'STOP_SEQUENCE';
      }
    }
    const cut = truncateToTokens(answer, body.max_tokens as number | undefined);
    if (cut.truncated) finishReason = 'MAX_TOKENS';
    content.push({ type: 'text', text: cut.text });
    outputTokens += countTokens(cut.text);
  }
  if (content.length > 0) message.content = content;
  return {
    response: {
      id: uuid(),
      message,
      finish_reason: finishReason,
      usage: {
        billed_units: { input_tokens: inputTokens, output_tokens: outputTokens },
        tokens: { input_tokens: inputTokens + UNBILLED_TOKENS_PER_MESSAGE * messages.length, output_tokens: outputTokens },
      },
    },
  };
}

/** The event sequence of a streamed answer, each event's data carrying its `type`. */
export function chatStreamEvents(response: Json): Json[] {
  const message = response.message as Json;
  const events: Json[] = [];
  events.push({ id: response.id, type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } });
  ((message.content as Json[] | undefined) ?? []).forEach((part, index) => {
    const field = part.type === 'thinking' ? 'thinking' : 'text';
    events.push({ type: 'content-start', index, delta: { message: { content: { type: part.type, [field]: '' } } } });
    for (const piece of streamPieces(String(part[field]))) events.push({ type: 'content-delta', index, delta: { message: { content: { [field]: piece } } } });
    events.push({ type: 'content-end', index });
  });
  if (typeof message.tool_plan === 'string') {
    for (const piece of streamPieces(message.tool_plan)) events.push({ type: 'tool-plan-delta', delta: { message: { tool_plan: piece } } });
  }
  ((message.tool_calls as Json[] | undefined) ?? []).forEach((call, index) => {
    const fn = call.function as Json;
    events.push({ type: 'tool-call-start', index, delta: { message: { tool_calls: { id: call.id, type: 'function', function: { name: fn.name, arguments: '' } } } } });
    for (const piece of streamPieces(String(fn.arguments))) events.push({ type: 'tool-call-delta', index, delta: { message: { tool_calls: { function: { arguments: piece } } } } });
    events.push({ type: 'tool-call-end', index });
  });
  events.push({ type: 'message-end', delta: { finish_reason: response.finish_reason, usage: response.usage } });
  return events;
}
