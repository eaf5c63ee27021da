/**
 * OpenAI chat `messages` -> Workers AI's `messages`. Pure.
 *
 * Workers AI takes `{role, content}` with `content` a string for every text generation model
 * (https://developers.cloudflare.com/workers-ai/models/llama-3.1-8b-instruct/, "Messages" input);
 * vision models (Llama 3.2 Vision, Llama 4 Scout) also take parts of `text` and `image_url`,
 * whose URL must be a `data:` URI ("HTTP URL will not be accepted", the Llama 4 Scout schema).
 * So: text parts are joined into one string (as LiteLLM's `convert_content_list_to_str` does);
 * a content with `data:` images keeps its parts; an image at an http(s) URL, audio or a file is a
 * 400 naming the part. `developer` is the system role; `tool` results keep their `tool_call_id`;
 * an assistant's `tool_calls` go as OpenAI wrote them, its `content` an empty string when null
 * (Workers AI requires a string).
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { echoValue } from '../../spec/echo-value.ts';
import { isRecord } from './json.ts';
import type { WorkersAiContentPart, WorkersAiMessage } from './wire-types.ts';

const ROLES: Readonly<Record<string, WorkersAiMessage['role']>> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
};

export function translateMessages(value: unknown, warnings: TranslationWarning[]): WorkersAiMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", { param: 'messages' });
  }
  return value.map((message, index) => translateMessage(message, `messages[${index}]`, warnings));
}

function translateMessage(message: unknown, param: string, warnings: TranslationWarning[]): WorkersAiMessage {
  if (!isRecord(message)) throw new InvalidRequestError(`${param} must be an object.`, { param });
  const role = typeof message.role === 'string' && Object.hasOwn(ROLES, message.role) ? ROLES[message.role] : undefined;
  if (role === undefined) {
    const hint = message.role === 'function' ? " (the deprecated 'function' role is not supported; use 'tool')" : '';
    throw new InvalidRequestError(`${param}.role ${echoValue(message.role)} is not supported on Cloudflare Workers AI deployments${hint}.`, { param: `${param}.role` });
  }
  if (typeof message.name === 'string' && message.name !== '') {
    warnings.push({ param: `${param}.name`, message: 'Workers AI messages have no name; it was dropped.' });
  }
  const translated: WorkersAiMessage = { role, content: contentOf(message.content, `${param}.content`, role) };
  if (role === 'tool' && typeof message.tool_call_id === 'string') translated.tool_call_id = message.tool_call_id;
  if (role === 'assistant' && Array.isArray(message.tool_calls) && message.tool_calls.length > 0) translated.tool_calls = message.tool_calls;
  return translated;
}

function contentOf(content: unknown, param: string, role: WorkersAiMessage['role']): WorkersAiMessage['content'] {
  if (typeof content === 'string') return content;
  // An assistant turn that only called tools has no content in OpenAI's API.
  if (content == null && role === 'assistant') return '';
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  const parts: WorkersAiContentPart[] = content.map((part, index) => partOf(part, `${param}[${index}]`));
  if (parts.some((part) => part.type === 'image_url')) return parts;
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function partOf(part: unknown, param: string): WorkersAiContentPart {
  if (!isRecord(part)) throw new InvalidRequestError(`${param} must be a content part object.`, { param });
  // `refusal` parts are an assistant's own text in OpenAI's API.
  if ((part.type === 'text' && typeof part.text === 'string') || (part.type === 'refusal' && typeof part.refusal === 'string')) {
    return { type: 'text', text: typeof part.text === 'string' ? part.text : String(part.refusal) };
  }
  if (part.type === 'image_url') {
    const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
    if (typeof url !== 'string') throw new InvalidRequestError(`${param}.image_url.url must be a string.`, { param: `${param}.image_url` });
    if (!url.startsWith('data:')) {
      throw new InvalidRequestError(`${param}: Workers AI takes images only inline, as data: URLs (base64); an image at an http(s) URL is not supported.`, { param: `${param}.image_url` });
    }
    return { type: 'image_url', image_url: { url } };
  }
  throw new InvalidRequestError(`${param}: content parts of type ${echoValue(part.type)} are not supported on Cloudflare Workers AI deployments (text, and data: URL images on vision models, are).`, { param });
}
