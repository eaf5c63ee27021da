/**
 * OpenAI `messages[]` -> Anthropic `system` + `messages[]`. Pure.
 *
 * Anthropic differs from OpenAI in ways that force a translation
 * (https://docs.anthropic.com/en/api/messages, `InputMessage` in the spec):
 * - only `user` and `assistant` roles; system prompts are the top-level `system` param;
 * - turns alternate, so consecutive same-role messages are merged into one;
 * - tool calls are `tool_use` blocks in the assistant turn, tool answers `tool_result` blocks
 *   in the following user turn;
 * - text blocks must not be empty, and ids must match `^[a-zA-Z0-9_-]+$`;
 * - an assistant turn's thinking (LiteLLM's `thinking_blocks`) is a block before its text.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { isRecord } from './json.ts';
import { thinkingBlocksOf } from './thinking.ts';
import type { AnthropicCacheControl, AnthropicContentBlockParam, AnthropicMessageParam, AnthropicTextBlockParam } from './wire-types.ts';
import type { TranslationWarning } from './warnings.ts';
import { echoValue } from '../../spec/echo-value.ts';

export interface TranslatedMessages {
  messages: AnthropicMessageParam[];
  system: string | AnthropicTextBlockParam[] | undefined;
}

export function translateMessages(value: unknown, warnings: TranslationWarning[]): TranslatedMessages {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", { param: 'messages' });
  }
  const systemBlocks: AnthropicTextBlockParam[] = [];
  const messages: AnthropicMessageParam[] = [];
  let droppedName = false;

  value.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw new InvalidRequestError(`${param} must be an object.`, { param });
    if (message.name != null && !droppedName) {
      droppedName = true;
      warnings.push({ param: `${param}.name`, message: "Anthropic has no per-message 'name'; it was dropped." });
    }
    switch (message.role) {
      case 'system':
      case 'developer':
        systemBlocks.push(...textBlocksOf(message.content, `${param}.content`));
        return;
      case 'user':
        appendTurn(messages, 'user', userBlocksOf(message.content, `${param}.content`, warnings), param, warnings);
        return;
      case 'assistant':
        appendTurn(messages, 'assistant', assistantBlocksOf(message, param), param, warnings);
        return;
      case 'tool':
        appendTurn(messages, 'user', [toolResultBlockOf(message, param)], param, warnings);
        return;
      default:
        throw new InvalidRequestError(`${param}.role '${echoValue(message.role)}' is not supported on Anthropic deployments.`, {
          param: `${param}.role`,
        });
    }
  });
  return { messages, system: systemOf(systemBlocks) };
}

/** One plain string when that says everything; text blocks when several or cache-controlled. */
function systemOf(blocks: AnthropicTextBlockParam[]): TranslatedMessages['system'] {
  if (blocks.length === 0) return undefined;
  if (blocks.length === 1 && blocks[0].cache_control === undefined) return blocks[0].text;
  return blocks;
}

function appendTurn(
  messages: AnthropicMessageParam[],
  role: 'user' | 'assistant',
  blocks: AnthropicContentBlockParam[],
  param: string,
  warnings: TranslationWarning[],
): void {
  if (blocks.length === 0) {
    // Anthropic rejects empty turns; an empty message carries nothing to the model.
    warnings.push({ param, message: `${param} has no content and was dropped.` });
    return;
  }
  const previous = messages.at(-1);
  if (previous?.role === role) previous.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

function textBlocksOf(content: unknown, param: string): AnthropicTextBlockParam[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  const blocks: AnthropicTextBlockParam[] = [];
  content.forEach((part, index) => {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw new InvalidRequestError(`${param}[${index}] must be a text part here.`, { param: `${param}[${index}]` });
    }
    if (part.text !== '') blocks.push(withCacheControl({ type: 'text', text: part.text }, part));
  });
  return blocks;
}

function userBlocksOf(content: unknown, param: string, warnings: TranslationWarning[]): AnthropicContentBlockParam[] {
  if (content == null || typeof content === 'string') return textBlocksOf(content, param);
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  const blocks: AnthropicContentBlockParam[] = [];
  content.forEach((part, index) => {
    const partParam = `${param}[${index}]`;
    if (!isRecord(part)) throw new InvalidRequestError(`${partParam} must be an object.`, { param: partParam });
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw new InvalidRequestError(`${partParam}.text must be a string.`, { param: partParam });
      if (part.text !== '') blocks.push(withCacheControl({ type: 'text', text: part.text }, part));
    } else if (part.type === 'image_url') {
      blocks.push(withCacheControl(imageBlockOf(part.image_url, `${partParam}.image_url`, warnings), part));
    } else if (part.type === 'file') {
      blocks.push(withCacheControl(documentBlockOf(part.file, `${partParam}.file`), part));
    } else {
      throw new InvalidRequestError(`${partParam}: content part type '${echoValue(part.type)}' is not supported on Anthropic deployments.`, {
        param: `${partParam}.type`,
      });
    }
  });
  return blocks;
}

function imageBlockOf(imageUrl: unknown, param: string, warnings: TranslationWarning[]): AnthropicContentBlockParam {
  // Some clients send `image_url` as a bare string; OpenAI's shape is `{url, detail}`.
  const url = typeof imageUrl === 'string' ? imageUrl : isRecord(imageUrl) ? imageUrl.url : undefined;
  if (typeof url !== 'string' || url === '') throw new InvalidRequestError(`${param}.url is required.`, { param: `${param}.url` });
  if (isRecord(imageUrl) && imageUrl.detail != null && imageUrl.detail !== 'auto') {
    warnings.push({ param: `${param}.detail`, message: "Anthropic has no image 'detail' setting; it was dropped." });
  }
  if (url.startsWith('data:')) {
    const { mediaType, data } = parseBase64DataUrl(url, `${param}.url`);
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw new InvalidRequestError(`${param}.url must be an http(s) URL or a base64 data URL.`, { param: `${param}.url` });
}

/** OpenAI `file` parts with inline PDF data become Anthropic `document` blocks. */
function documentBlockOf(file: unknown, param: string): AnthropicContentBlockParam {
  if (!isRecord(file) || typeof file.file_data !== 'string') {
    throw new InvalidRequestError(`${param}: only inline 'file_data' (a base64 PDF data URL) is supported on Anthropic deployments.`, {
      param,
    });
  }
  const { mediaType, data } = parseBase64DataUrl(file.file_data, `${param}.file_data`);
  if (mediaType !== 'application/pdf') {
    throw new InvalidRequestError(`${param}.file_data: only application/pdf documents are supported.`, { param: `${param}.file_data` });
  }
  return { type: 'document', source: { type: 'base64', media_type: mediaType, data } };
}

function parseBase64DataUrl(url: string, param: string): { mediaType: string; data: string } {
  const match = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (match === null || !match[2].split(';').includes('base64')) {
    throw new InvalidRequestError(`${param} must be a base64 data URL (data:<media type>;base64,<data>).`, { param });
  }
  return { mediaType: match[1].toLowerCase(), data: match[3] };
}

function assistantBlocksOf(message: Record<string, unknown>, param: string): AnthropicContentBlockParam[] {
  // The turn's thinking comes first, as the model wrote it (Anthropic checks its signature).
  const blocks: AnthropicContentBlockParam[] = thinkingBlocksOf(message.thinking_blocks, `${param}.thinking_blocks`);
  const content = message.content;
  if (typeof content === 'string' || content == null) {
    blocks.push(...textBlocksOf(content, `${param}.content`));
  } else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      const partParam = `${param}.content[${index}]`;
      // An assistant refusal is text the assistant said; Anthropic has no refusal part.
      const text = isRecord(part) ? (part.type === 'text' ? part.text : part.type === 'refusal' ? part.refusal : undefined) : undefined;
      if (typeof text !== 'string') throw new InvalidRequestError(`${partParam} must be a text or refusal part.`, { param: partParam });
      if (text !== '') blocks.push(withCacheControl({ type: 'text', text }, part as Record<string, unknown>));
    });
  } else {
    throw new InvalidRequestError(`${param}.content must be a string or an array of content parts.`, { param: `${param}.content` });
  }

  if (message.tool_calls != null) {
    if (!Array.isArray(message.tool_calls)) {
      throw new InvalidRequestError(`${param}.tool_calls must be an array.`, { param: `${param}.tool_calls` });
    }
    message.tool_calls.forEach((call, index) => blocks.push(toolUseBlockOf(call, `${param}.tool_calls[${index}]`)));
  }
  return blocks;
}

function toolUseBlockOf(call: unknown, param: string): AnthropicContentBlockParam {
  if (!isRecord(call) || typeof call.id !== 'string' || !isRecord(call.function) || typeof call.function.name !== 'string') {
    throw new InvalidRequestError(`${param} must be {id, type: 'function', function: {name, arguments}}.`, { param });
  }
  return { type: 'tool_use', id: toolUseIdOf(call.id), name: call.function.name, input: parseArguments(call.function.arguments, param) };
}

/** OpenAI carries arguments as a JSON string; Anthropic wants the object. */
function parseArguments(value: unknown, param: string): unknown {
  if (value == null || value === '') return {};
  if (typeof value !== 'string') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (isRecord(parsed)) return parsed;
  } catch {
    // fall through to the error below
  }
  throw new InvalidRequestError(`${param}.function.arguments must be a JSON object encoded as a string.`, {
    param: `${param}.function.arguments`,
  });
}

function toolResultBlockOf(message: Record<string, unknown>, param: string): AnthropicContentBlockParam {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') {
    throw new InvalidRequestError(`${param}.tool_call_id is required.`, { param: `${param}.tool_call_id` });
  }
  const block: AnthropicContentBlockParam = { type: 'tool_result', tool_use_id: toolUseIdOf(message.tool_call_id) };
  if (typeof message.content === 'string') {
    if (message.content !== '') block.content = message.content;
  } else {
    const texts = textBlocksOf(message.content, `${param}.content`);
    if (texts.length > 0) block.content = texts;
  }
  return block;
}

/**
 * Anthropic ids must match `^[a-zA-Z0-9_-]+$`; ids minted by other providers may not (e.g.
 * `functions.lookup:0`). The same rewrite on both the call and its result keeps them paired.
 */
function toolUseIdOf(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** Prompt caching markers (`cache_control`) pass through from OpenAI-shaped parts, as LiteLLM allows. */
function withCacheControl<T extends AnthropicContentBlockParam>(block: T, part: Record<string, unknown>): T {
  if (isRecord(part.cache_control) && typeof part.cache_control.type === 'string') {
    // Every block that takes a part's marker has the field; thinking blocks come from no part.
    (block as { cache_control?: AnthropicCacheControl }).cache_control = part.cache_control as AnthropicCacheControl;
  }
  return block;
}
