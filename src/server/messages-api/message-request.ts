/**
 * An Anthropic Messages request (https://docs.anthropic.com/en/api/messages) as an OpenAI chat
 * completion request, for a deployment whose provider does not speak the Messages API (OpenAI,
 * Azure, Gemini, Bedrock, vLLM, ...: each translates OpenAI's chat in its own folder), as
 * LiteLLM's `/v1/messages` does. Pure.
 *
 * - `system` (text or text blocks) -> a system message;
 * - user blocks: `text`, `image` (base64 or URL) -> `image_url`, `document` (base64 PDF) -> `file`,
 *   `tool_result` -> a `tool` message (before the rest of that user turn, as OpenAI orders them);
 * - assistant blocks: `text` -> content, `tool_use` -> `tool_calls`;
 * - `tools` (client tools: `name`, `description`, `input_schema`) -> function tools; `tool_choice`
 *   `auto` / `any` / `tool` / `none` -> `auto` / `required` / the function / `none`, and
 *   `disable_parallel_tool_use` -> `parallel_tool_calls: false`;
 * - `max_tokens`, `stop_sequences` -> `stop`, `temperature`, `top_p`, `metadata.user_id` -> `user`;
 *   `stream` with `stream_options.include_usage` (the usage is the answer's).
 *
 * What has no OpenAI counterpart is left out, each with a warning: `thinking` and thinking blocks,
 * `top_k`, server tools (`web_search_...`, `bash_...`: Anthropic runs those), citations, cache
 * control marks (OpenAI caches prompts by itself).
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';

type Json = Record<string, unknown>;

export interface TranslatedMessageRequest {
  chat: Json;
  warnings: TranslationWarning[];
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A block list or a string, as Anthropic takes content. */
function blocksOf(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (Array.isArray(content) && content.every(isObject)) return content;
  throw new InvalidRequestError(`${param}: Input should be a valid string or a list of content blocks.`, { param });
}

function textOfBlocks(content: unknown, param: string): string {
  return blocksOf(content, param)
    .filter((block) => block.type === 'text')
    .map((block) => String(block.text ?? ''))
    .join('\n');
}

/** An image or PDF block's `source` as the data URL or URL OpenAI takes. */
function sourceUrl(block: Json, param: string): string {
  const source = block.source;
  if (!isObject(source)) throw new InvalidRequestError(`${param}.source: Field required.`, { param: `${param}.source` });
  if (source.type === 'base64' && typeof source.data === 'string' && typeof source.media_type === 'string') return `data:${source.media_type};base64,${source.data}`;
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  throw new InvalidRequestError(`${param}.source: a base64 or url source is required here.`, { param: `${param}.source` });
}

class Warnings {
  readonly list: TranslationWarning[] = [];
  readonly #seen = new Set<string>();

  add(param: string, message: string): void {
    if (this.#seen.has(param)) return;
    this.#seen.add(param);
    this.list.push({ param, message });
  }
}

function userParts(blocks: Json[], index: number, warnings: Warnings): { tools: Json[]; parts: Json[] } {
  const tools: Json[] = [];
  const parts: Json[] = [];
  blocks.forEach((block, at) => {
    const param = `messages[${index}].content[${at}]`;
    if ('cache_control' in block) warnings.add('cache_control', 'cache_control is Anthropic\'s; the deployment caches prompts by itself (or not)');
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: String(block.text ?? '') });
        return;
      case 'image':
        parts.push({ type: 'image_url', image_url: { url: sourceUrl(block, param) } });
        return;
      case 'document':
        parts.push({ type: 'file', file: { file_data: sourceUrl(block, param), ...(typeof block.title === 'string' && { filename: block.title }) } });
        return;
      case 'tool_result': {
        if (typeof block.tool_use_id !== 'string') throw new InvalidRequestError(`${param}.tool_use_id: Field required.`, { param: `${param}.tool_use_id` });
        const text = block.content === undefined ? '' : textOfBlocks(block.content, `${param}.content`);
        tools.push({ role: 'tool', tool_call_id: block.tool_use_id, content: block.is_error === true ? `Error: ${text}` : text });
        return;
      }
      default:
        warnings.add(`messages.content.${String(block.type)}`, `${String(block.type)} blocks have no OpenAI counterpart and were left out`);
    }
  });
  return { tools, parts };
}

function assistantMessage(blocks: Json[], index: number, warnings: Warnings): Json {
  const texts: string[] = [];
  const toolCalls: Json[] = [];
  blocks.forEach((block, at) => {
    if (block.type === 'text') texts.push(String(block.text ?? ''));
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw new InvalidRequestError(`messages[${index}].content[${at}]: a tool_use block needs an id and a name.`, { param: `messages[${index}].content[${at}]` });
      }
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    } else warnings.add(`messages.content.${String(block.type)}`, `${String(block.type)} blocks have no OpenAI counterpart and were left out`);
  });
  return { role: 'assistant', content: texts.length > 0 ? texts.join('') : null, ...(toolCalls.length > 0 && { tool_calls: toolCalls }) };
}

function toolsOf(tools: unknown, warnings: Warnings): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new InvalidRequestError('tools: Input should be a valid list.', { param: 'tools' });
  const functions: Json[] = [];
  tools.forEach((tool: unknown, index) => {
    if (!isObject(tool) || typeof tool.name !== 'string') throw new InvalidRequestError(`tools[${index}].name: Field required.`, { param: `tools[${index}].name` });
    // Anthropic's own tools (web search, bash, text editor, ...) carry a versioned `type` and no schema.
    if (tool.type !== undefined && tool.type !== 'custom') {
      warnings.add(`tools.${tool.name}`, `the server tool ${String(tool.type)} runs only on Anthropic's side and was left out`);
      return;
    }
    functions.push({ type: 'function', function: { name: tool.name, ...(typeof tool.description === 'string' && { description: tool.description }), parameters: isObject(tool.input_schema) ? tool.input_schema : { type: 'object' } } });
  });
  return functions;
}

function toolChoiceOf(choice: unknown): { tool_choice?: unknown; parallel_tool_calls?: boolean } {
  if (!isObject(choice)) return {};
  const parallel = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      if (typeof choice.name !== 'string') throw new InvalidRequestError('tool_choice.name: Field required.', { param: 'tool_choice.name' });
      return { tool_choice: { type: 'function', function: { name: choice.name } }, ...parallel };
    default:
      throw new InvalidRequestError("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'.", { param: 'tool_choice.type' });
  }
}

export function chatRequestOfMessages(body: Json): TranslatedMessageRequest {
  const warnings = new Warnings();
  const messages: Json[] = [];
  if (body.system !== undefined && body.system !== null) {
    const system = textOfBlocks(body.system, 'system');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  (body.messages as unknown[]).forEach((message, index) => {
    if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant')) {
      throw new InvalidRequestError(`messages[${index}].role: Input should be 'user' or 'assistant'.`, { param: `messages[${index}].role` });
    }
    const blocks = blocksOf(message.content, `messages[${index}].content`);
    if (message.role === 'assistant') {
      messages.push(assistantMessage(blocks, index, warnings));
      return;
    }
    const { tools, parts } = userParts(blocks, index, warnings);
    messages.push(...tools);
    if (parts.length > 0) messages.push({ role: 'user', content: parts.every((part) => part.type === 'text') ? parts.map((part) => part.text).join('\n') : parts });
  });
  if (body.thinking !== undefined && body.thinking !== null) warnings.add('thinking', 'extended thinking is Anthropic\'s; the deployment answers without it');
  if (body.top_k !== undefined && body.top_k !== null) warnings.add('top_k', 'top_k has no OpenAI counterpart and was left out');
  const tools = toolsOf(body.tools, warnings);
  const metadata = isObject(body.metadata) ? body.metadata : undefined;
  const chat: Json = {
    model: body.model,
    messages,
    max_tokens: body.max_tokens,
    ...(Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0 && { stop: body.stop_sequences }),
    ...(typeof body.temperature === 'number' && { temperature: body.temperature }),
    ...(typeof body.top_p === 'number' && { top_p: body.top_p }),
    ...(tools !== undefined && tools.length > 0 && { tools, ...toolChoiceOf(body.tool_choice) }),
    ...(typeof metadata?.user_id === 'string' && { user: metadata.user_id }),
    ...(body.stream === true && { stream: true, stream_options: { include_usage: true } }),
  };
  return { chat, warnings: warnings.list };
}
