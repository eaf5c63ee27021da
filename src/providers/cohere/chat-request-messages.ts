/**
 * OpenAI `messages[]` -> Cohere v2 `messages[]`. Pure.
 *
 * Cohere's v2 messages are close to OpenAI's (https://docs.cohere.com/reference/chat,
 * `ChatMessageV2` in the `cohere-ai` SDK): the same four roles, `tool_calls` with string
 * arguments, `tool_call_id` on tool results. What differs:
 * - `developer` is a `system` message;
 * - no per-message `name` (dropped with a warning);
 * - user content parts are `text` and `image_url` only;
 * - an assistant turn may carry `tool_plan` (the plan Cohere wrote before calling tools, which
 *   Portico's answers carry under that name) and `thinking` content (a reasoning model's thoughts,
 *   which Portico's answers carry as LiteLLM's `reasoning_content`);
 * - tool results are text.
 * Messages keep their order: Cohere, not Portico, decides what order it accepts.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { echoValue } from '../../spec/echo-value.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { isRecord } from './json.ts';
import type { CohereChatMessage, CohereImageContent, CohereTextContent, CohereThinkingContent, CohereToolCall } from './wire-types.ts';

export function translateMessages(value: unknown, warnings: TranslationWarning[]): CohereChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", { param: 'messages' });
  }
  let droppedName = false;
  return value.map((message, index): CohereChatMessage => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw new InvalidRequestError(`${param} must be an object.`, { param });
    if (message.name != null && !droppedName) {
      droppedName = true;
      warnings.push({ param: `${param}.name`, message: "Cohere has no per-message 'name'; it was dropped." });
    }
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textContentOf(message.content, `${param}.content`) };
      case 'user':
        return { role: 'user', content: userContentOf(message.content, `${param}.content`) };
      case 'assistant':
        return assistantMessageOf(message, param);
      case 'tool':
        return toolMessageOf(message, param);
      default:
        throw new InvalidRequestError(`${param}.role '${echoValue(message.role)}' is not supported on Cohere deployments.`, { param: `${param}.role` });
    }
  });
}

/** A string as it is; text parts as Cohere's text content. */
function textContentOf(content: unknown, param: string): string | CohereTextContent[] {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  return content.map((part, index) => {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw new InvalidRequestError(`${param}[${index}] must be a text part here.`, { param: `${param}[${index}]` });
    }
    return { type: 'text', text: part.text };
  });
}

function userContentOf(content: unknown, param: string): string | (CohereTextContent | CohereImageContent)[] {
  if (content == null || typeof content === 'string') return content ?? '';
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  return content.map((part, index) => {
    const partParam = `${param}[${index}]`;
    if (!isRecord(part)) throw new InvalidRequestError(`${partParam} must be an object.`, { param: partParam });
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw new InvalidRequestError(`${partParam}.text must be a string.`, { param: `${partParam}.text` });
      return { type: 'text', text: part.text };
    }
    if (part.type === 'image_url') return imageContentOf(part.image_url, `${partParam}.image_url`);
    throw new InvalidRequestError(`${partParam}: content part type '${echoValue(part.type)}' is not supported on Cohere deployments (text and image_url are).`, {
      param: `${partParam}.type`,
    });
  });
}

/** Cohere takes OpenAI's image part as it is: an http(s) URL or a base64 data URI, and the same `detail` words. */
function imageContentOf(imageUrl: unknown, param: string): CohereImageContent {
  // Some clients send `image_url` as a bare string; OpenAI's shape is `{url, detail}`.
  const url = typeof imageUrl === 'string' ? imageUrl : isRecord(imageUrl) ? imageUrl.url : undefined;
  if (typeof url !== 'string' || url === '') throw new InvalidRequestError(`${param}.url is required.`, { param: `${param}.url` });
  const detail = isRecord(imageUrl) ? imageUrl.detail : undefined;
  if (detail == null) return { type: 'image_url', image_url: { url } };
  if (detail !== 'auto' && detail !== 'low' && detail !== 'high') {
    throw new InvalidRequestError(`${param}.detail must be 'auto', 'low' or 'high'.`, { param: `${param}.detail` });
  }
  return { type: 'image_url', image_url: { url, detail } };
}

function assistantMessageOf(message: Record<string, unknown>, param: string): CohereChatMessage {
  const translated: Extract<CohereChatMessage, { role: 'assistant' }> = { role: 'assistant' };
  const text = assistantTextOf(message.content, `${param}.content`);
  // The turn's thoughts go back first, as the model wrote them (LiteLLM's `reasoning_content`).
  const thinking = typeof message.reasoning_content === 'string' && message.reasoning_content !== '' ? message.reasoning_content : undefined;
  if (thinking !== undefined) {
    const parts: (CohereTextContent | CohereThinkingContent)[] = [{ type: 'thinking', thinking }];
    if (text !== undefined && text !== '') parts.push({ type: 'text', text });
    translated.content = parts;
  } else if (text !== undefined) {
    translated.content = text;
  }
  if (message.tool_calls != null) {
    if (!Array.isArray(message.tool_calls)) throw new InvalidRequestError(`${param}.tool_calls must be an array.`, { param: `${param}.tool_calls` });
    if (message.tool_calls.length > 0) translated.tool_calls = message.tool_calls.map((call, index) => toolCallOf(call, `${param}.tool_calls[${index}]`));
  }
  if (message.tool_plan != null) {
    if (typeof message.tool_plan !== 'string') throw new InvalidRequestError(`${param}.tool_plan must be a string.`, { param: `${param}.tool_plan` });
    translated.tool_plan = message.tool_plan;
  }
  return translated;
}

/** The assistant's text: a string, or text and refusal parts joined (a refusal is text the assistant said). */
function assistantTextOf(content: unknown, param: string): string | undefined {
  if (content == null) return undefined;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  return content
    .map((part, index) => {
      const text = isRecord(part) ? (part.type === 'text' ? part.text : part.type === 'refusal' ? part.refusal : undefined) : undefined;
      if (typeof text !== 'string') throw new InvalidRequestError(`${param}[${index}] must be a text or refusal part.`, { param: `${param}[${index}]` });
      return text;
    })
    .join('');
}

function toolCallOf(call: unknown, param: string): CohereToolCall {
  if (!isRecord(call) || typeof call.id !== 'string' || call.id === '' || !isRecord(call.function) || typeof call.function.name !== 'string') {
    throw new InvalidRequestError(`${param} must be {id, type: 'function', function: {name, arguments}}.`, { param });
  }
  return { id: call.id, type: 'function', function: { name: call.function.name, arguments: argumentsOf(call.function.arguments, param) } };
}

/** Cohere, like OpenAI, carries the arguments as a JSON string; an object some clients send is encoded. */
function argumentsOf(value: unknown, param: string): string {
  if (value == null || value === '') return '{}';
  if (typeof value === 'string') return value;
  if (isRecord(value)) return JSON.stringify(value);
  throw new InvalidRequestError(`${param}.function.arguments must be a JSON object encoded as a string.`, { param: `${param}.function.arguments` });
}

function toolMessageOf(message: Record<string, unknown>, param: string): CohereChatMessage {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') {
    throw new InvalidRequestError(`${param}.tool_call_id is required.`, { param: `${param}.tool_call_id` });
  }
  return { role: 'tool', tool_call_id: message.tool_call_id, content: textContentOf(message.content, `${param}.content`) };
}
