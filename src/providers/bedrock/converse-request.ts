/**
 * OpenAI `POST /v1/chat/completions` body -> Bedrock `Converse` / `ConverseStream` request. Pure.
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html,
 * `docs/specs/bedrock.md` §Converse). The same request serves Claude, Llama, Mistral and Nova:
 * Converse is Bedrock's one message format; what a model cannot take, Bedrock refuses (400).
 *
 * - `system` / `developer` messages -> `system: [{text}]`, wherever they are in the list;
 * - `user` text and `image_url` parts (data: URLs only: Bedrock takes image bytes, never a URL) ->
 *   `text` and `image` blocks; `assistant` text and `tool_calls` -> `text` and `toolUse` blocks;
 *   `tool` messages -> `toolResult` blocks in a user message; consecutive messages of one role
 *   are merged (Converse wants user and assistant to alternate);
 * - `tools` -> `toolConfig.tools[].toolSpec`, `tool_choice` auto / required / a function ->
 *   `auto` / `any` / `tool` (`none` has no Converse equivalent: the tools stay, with a warning);
 * - `max_tokens` (or `max_completion_tokens`), `temperature`, `top_p`, `stop` -> `inferenceConfig`;
 * - Claude's extended thinking (`thinking`, or `reasoning_effort` on Claude models: the Anthropic
 *   translation's rules, `anthropic/thinking.ts`) -> `additionalModelRequestFields.thinking`, and an
 *   assistant message's `thinking_blocks` -> `reasoningContent` blocks first in its turn.
 * A parameter Converse has no place for is dropped with a warning; one whose loss would change the
 * answer's shape (`n > 1`, `response_format` JSON, `logprobs`) is refused with a 400.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { isRecord } from './errors.ts';
import { DEFAULT_MAX_TOKENS } from '../anthropic/chat-request.ts';
import { thinkingBlocksOf, thinkingConfigOf } from '../anthropic/thinking.ts';

export type ConverseContentBlock =
  | { text: string }
  | { image: { format: 'png' | 'jpeg' | 'gif' | 'webp'; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  | { toolResult: { toolUseId: string; content: ({ text: string } | { json: unknown })[]; status?: 'success' | 'error' } }
  | { reasoningContent: { reasoningText: { text: string; signature?: string } } | { redactedContent: string } };

export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseContentBlock[];
}

export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: { text: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: {
    tools: { toolSpec: { name: string; description?: string; inputSchema: { json: unknown } } }[];
    toolChoice?: { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };
  };
  /** Model fields Converse has no member for: Claude's `thinking`. */
  additionalModelRequestFields?: Record<string, unknown>;
}

export interface ConverseRequestTranslation {
  request: ConverseRequest;
  warnings: TranslationWarning[];
}

export interface ConverseTranslationOptions {
  /** `maxTokens` when the request has none (`litellm_params.max_tokens`); absent: the model's default. */
  defaultMaxTokens?: number;
  /**
   * A Claude model: `reasoning_effort` becomes Claude's `thinking`, as on `anthropic/` (other
   * models drop it with a warning). An explicit `thinking` goes to any model, which may refuse it.
   */
  claudeThinking?: boolean;
}

/** Read by this module or by the client (`model`, `stream`, `stream_options`). */
const HANDLED_KEYS = new Set(['model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'tools', 'tool_choice', 'parallel_tool_calls', 'n', 'stream', 'stream_options', 'response_format', 'logprobs', 'top_logprobs', 'thinking']);

/** OpenAI parameters Converse has no field for, dropped with a warning (`drop_params` removes them first, silently). */
export const CONVERSE_UNSUPPORTED_PARAMS: readonly string[] = Object.freeze([
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'logit_bias',
  'user',
  'service_tier',
  'store',
  'metadata',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);

const IMAGE_FORMATS: Readonly<Record<string, 'png' | 'jpeg' | 'gif' | 'webp'>> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

export function translateConverseRequest(body: Record<string, unknown>, options: ConverseTranslationOptions = {}): ConverseRequestTranslation {
  const warnings: TranslationWarning[] = [];
  for (const key of Object.keys(body)) {
    if (HANDLED_KEYS.has(key) || body[key] === undefined || body[key] === null) continue;
    if (key === 'reasoning_effort' && options.claudeThinking === true) continue;
    warnings.push({ param: key, message: `'${key}' is not supported by Amazon Bedrock's Converse API${key === 'reasoning_effort' ? ' for this model' : ''} and was dropped.` });
  }
  refuseShapeChanges(body);
  const { messages, system } = translateMessages(body.messages);
  const request: ConverseRequest = { messages };
  if (system.length > 0) request.system = system;
  const thinking = body.thinking != null || options.claudeThinking === true ? thinkingConfigOf(body) : undefined;
  if (thinking !== undefined) request.additionalModelRequestFields = { thinking };
  const inferenceConfig = inferenceConfigOf(body, options, thinking?.budget_tokens);
  if (Object.keys(inferenceConfig).length > 0) request.inferenceConfig = inferenceConfig;
  const toolConfig = toolConfigOf(body, warnings);
  if (toolConfig !== undefined) request.toolConfig = toolConfig;
  if (body.parallel_tool_calls === false) warnings.push({ param: 'parallel_tool_calls', message: "'parallel_tool_calls: false' has no Converse equivalent; the model may still call several tools at once." });
  return { request, warnings };
}

function refuseShapeChanges(body: Record<string, unknown>): void {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw new InvalidRequestError("Amazon Bedrock's Converse API answers one choice; 'n' must be 1.", { param: 'n' });
  if (body.logprobs === true) throw new InvalidRequestError("Amazon Bedrock's Converse API does not return log probabilities; 'logprobs' is not supported.", { param: 'logprobs' });
  const format = body.response_format;
  if (isRecord(format) && format.type !== 'text') {
    throw new InvalidRequestError(`'response_format' of type '${String(format.type)}' is not supported on bedrock/ deployments (Converse has no JSON mode); describe the format in the prompt or use a tool.`, { param: 'response_format' });
  }
}

function translateMessages(raw: unknown): { messages: ConverseMessage[]; system: { text: string }[] } {
  if (!Array.isArray(raw) || raw.length === 0) throw new InvalidRequestError("'messages' must be a non-empty array.", { param: 'messages' });
  const messages: ConverseMessage[] = [];
  const system: { text: string }[] = [];
  const push = (role: 'user' | 'assistant', content: ConverseContentBlock[]) => {
    if (content.length === 0) return;
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  raw.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw new InvalidRequestError(`'${param}' must be an object.`, { param });
    switch (message.role) {
      case 'system':
      case 'developer':
        for (const text of textsOf(message.content, `${param}.content`)) if (text !== '') system.push({ text });
        return;
      case 'user':
        push('user', userContent(message.content, `${param}.content`));
        return;
      case 'assistant':
        push('assistant', assistantContent(message, param));
        return;
      case 'tool':
        push('user', [toolResultOf(message, param)]);
        return;
      default:
        throw new InvalidRequestError(`'${param}.role' must be system, developer, user, assistant or tool.`, { param: `${param}.role` });
    }
  });
  if (messages.length === 0) throw new InvalidRequestError('A Bedrock conversation needs at least one user message besides the system prompt.', { param: 'messages' });
  return { messages, system };
}

function textsOf(content: unknown, param: string): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) throw new InvalidRequestError(`'${param}' must be a string or an array of text parts.`, { param });
  return content.map((part, index) => {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') throw new InvalidRequestError(`'${param}[${index}]' must be a text part.`, { param: `${param}[${index}]` });
    return part.text;
  });
}

function userContent(content: unknown, param: string): ConverseContentBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw new InvalidRequestError(`'${param}' must be a string or an array of content parts.`, { param });
  return content.flatMap((part, index): ConverseContentBlock[] => {
    const partParam = `${param}[${index}]`;
    if (!isRecord(part)) throw new InvalidRequestError(`'${partParam}' must be an object.`, { param: partParam });
    if (part.type === 'text' && typeof part.text === 'string') return part.text === '' ? [] : [{ text: part.text }];
    if (part.type === 'image_url') return [imageBlock(part.image_url, `${partParam}.image_url`)];
    throw new InvalidRequestError(`'${partParam}.type' '${String(part.type)}' is not supported on bedrock/ deployments (text and image_url are).`, { param: `${partParam}.type` });
  });
}

function imageBlock(imageUrl: unknown, param: string): ConverseContentBlock {
  const url = isRecord(imageUrl) ? imageUrl.url : imageUrl;
  const match = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
  if (match === null) {
    throw new InvalidRequestError(`'${param}.url' must be a base64 data: URL on bedrock/ deployments: Bedrock takes image bytes, not links.`, { param: `${param}.url` });
  }
  const format = IMAGE_FORMATS[match[1].toLowerCase()];
  if (format === undefined) throw new InvalidRequestError(`'${param}.url' is a ${match[1]} image; Bedrock takes png, jpeg, gif and webp.`, { param: `${param}.url` });
  return { image: { format, source: { bytes: match[2] } } };
}

function assistantContent(message: Record<string, unknown>, param: string): ConverseContentBlock[] {
  // The turn's thinking first, as the model wrote it (LiteLLM's `thinking_blocks`; Bedrock checks signatures).
  const blocks: ConverseContentBlock[] = thinkingBlocksOf(message.thinking_blocks, `${param}.thinking_blocks`).map((block) =>
    block.type === 'thinking' ? { reasoningContent: { reasoningText: { text: block.thinking, signature: block.signature } } } : { reasoningContent: { redactedContent: block.data } },
  );
  if (message.content !== undefined && message.content !== null) {
    for (const text of textsOf(message.content, `${param}.content`)) if (text !== '') blocks.push({ text });
  }
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call, index) => {
      const callParam = `${param}.tool_calls[${index}]`;
      if (!isRecord(call) || typeof call.id !== 'string' || !isRecord(call.function) || typeof call.function.name !== 'string') {
        throw new InvalidRequestError(`'${callParam}' must be a function call with an id and a name.`, { param: callParam });
      }
      blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: parseArguments(call.function.arguments, `${callParam}.function.arguments`) } });
    });
  }
  return blocks;
}

function parseArguments(raw: unknown, param: string): unknown {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'string') throw new InvalidRequestError(`'${param}' must be a JSON string.`, { param });
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (isRecord(parsed)) return parsed;
  } catch {
    // refused below
  }
  throw new InvalidRequestError(`'${param}' must be a JSON object: Bedrock's toolUse input is one.`, { param });
}

function toolResultOf(message: Record<string, unknown>, param: string): ConverseContentBlock {
  if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') throw new InvalidRequestError(`'${param}.tool_call_id' must name the tool call answered.`, { param: `${param}.tool_call_id` });
  const text = textsOf(message.content ?? '', `${param}.content`).join('');
  return { toolResult: { toolUseId: message.tool_call_id, content: [{ text }] } };
}

function inferenceConfigOf(body: Record<string, unknown>, options: ConverseTranslationOptions, thinkingBudget: number | undefined): NonNullable<ConverseRequest['inferenceConfig']> {
  const config: NonNullable<ConverseRequest['inferenceConfig']> = {};
  // Thinking counts against the output tokens: without a limit from the client, the budget is
  // added to the default (Anthropic's `DEFAULT_MAX_TOKENS` when the deployment sets none), as on anthropic/.
  const defaultMaxTokens = thinkingBudget === undefined ? options.defaultMaxTokens : thinkingBudget + (options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw new InvalidRequestError("'max_tokens' must be a positive integer.", { param: 'max_tokens' });
    config.maxTokens = maxTokens;
  }
  for (const [key, field] of [['temperature', 'temperature'], ['top_p', 'topP']] as const) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || value < 0) throw new InvalidRequestError(`'${key}' must be a non-negative number.`, { param: key });
    config[field] = value;
  }
  const stop = body.stop;
  if (stop !== undefined && stop !== null) {
    const sequences = typeof stop === 'string' ? [stop] : stop;
    if (!Array.isArray(sequences) || !sequences.every((s) => typeof s === 'string')) throw new InvalidRequestError("'stop' must be a string or an array of strings.", { param: 'stop' });
    if (sequences.length > 0) config.stopSequences = sequences as string[];
  }
  return config;
}

function toolConfigOf(body: Record<string, unknown>, warnings: TranslationWarning[]): ConverseRequest['toolConfig'] {
  const tools = body.tools;
  if (tools === undefined || tools === null || (Array.isArray(tools) && tools.length === 0)) {
    if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== 'none') throw new InvalidRequestError("'tool_choice' needs 'tools'.", { param: 'tool_choice' });
    return undefined;
  }
  if (!Array.isArray(tools)) throw new InvalidRequestError("'tools' must be an array.", { param: 'tools' });
  const specs = tools.map((tool, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function) || typeof tool.function.name !== 'string') {
      throw new InvalidRequestError(`'${param}' must be a function tool with a name (Bedrock has no other tool types).`, { param });
    }
    const fn = tool.function;
    return {
      toolSpec: {
        name: fn.name as string,
        ...(typeof fn.description === 'string' && fn.description !== '' && { description: fn.description }),
        inputSchema: { json: isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} } },
      },
    };
  });
  const choice = body.tool_choice;
  const config: NonNullable<ConverseRequest['toolConfig']> = { tools: specs };
  if (choice === undefined || choice === null || choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (choice === 'none') warnings.push({ param: 'tool_choice', message: "tool_choice 'none' has no Converse equivalent: the tools were sent and the model may still call one." });
  else if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function) && typeof choice.function.name === 'string') config.toolChoice = { tool: { name: choice.function.name } };
  else throw new InvalidRequestError("'tool_choice' must be 'auto', 'required', 'none' or a function.", { param: 'tool_choice' });
  return config;
}
