/**
 * OpenAI chat `messages` -> Gemini `contents` and `systemInstruction`. Pure.
 * (https://ai.google.dev/api/generate-content#request-body, `docs/specs/gemini-api.md` §Content)
 *
 * - `system` / `developer` messages become `systemInstruction` (wherever they stand; Gemini has
 *   one system instruction per request);
 * - `user` content parts: text -> `text`; `image_url` with a `data:` URL -> `inlineData`, with an
 *   http(s) URL -> `fileData` (Gemini fetches it); `input_audio` -> `inlineData`; `file` with
 *   `file_data` -> `inlineData`;
 * - `assistant` -> role `model`, text and `tool_calls` -> `functionCall` parts (arguments parsed);
 * - `tool` results -> `functionResponse` parts in a `user` turn, named after the call they answer
 *   (Gemini names the function, OpenAI only the call id); consecutive results share one turn,
 *   as Gemini wants all answers to one turn's calls together;
 * - consecutive messages of one role are merged into one turn.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { isRecord } from './json.ts';
import { signedToolCallOf, unsignedToolCallId } from './thinking.ts';
import type { GeminiContent, GeminiPart } from './wire-types.ts';

export interface ContentsTranslation {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
}

export function translateMessages(value: unknown, warnings: TranslationWarning[]): ContentsTranslation {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", { param: 'messages' });
  }
  const contents: GeminiContent[] = [];
  const system: GeminiPart[] = [];
  const toolNames = new Map<string, string>();
  const push = (role: 'user' | 'model', parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  value.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw new InvalidRequestError(`${param} must be an object.`, { param });
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content, param));
        break;
      case 'user':
        push('user', userParts(message.content, param));
        break;
      case 'assistant':
        push('model', assistantParts(message, param, toolNames));
        break;
      case 'tool':
        push('user', [toolResultPart(message, param, toolNames)]);
        break;
      case 'function':
        throw new InvalidRequestError(`${param}: the deprecated 'function' role is not supported; use 'tool'.`, { param: `${param}.role` });
      default:
        throw new InvalidRequestError(`${param}.role '${String(message.role)}' is not a chat role.`, { param: `${param}.role` });
    }
    if (message.name != null && message.role !== 'tool') {
      warnings.push({ param: `${param}.name`, message: "Gemini has no participant names; 'name' was dropped." });
    }
  });
  if (contents.length === 0) throw new InvalidRequestError("'messages' must hold at least one user or assistant message.", { param: 'messages' });
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

function textParts(content: unknown, param: string): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param}.content must be a string or an array of parts.`, { param: `${param}.content` });
  return content.map((part, index) => {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw new InvalidRequestError(`${param}.content[${index}] must be a text part here.`, { param: `${param}.content[${index}]` });
    }
    return { text: part.text };
  });
}

function userParts(content: unknown, param: string): GeminiPart[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param}.content must be a string or an array of parts.`, { param: `${param}.content` });
  return content.map((part, index) => userPart(part, `${param}.content[${index}]`));
}

function userPart(part: unknown, param: string): GeminiPart {
  if (!isRecord(part)) throw new InvalidRequestError(`${param} must be an object.`, { param });
  switch (part.type) {
    case 'text':
      if (typeof part.text !== 'string') throw new InvalidRequestError(`${param}.text must be a string.`, { param: `${param}.text` });
      return { text: part.text };
    case 'image_url': {
      const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
      if (typeof url !== 'string') throw new InvalidRequestError(`${param}.image_url.url must be a string.`, { param: `${param}.image_url.url` });
      return mediaPart(url, `${param}.image_url.url`);
    }
    case 'input_audio': {
      const audio = isRecord(part.input_audio) ? part.input_audio : {};
      if (typeof audio.data !== 'string' || typeof audio.format !== 'string') {
        throw new InvalidRequestError(`${param}.input_audio needs 'data' and 'format'.`, { param: `${param}.input_audio` });
      }
      return { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } };
    }
    case 'file': {
      const file = isRecord(part.file) ? part.file : {};
      if (typeof file.file_data === 'string') return mediaPart(file.file_data, `${param}.file.file_data`);
      throw new InvalidRequestError(`${param}: only files given inline ('file_data') are supported on Gemini deployments.`, { param: `${param}.file` });
    }
    default:
      throw new InvalidRequestError(`${param}.type '${String(part.type)}' is not supported on Gemini deployments.`, { param: `${param}.type` });
  }
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

/** A `data:` URL becomes inline bytes; an http(s) URL a file Gemini fetches itself. */
function mediaPart(url: string, param: string): GeminiPart {
  const data = DATA_URL.exec(url);
  if (data) return { inlineData: { mimeType: data[1], data: data[2] } };
  if (/^https?:\/\//i.test(url)) {
    const mimeType = mimeTypeOfUrl(url);
    return { fileData: mimeType === undefined ? { fileUri: url } : { mimeType, fileUri: url } };
  }
  throw new InvalidRequestError(`${param} must be a base64 data: URL or an http(s) URL.`, { param });
}

const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

function mimeTypeOfUrl(url: string): string | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : EXTENSION_TYPES[extension];
}

function assistantParts(message: Record<string, unknown>, param: string, toolNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  if (typeof message.content === 'string' && message.content !== '') parts.push({ text: message.content });
  else if (Array.isArray(message.content)) {
    message.content.forEach((part, index) => {
      if (isRecord(part) && (part.type === 'text' || part.type === 'output_text') && typeof part.text === 'string') parts.push({ text: part.text });
      else if (!(isRecord(part) && part.type === 'refusal')) {
        throw new InvalidRequestError(`${param}.content[${index}] must be a text part.`, { param: `${param}.content[${index}]` });
      }
    });
  }
  if (message.tool_calls != null) {
    if (!Array.isArray(message.tool_calls)) throw new InvalidRequestError(`${param}.tool_calls must be an array.`, { param: `${param}.tool_calls` });
    message.tool_calls.forEach((call, index) => {
      const callParam = `${param}.tool_calls[${index}]`;
      if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') {
        throw new InvalidRequestError(`${callParam} must be a function call with a name.`, { param: callParam });
      }
      const { id, signature } = signedToolCallOf(call);
      if (id !== undefined) toolNames.set(id, call.function.name);
      const part: GeminiPart = { functionCall: { name: call.function.name, args: argumentsOf(call.function.arguments, `${callParam}.function.arguments`) } };
      if (id !== undefined) part.functionCall!.id = id;
      // The call's thought signature goes back on its part, as Gemini gave it (`thinking.ts`).
      if (signature !== undefined) part.thoughtSignature = signature;
      parts.push(part);
    });
  }
  return parts;
}

function argumentsOf(value: unknown, param: string): Record<string, unknown> {
  if (value == null || value === '') return {};
  if (typeof value !== 'string') throw new InvalidRequestError(`${param} must be a JSON string.`, { param });
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidRequestError(`${param} is not valid JSON.`, { param });
  }
  if (!isRecord(parsed)) throw new InvalidRequestError(`${param} must encode a JSON object.`, { param });
  return parsed;
}

function toolResultPart(message: Record<string, unknown>, param: string, toolNames: Map<string, string>): GeminiPart {
  if (typeof message.tool_call_id !== 'string') throw new InvalidRequestError(`${param}.tool_call_id is required.`, { param: `${param}.tool_call_id` });
  const id = unsignedToolCallId(message.tool_call_id);
  const name = toolNames.get(id) ?? (typeof message.name === 'string' ? message.name : undefined);
  if (name === undefined) {
    throw new InvalidRequestError(`${param}: no earlier assistant tool call has the id '${id}'.`, { param: `${param}.tool_call_id` });
  }
  const text = typeof message.content === 'string' ? message.content : textParts(message.content, param).map((part) => part.text).join('');
  // Gemini wants an object as the function's response; LiteLLM wraps the text the same way.
  return { functionResponse: { id, name, response: { content: text } } };
}
