/**
 * Bedrock's Converse API on the deterministic fake model (common/fake-model.ts), from the
 * `bedrock-runtime` service model (docs/specs/bedrock.md §Converse, §ConverseStream):
 *
 * - the request is checked as Bedrock does: `messages` alternate and start with a user turn;
 *   each `ContentBlock` sets exactly one member (`text`, `image`, `toolUse`, `toolResult`,
 *   `cachePoint`, ...); `toolUse` / `toolResult` blocks need a `toolConfig`; tool names match
 *   `^[a-zA-Z0-9_-]{1,64}$`; `inferenceConfig.temperature` and `topP` lie in 0..1; an image's
 *   `format` is png, jpeg, gif or webp and its `source.bytes` base64; an unknown top-level key is
 *   refused (`extraneous key [x] is not permitted`);
 * - the answer echoes the last user text (or tool result), cut at a stop sequence or `maxTokens`;
 *   with tools and `use tool` in the text (or `toolChoice` any / tool) it calls the first tool;
 *   a user text `GUARDRAIL` ends `guardrail_intervened`; `FAIL` / `FAIL:<status>` fail it;
 * - a `cachePoint` block caches the prompt before it: written the first time
 *   (`cacheWriteInputTokens`), read after (`cacheReadInputTokens`);
 * - Claude's extended thinking (`additionalModelRequestFields.thinking`, Bedrock's "Extended
 *   thinking" page) follows Anthropic's rules (`../anthropic/thinking.ts`, on the request seen as
 *   Anthropic's): `reasoningContent` blocks (`reasoningText` with its signature, or
 *   `redactedContent` bytes) come first and are checked when sent back; other models refuse the key;
 * - `streamEvents` splits an answer into ConverseStream's events: messageStart,
 *   contentBlockStart (tool use) / contentBlockDelta* (text, tool input, reasoning text then its
 *   signature) / contentBlockStop per block, messageStop, metadata.
 */
import { createHash, randomBytes } from 'node:crypto';
import { countTokens, requestedFailureStatus, streamPieces, toolArguments, truncateToTokens, TOOL_TRIGGER } from '../common/fake-model.ts';
import { errorTypeForStatus } from './errors.ts';
import { thinkingBlockFor, validateThinking } from '../anthropic/thinking.ts';

type Json = Record<string, unknown>;

export interface ConverseFailure {
  type: string;
  message: string;
  status?: number;
}

export const CHAT_MODELS: ReadonlySet<string> = new Set([
  'anthropic.claude-3-5-sonnet-20241022-v2:0',
  'anthropic.claude-3-5-haiku-20241022-v1:0',
  'anthropic.claude-3-haiku-20240307-v1:0',
  'anthropic.claude-sonnet-4-20250514-v1:0',
  'meta.llama3-1-70b-instruct-v1:0',
  'meta.llama3-1-8b-instruct-v1:0',
  'mistral.mistral-large-2407-v1:0',
  'amazon.nova-pro-v1:0',
  'amazon.nova-lite-v1:0',
  'amazon.nova-micro-v1:0',
]);

/** Cross-region inference profiles: `us.` / `eu.` / `apac.` before a model that has one. */
export function baseModelOf(modelId: string): string {
  return modelId.replace(/^(us|eu|apac|global)\./, '');
}

const TOP_LEVEL = new Set(['messages', 'system', 'inferenceConfig', 'toolConfig', 'guardrailConfig', 'additionalModelRequestFields', 'promptVariables', 'additionalModelResponseFieldPaths', 'requestMetadata', 'performanceConfig']);
const BLOCK_MEMBERS = new Set(['text', 'image', 'document', 'video', 'toolUse', 'toolResult', 'guardContent', 'cachePoint', 'reasoningContent', 'citationsContent']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);

const invalid = (message: string): ConverseFailure => ({ type: 'ValidationException', message });

export function validateConverse(modelId: string, body: Json): ConverseFailure | null {
  if (!CHAT_MODELS.has(baseModelOf(modelId))) return invalid('The provided model identifier is invalid.');
  for (const key of Object.keys(body)) if (!TOP_LEVEL.has(key)) return invalid(`Malformed input request: extraneous key [${key}] is not permitted, please reformat your input and try again.`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return invalid('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  let usesTools = false;
  for (const [i, message] of (messages as Json[]).entries()) {
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) return invalid(`1 validation error detected: Value at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`);
    if (i === 0 && message.role !== 'user') return invalid('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    if (i > 0 && (messages as Json[])[i - 1].role === message.role) return invalid('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    if (!Array.isArray(message.content) || message.content.length === 0) return invalid(`The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`);
    for (const [j, block] of (message.content as Json[]).entries()) {
      const problem = validateBlock(block, `messages.${i}.content.${j}`);
      if (problem !== null) return problem;
      if ('toolUse' in block || 'toolResult' in block) usesTools = true;
    }
  }
  if (body.system !== undefined && (!Array.isArray(body.system) || !(body.system as Json[]).every((b) => isRecord(b) && (typeof b.text === 'string' || isRecord(b.cachePoint))))) {
    return invalid('The system field must be a list of SystemContentBlock objects.');
  }
  const config = body.inferenceConfig;
  if (config !== undefined) {
    if (!isRecord(config)) return invalid('inferenceConfig must be an object.');
    if (config.maxTokens !== undefined && (!Number.isInteger(config.maxTokens) || (config.maxTokens as number) < 1)) return invalid("1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1");
    for (const key of ['temperature', 'topP'] as const) {
      const value = config[key];
      if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) return invalid(`1 validation error detected: Value at 'inferenceConfig.${key}' failed to satisfy constraint: Member must have value less than or equal to 1`);
    }
    if (config.stopSequences !== undefined && (!Array.isArray(config.stopSequences) || !config.stopSequences.every((s) => typeof s === 'string' && s !== ''))) return invalid('stopSequences must be a list of non-empty strings.');
  }
  const toolConfig = body.toolConfig;
  if (toolConfig !== undefined) {
    if (!isRecord(toolConfig) || !Array.isArray(toolConfig.tools) || toolConfig.tools.length === 0) return invalid("1 validation error detected: Value at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1");
    for (const tool of toolConfig.tools as Json[]) {
      const spec = isRecord(tool) ? tool.toolSpec : undefined;
      if (!isRecord(spec) || typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) return invalid("Value at 'toolConfig.tools.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+");
      if (!isRecord(spec.inputSchema) || !isRecord(spec.inputSchema.json)) return invalid('The inputSchema of a toolSpec must hold a JSON schema in json.');
    }
    const choice = toolConfig.toolChoice;
    if (choice !== undefined && (!isRecord(choice) || Object.keys(choice).length !== 1 || !['auto', 'any', 'tool'].includes(Object.keys(choice)[0]))) return invalid('toolChoice must set exactly one of auto, any, tool.');
  } else if (usesTools) {
    return invalid('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
  }
  return validateAdditionalFields(modelId, body);
}

/** `additionalModelRequestFields`: Claude takes `thinking` (with Anthropic's rules); other models refuse it. */
function validateAdditionalFields(modelId: string, body: Json): ConverseFailure | null {
  const fields = body.additionalModelRequestFields;
  if (fields === undefined) return null;
  if (!isRecord(fields)) return invalid('additionalModelRequestFields must be an object.');
  const claude = baseModelOf(modelId).startsWith('anthropic.claude-');
  for (const key of Object.keys(fields)) {
    if (key !== 'thinking' || !claude) return invalid(`Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`);
  }
  const problem = validateThinking(asAnthropicRequest(body));
  return problem === null ? null : invalid(`The model returned the following errors: ${problem.message}`);
}

/** The parts of a Converse request Anthropic's thinking rules read, in Anthropic's shape. */
function asAnthropicRequest(body: Json): Json {
  const config = isRecord(body.inferenceConfig) ? body.inferenceConfig : {};
  const choice = isRecord(body.toolConfig) && isRecord(body.toolConfig.toolChoice) ? body.toolConfig.toolChoice : undefined;
  return {
    thinking: (body.additionalModelRequestFields as Json).thinking,
    max_tokens: config.maxTokens,
    temperature: config.temperature,
    ...(choice !== undefined && { tool_choice: { type: Object.keys(choice)[0] } }),
    messages: (body.messages as Json[]).map((message) => ({ role: message.role, content: (message.content as Json[]).map(asAnthropicBlock) })),
  };
}

function asAnthropicBlock(block: Json): Json {
  if (typeof block.text === 'string') return { type: 'text', text: block.text };
  if (isRecord(block.toolUse)) return { type: 'tool_use' };
  if (isRecord(block.toolResult)) return { type: 'tool_result' };
  const reasoning = isRecord(block.reasoningContent) ? block.reasoningContent : undefined;
  if (reasoning !== undefined && isRecord(reasoning.reasoningText)) return { type: 'thinking', thinking: reasoning.reasoningText.text, signature: reasoning.reasoningText.signature };
  if (reasoning !== undefined && typeof reasoning.redactedContent === 'string') return { type: 'redacted_thinking', data: Buffer.from(reasoning.redactedContent, 'base64').toString() };
  return { type: Object.keys(block)[0] };
}

/** Claude's thinking block as Converse's `reasoningContent` (redacted bytes travel as base64). */
function reasoningBlockFor(userText: string): { block: Json; tokens: number } {
  const { block, tokens } = thinkingBlockFor(userText);
  if (block.type === 'thinking') return { block: { reasoningContent: { reasoningText: { text: block.thinking, signature: block.signature } } }, tokens };
  return { block: { reasoningContent: { redactedContent: Buffer.from(String(block.data)).toString('base64') } }, tokens };
}

function validateBlock(block: unknown, path: string): ConverseFailure | null {
  if (!isRecord(block)) return invalid(`${path} must be a ContentBlock object.`);
  const members = Object.keys(block).filter((key) => block[key] !== undefined);
  if (members.length !== 1 || !BLOCK_MEMBERS.has(members[0])) return invalid(`${path}: a ContentBlock sets exactly one of ${[...BLOCK_MEMBERS].join(', ')}.`);
  if ('text' in block && typeof block.text !== 'string') return invalid(`${path}.text must be a string.`);
  if ('image' in block) {
    const image = block.image;
    if (!isRecord(image) || typeof image.format !== 'string' || !IMAGE_FORMATS.has(image.format)) return invalid(`${path}.image.format must be one of png, jpeg, gif, webp.`);
    const bytes = isRecord(image.source) ? image.source.bytes : undefined;
    if (typeof bytes !== 'string' || bytes === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(bytes)) return invalid(`${path}.image.source.bytes must be base64.`);
  }
  if ('toolUse' in block) {
    const use = block.toolUse;
    if (!isRecord(use) || typeof use.toolUseId !== 'string' || typeof use.name !== 'string' || !isRecord(use.input)) return invalid(`${path}.toolUse needs toolUseId, name and an input object.`);
  }
  if ('toolResult' in block) {
    const result = block.toolResult;
    if (!isRecord(result) || typeof result.toolUseId !== 'string' || !Array.isArray(result.content)) return invalid(`${path}.toolResult needs toolUseId and content.`);
  }
  return null;
}

export interface ConverseContext {
  promptCache: Set<string>;
}

function lastUserText(messages: Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role !== 'user') continue;
    const texts: string[] = [];
    for (const block of message.content as Json[]) {
      if (typeof block.text === 'string') texts.push(block.text);
      else if (isRecord(block.toolResult)) for (const part of block.toolResult.content as Json[]) if (typeof part.text === 'string') texts.push(part.text);
    }
    return texts.join('\n');
  }
  return '';
}

function promptUsage(modelId: string, body: Json, ctx: ConverseContext): { input: number; write: number; read: number } {
  const segments: { text: string; cachePoint: boolean }[] = [];
  for (const block of (body.system as Json[] | undefined) ?? []) segments.push({ text: typeof block.text === 'string' ? block.text : '', cachePoint: isRecord(block.cachePoint) });
  for (const message of body.messages as Json[]) for (const block of message.content as Json[]) segments.push({ text: typeof block.text === 'string' ? block.text : JSON.stringify(block), cachePoint: isRecord(block.cachePoint) });
  const total = segments.reduce((n, s) => n + countTokens(s.text), 0) + 3 * (body.messages as Json[]).length;
  const point = segments.map((s) => s.cachePoint).lastIndexOf(true);
  if (point < 0) return { input: total, write: 0, read: 0 };
  const prefix = segments.slice(0, point);
  const cached = prefix.reduce((n, s) => n + countTokens(s.text), 0);
  const key = createHash('sha256').update(modelId).update(JSON.stringify(prefix)).digest('hex');
  const hit = ctx.promptCache.has(key);
  ctx.promptCache.add(key);
  return { input: total - cached, write: hit ? 0 : cached, read: hit ? cached : 0 };
}

/** The Converse answer, or the failure Bedrock answers instead. The request must be valid. */
export function converse(modelId: string, body: Json, ctx: ConverseContext): { response: Json } | { failure: ConverseFailure } {
  const userText = lastUserText(body.messages as Json[]);
  const failStatus = requestedFailureStatus(userText);
  if (failStatus !== null) return { failure: { type: errorTypeForStatus(failStatus), message: 'The simulator was asked to fail this request.', status: failStatus } };
  const usage = promptUsage(modelId, body, ctx);
  const toolConfig = isRecord(body.toolConfig) ? body.toolConfig : undefined;
  const tools = ((toolConfig?.tools as Json[] | undefined) ?? []).map((tool) => tool.toolSpec as Json);
  const choice = isRecord(toolConfig?.toolChoice) ? toolConfig.toolChoice : { auto: {} };
  const tool = tools.length === 0 ? undefined : isRecord(choice.tool) ? tools.find((t) => t.name === (choice.tool as Json).name) : 'any' in choice || TOOL_TRIGGER.test(userText) ? tools[0] : undefined;
  const config = isRecord(body.inferenceConfig) ? body.inferenceConfig : {};
  let content: Json[];
  let stopReason = 'end_turn';
  if (userText.trim() === 'GUARDRAIL') {
    content = [{ text: 'Sorry, the model cannot answer this question.' }];
    stopReason = 'guardrail_intervened';
  } else if (tool !== undefined) {
    content = [{ toolUse: { toolUseId: `tooluse_${randomBytes(11).toString('base64url')}`, name: tool.name, input: toolArguments((tool.inputSchema as Json).json, userText) } }];
    stopReason = 'tool_use';
  } else {
    let text = userText;
    for (const sequence of (config.stopSequences as string[] | undefined) ?? []) {
      const at = text.indexOf(sequence);
      if (at >= 0) {
        text = text.slice(0, at);
        stopReason = 'stop_sequence';
      }
    }
    const cut = truncateToTokens(text, config.maxTokens as number | undefined);
    if (cut.truncated) stopReason = 'max_tokens';
    content = [{ text: cut.text }];
  }
  let outputTokens = content.reduce((n, block) => n + countTokens(typeof block.text === 'string' ? block.text : JSON.stringify((block.toolUse as Json).input)), 0);
  const thinking = isRecord(body.additionalModelRequestFields) && isRecord(body.additionalModelRequestFields.thinking) ? body.additionalModelRequestFields.thinking : undefined;
  if (thinking?.type === 'enabled' || thinking?.type === 'adaptive') {
    const reasoning = reasoningBlockFor(userText);
    content.unshift(reasoning.block);
    outputTokens += reasoning.tokens;
  }
  return {
    response: {
      output: { message: { role: 'assistant', content } },
      stopReason,
      usage: {
        inputTokens: usage.input,
        outputTokens,
        totalTokens: usage.input + usage.read + usage.write + outputTokens,
        ...(usage.read > 0 && { cacheReadInputTokens: usage.read }),
        ...(usage.write > 0 && { cacheWriteInputTokens: usage.write }),
      },
      metrics: { latencyMs: 42 },
    },
  };
}

/** ConverseStream's events for an answer: `[eventType, payload]` in order. */
export function streamEvents(response: Json): [string, Json][] {
  const message = (response.output as Json).message as Json;
  const events: [string, Json][] = [['messageStart', { role: 'assistant' }]];
  (message.content as Json[]).forEach((block, index) => {
    if (isRecord(block.toolUse)) {
      const use = block.toolUse;
      events.push(['contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: use.toolUseId, name: use.name } } }]);
      const input = JSON.stringify(use.input);
      const half = Math.ceil(input.length / 2);
      for (const piece of [input.slice(0, half), input.slice(half)]) if (piece !== '') events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }]);
    } else if (isRecord(block.reasoningContent)) {
      const reasoning = block.reasoningContent;
      if (isRecord(reasoning.reasoningText)) {
        for (const piece of streamPieces(String(reasoning.reasoningText.text))) events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text: piece } } }]);
        events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature: reasoning.reasoningText.signature } } }]);
      } else {
        events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { redactedContent: reasoning.redactedContent } } }]);
      }
    } else {
      for (const piece of streamPieces(String(block.text))) events.push(['contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }]);
    }
    events.push(['contentBlockStop', { contentBlockIndex: index }]);
  });
  events.push(['messageStop', { stopReason: response.stopReason }]);
  events.push(['metadata', { usage: response.usage, metrics: response.metrics }]);
  return events;
}

export function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
