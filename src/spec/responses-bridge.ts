/**
 * OpenAI's Responses API (https://platform.openai.com/docs/api-reference/responses) on a
 * deployment whose provider has no Responses API of its own (Anthropic, Gemini, Bedrock,
 * Vertex AI, ...), as LiteLLM's proxy serves `/v1/responses` for every provider: the request as a
 * chat completion (each provider translates chat in its own folder), the answer and its stream
 * as a Response and Responses events. Pure, but for the stream's bytes. Stateless: nothing is
 * stored, so `previous_response_id` (which needs the stored conversation) is a 400 here.
 *
 * Request: `instructions` and `system` / `developer` messages -> system messages; message items
 * (`input_text`, `input_image`, `input_file`, `output_text` parts) -> chat messages;
 * `function_call` items -> an assistant message's `tool_calls`, `function_call_output` ->
 * `tool` messages; function tools and `tool_choice`; `max_output_tokens` -> `max_tokens`;
 * `text.format` -> `response_format`; `reasoning.effort` -> `reasoning_effort`. Built-in tools
 * (web search, file search, ...) run only on OpenAI's side: left out, each with a warning.
 */
import { randomBytes } from 'node:crypto';
import { InvalidRequestError } from './errors.ts';
import { translateServerSentEvents } from './sse-translation.ts';
import type { TranslationWarning } from './provider.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

export interface BridgedResponsesRequest {
  chat: Json;
  warnings: TranslationWarning[];
}

/** A message item's content as chat content: a string, or parts. */
function contentOf(content: unknown, param: string): string | Json[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param}: expected a string or a list of content parts.`, { param });
  const parts = content.map((part: unknown, index) => {
    if (!isObject(part)) throw new InvalidRequestError(`${param}[${index}]: expected an object.`, { param: `${param}[${index}]` });
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        return { type: 'text', text: String(part.text ?? '') };
      case 'input_image':
        if (typeof part.image_url !== 'string') throw new InvalidRequestError(`${param}[${index}].image_url: an image URL or data URL is required here (file ids are OpenAI's).`, { param: `${param}[${index}].image_url` });
        return { type: 'image_url', image_url: { url: part.image_url, ...(typeof part.detail === 'string' && { detail: part.detail }) } };
      case 'input_file':
        if (typeof part.file_data !== 'string') throw new InvalidRequestError(`${param}[${index}].file_data: the file's data is required here (file ids are OpenAI's).`, { param: `${param}[${index}].file_data` });
        return { type: 'file', file: { file_data: part.file_data, ...(typeof part.filename === 'string' && { filename: part.filename }) } };
      default:
        throw new InvalidRequestError(`${param}[${index}].type: unsupported content part type '${String(part.type).slice(0, 40)}'.`, { param: `${param}[${index}].type` });
    }
  });
  return parts.every((part) => part.type === 'text') ? parts.map((part) => (part as { text: string }).text).join('') : parts;
}

function messagesOf(input: unknown, warnings: TranslationWarning[]): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input)) return [];
  const messages: Json[] = [];
  input.forEach((item: unknown, index) => {
    const param = `input[${index}]`;
    if (!isObject(item)) throw new InvalidRequestError(`${param}: expected an object.`, { param });
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = item.role === 'developer' ? 'system' : item.role;
      if (role !== 'user' && role !== 'assistant' && role !== 'system') throw new InvalidRequestError(`${param}.role: expected 'user', 'assistant', 'system' or 'developer'.`, { param: `${param}.role` });
      messages.push({ role, content: contentOf(item.content, `${param}.content`) });
      return;
    }
    if (type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') throw new InvalidRequestError(`${param}: a function_call needs a call_id and a name.`, { param });
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '{}' } };
      const last = messages.at(-1);
      // Consecutive calls (and the text before them) are one assistant turn, as chat has them.
      if (last !== undefined && last.role === 'assistant') last.tool_calls = [...((last.tool_calls as Json[] | undefined) ?? []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string') throw new InvalidRequestError(`${param}.call_id: Field required.`, { param: `${param}.call_id` });
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '') });
      return;
    }
    warnings.push({ param, message: `${String(type)} items have no chat counterpart and were left out` });
  });
  return messages;
}

function toolsOf(tools: unknown, warnings: TranslationWarning[]): Json[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  const functions: Json[] = [];
  tools.forEach((tool: unknown, index) => {
    if (!isObject(tool)) return;
    if (tool.type !== 'function') {
      warnings.push({ param: `tools[${index}]`, message: `the built-in tool ${String(tool.type)} runs only on OpenAI's side and was left out` });
      return;
    }
    if (typeof tool.name !== 'string') throw new InvalidRequestError(`tools[${index}].name: Field required.`, { param: `tools[${index}].name` });
    functions.push({
      type: 'function',
      function: {
        name: tool.name,
        ...(typeof tool.description === 'string' && { description: tool.description }),
        parameters: isObject(tool.parameters) ? tool.parameters : { type: 'object' },
        ...(typeof tool.strict === 'boolean' && { strict: tool.strict }),
      },
    });
  });
  return functions;
}

function toolChoiceOf(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  return undefined;
}

function responseFormatOf(text: unknown): Json | undefined {
  const format = isObject(text) && isObject(text.format) ? text.format : undefined;
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') return { type: 'json_schema', json_schema: { name: format.name ?? 'response', schema: format.schema, ...(typeof format.strict === 'boolean' && { strict: format.strict }) } };
  return undefined;
}

export function chatRequestOfResponses(body: Json): BridgedResponsesRequest {
  if (typeof body.previous_response_id === 'string') {
    throw new InvalidRequestError("previous_response_id needs a response stored by the provider's own Responses API, which this deployment's provider has not; send the conversation in `input`.", {
      param: 'previous_response_id',
      code: 'unsupported_parameter',
    });
  }
  const warnings: TranslationWarning[] = [];
  const messages = messagesOf(body.input, warnings);
  if (typeof body.instructions === 'string' && body.instructions !== '') messages.unshift({ role: 'system', content: body.instructions });
  const tools = toolsOf(body.tools, warnings);
  const toolChoice = toolChoiceOf(body.tool_choice);
  const responseFormat = responseFormatOf(body.text);
  const effort = isObject(body.reasoning) && typeof body.reasoning.effort === 'string' ? body.reasoning.effort : undefined;
  const chat: Json = {
    model: body.model,
    messages,
    ...(typeof body.max_output_tokens === 'number' && { max_tokens: body.max_output_tokens }),
    ...(typeof body.temperature === 'number' && { temperature: body.temperature }),
    ...(typeof body.top_p === 'number' && { top_p: body.top_p }),
    ...(tools !== undefined && tools.length > 0 && { tools, ...(toolChoice !== undefined && { tool_choice: toolChoice }) }),
    ...(typeof body.parallel_tool_calls === 'boolean' && tools !== undefined && tools.length > 0 && { parallel_tool_calls: body.parallel_tool_calls }),
    ...(responseFormat !== undefined && { response_format: responseFormat }),
    ...(effort !== undefined && { reasoning_effort: effort }),
    ...(typeof body.user === 'string' && { user: body.user }),
    ...(body.stream === true && { stream: true, stream_options: { include_usage: true } }),
  };
  return { chat, warnings };
}

/** OpenAI's Responses `usage` of a chat completion's. */
function responseUsageOf(usage: unknown): Json {
  const u = isObject(usage) ? usage : {};
  const input = count(u.prompt_tokens);
  const output = count(u.completion_tokens);
  const cached = count(isObject(u.prompt_tokens_details) ? u.prompt_tokens_details.cached_tokens : undefined);
  const reasoning = count(isObject(u.completion_tokens_details) ? u.completion_tokens_details.reasoning_tokens : undefined);
  return { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output };
}

/** The Response's fields that echo the request. */
function requestEcho(request: Json): Json {
  return {
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: isObject(request.reasoning) ? (request.reasoning.effort ?? null) : null, summary: null },
    store: false,
    temperature: request.temperature ?? 1,
    text: isObject(request.text) ? request.text : { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    user: request.user ?? null,
    metadata: isObject(request.metadata) ? request.metadata : {},
  };
}

function messageItem(id: string, text: string, status: 'in_progress' | 'completed'): Json {
  return { type: 'message', id, status, role: 'assistant', content: status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [] };
}

export function responseOfChatCompletion(completion: unknown, request: Json, model: string): Json {
  const body = isObject(completion) ? completion : {};
  const choice = Array.isArray(body.choices) && isObject(body.choices[0]) ? body.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const output: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '') output.push(messageItem(randomId('msg_'), message.content, 'completed'));
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as unknown[]) {
      if (!isObject(call) || !isObject(call.function)) continue;
      output.push({ type: 'function_call', id: randomId('fc_'), call_id: typeof call.id === 'string' ? call.id : randomId('call_'), name: String(call.function.name ?? ''), arguments: String(call.function.arguments ?? '{}'), status: 'completed' });
    }
  }
  const truncated = choice.finish_reason === 'length';
  return {
    id: randomId('resp_'),
    object: 'response',
    created_at: typeof body.created === 'number' ? body.created : Math.floor(Date.now() / 1000),
    status: truncated ? 'incomplete' : 'completed',
    background: false,
    error: null,
    incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
    model,
    output,
    ...requestEcho(request),
    usage: responseUsageOf(body.usage),
  };
}

/**
 * Turns a chat completion stream's events into the Responses API's, in the order OpenAI sends
 * them: `response.created`, `response.in_progress`, a message item while text arrives (its part
 * added, text deltas, done), a function call item per tool call (argument deltas, done), then
 * `response.completed` (or `response.incomplete` when the length ran out) with the whole Response
 * and its usage. Every event carries its `sequence_number`.
 */
export class ResponsesStreamTranslator {
  readonly #request: Json;
  readonly #model: string;
  readonly #id = randomId('resp_');
  readonly #createdAt = Math.floor(Date.now() / 1000);
  #sequence = 0;
  #started = false;
  #finished = false;
  #output: Json[] = [];
  /** The item open now: its output index, and what it has gathered. */
  #open: { index: number; kind: 'message'; id: string; text: string } | { index: number; kind: 'call'; id: string; callId: string; name: string; args: string; toolIndex: number } | undefined;
  #finishReason: unknown = null;
  #usage: unknown;

  constructor(request: Json, model: string) {
    this.#request = request;
    this.#model = model;
  }

  #event(type: string, payload: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#sequence++, ...payload })}\n\n`;
  }

  #response(status: string): Json {
    const truncated = status === 'incomplete';
    return {
      id: this.#id,
      object: 'response',
      created_at: this.#createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
      model: this.#model,
      output: status === 'in_progress' ? [] : this.#output,
      ...requestEcho(this.#request),
      usage: status === 'in_progress' ? null : responseUsageOf(this.#usage),
    };
  }

  /** The events for one chunk's parsed `data`, or for `[DONE]` (`undefined`). */
  onData(chunk: unknown): string[] {
    if (this.#finished) return [];
    if (chunk === undefined) return this.finish();
    if (!isObject(chunk)) return [];
    const events: string[] = [];
    if (!this.#started) {
      this.#started = true;
      const response = this.#response('in_progress');
      events.push(this.#event('response.created', { response }), this.#event('response.in_progress', { response }));
    }
    if (isObject(chunk.error)) {
      this.#finished = true;
      events.push(this.#event('error', { code: chunk.error.code ?? null, message: String(chunk.error.message ?? 'The upstream stream failed.'), param: chunk.error.param ?? null }));
      return events;
    }
    if (chunk.usage !== undefined && chunk.usage !== null) this.#usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (choice === undefined) return events;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.#open?.kind !== 'message') {
        events.push(...this.#close());
        const id = randomId('msg_');
        this.#open = { index: this.#output.length, kind: 'message', id, text: '' };
        events.push(
          this.#event('response.output_item.added', { output_index: this.#open.index, item: messageItem(id, '', 'in_progress') }),
          this.#event('response.content_part.added', { item_id: id, output_index: this.#open.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
        );
      }
      const open = this.#open as { index: number; id: string; text: string };
      open.text += delta.content;
      events.push(this.#event('response.output_text.delta', { item_id: open.id, output_index: open.index, content_index: 0, delta: delta.content, logprobs: [] }));
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as unknown[]) {
        if (!isObject(call)) continue;
        const fn = isObject(call.function) ? call.function : {};
        const toolIndex = typeof call.index === 'number' ? call.index : 0;
        if (this.#open?.kind !== 'call' || this.#open.toolIndex !== toolIndex) {
          events.push(...this.#close());
          const id = randomId('fc_');
          this.#open = { index: this.#output.length, kind: 'call', id, callId: typeof call.id === 'string' ? call.id : randomId('call_'), name: String(fn.name ?? ''), args: '', toolIndex };
          events.push(this.#event('response.output_item.added', { output_index: this.#open.index, item: { type: 'function_call', id, call_id: this.#open.callId, name: this.#open.name, arguments: '', status: 'in_progress' } }));
        }
        const open = this.#open as { index: number; id: string; args: string };
        if (typeof fn.arguments === 'string' && fn.arguments !== '') {
          open.args += fn.arguments;
          events.push(this.#event('response.function_call_arguments.delta', { item_id: open.id, output_index: open.index, delta: fn.arguments }));
        }
      }
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) this.#finishReason = choice.finish_reason;
    return events;
  }

  /** The closing events (the stream ended: `[DONE]`, or its last byte). */
  finish(): string[] {
    if (this.#finished) return [];
    const events: string[] = [];
    if (!this.#started) {
      this.#started = true;
      const response = this.#response('in_progress');
      events.push(this.#event('response.created', { response }), this.#event('response.in_progress', { response }));
    }
    events.push(...this.#close());
    this.#finished = true;
    const status = this.#finishReason === 'length' ? 'incomplete' : 'completed';
    events.push(this.#event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: this.#response(status) }));
    return events;
  }

  /** Ends the open item: its done events, and the item into the output. */
  #close(): string[] {
    const open = this.#open;
    if (open === undefined) return [];
    this.#open = undefined;
    if (open.kind === 'message') {
      const item = messageItem(open.id, open.text, 'completed');
      this.#output.push(item);
      const part = (item.content as Json[])[0];
      return [
        this.#event('response.output_text.done', { item_id: open.id, output_index: open.index, content_index: 0, text: open.text, logprobs: [] }),
        this.#event('response.content_part.done', { item_id: open.id, output_index: open.index, content_index: 0, part }),
        this.#event('response.output_item.done', { output_index: open.index, item }),
      ];
    }
    const item = { type: 'function_call', id: open.id, call_id: open.callId, name: open.name, arguments: open.args, status: 'completed' };
    this.#output.push(item);
    return [
      this.#event('response.function_call_arguments.done', { item_id: open.id, output_index: open.index, arguments: open.args }),
      this.#event('response.output_item.done', { output_index: open.index, item }),
    ];
  }
}

/** A chat completion stream's bytes as the Responses API's event stream, translated as the bytes arrive. */
export function responsesEventsOf(chunks: AsyncIterable<Uint8Array>, request: Json, model: string): AsyncGenerator<Uint8Array> {
  return translateServerSentEvents(chunks, new ResponsesStreamTranslator(request, model));
}
