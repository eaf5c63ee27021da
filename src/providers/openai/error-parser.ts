/**
 * OpenAI's error envelope `{"error": {"message", "type", "param", "code"}}` (WIRE.md §1.2
 * "Synchronous HTTP errors"), read leniently: OpenAI-compatible servers send variants
 * (`{"detail": ...}` from FastAPI-based servers, `{"error": "text"}`, `{"message": ...}`).
 */
import { z } from 'zod';
import type { OpenAIErrorBody } from '../../spec/errors.ts';
import { parseJsonOrUndefined } from '../http/request.ts';

const scalar = z.union([z.string(), z.number()]).nullish();

const envelopeSchema = z.looseObject({
  error: z.union([
    z.looseObject({ message: z.string().nullish(), type: z.string().nullish(), param: z.string().nullish(), code: scalar }),
    z.string(),
  ]),
});
const detailSchema = z.looseObject({ detail: z.unknown() });
const messageSchema = z.looseObject({ message: z.string(), type: z.string().nullish(), code: scalar });

/** OpenAI's `type` for a status when the upstream gave none. */
export function errorTypeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function fallbackMessage(status: number, text: string, label: string): string {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.startsWith('<')) return `${label} answered HTTP ${status}.`;
  return trimmed.length > 1000 ? `${trimmed.slice(0, 1000)}...` : trimmed;
}

export function codeString(code: string | number | null | undefined): string | null {
  if (code === null || code === undefined || code === '') return null;
  return String(code);
}

/**
 * Texts that mean "the prompt exceeds the context window" / "refused by the content policy" when
 * an OpenAI-shaped server gives no code for it (vLLM, older deployments): LiteLLM's
 * `exception_type` reads the same phrases
 * (https://github.com/BerriAI/litellm/blob/main/litellm/litellm_core_utils/exception_mapping_utils.py).
 * Routing reads only the codes (`context_window_fallbacks`, `content_policy_fallbacks`).
 */
const CONTEXT_WINDOW_TEXT = /maximum context length|model's maximum context limit|longer than the model's context length|context_length_exceeded|string too long\. Expected a string with maximum length/i;
const CONTENT_POLICY_TEXT = /content_policy_violation|content management policy|content_filter|safety system/i;

function withFailureCode(body: OpenAIErrorBody): OpenAIErrorBody {
  if (body.code === 'context_length_exceeded' || body.code === 'content_policy_violation' || body.code === 'content_filter') return body;
  if (CONTEXT_WINDOW_TEXT.test(body.message)) return { ...body, code: 'context_length_exceeded' };
  if (CONTENT_POLICY_TEXT.test(body.message)) return { ...body, code: 'content_policy_violation' };
  return body;
}

/** `parseOpenAIError` of OpenAI-shaped servers, with context-window and content-policy failures given OpenAI's code. */
export function parseOpenAIError(status: number, text: string, label = 'The upstream'): OpenAIErrorBody {
  const body = parseOpenAIErrorBody(status, text, label);
  return status === 400 ? withFailureCode(body) : body;
}

/** Applies `withFailureCode` to another envelope's parse (Azure's). */
export function withOpenAIFailureCode(status: number, body: OpenAIErrorBody): OpenAIErrorBody {
  return status === 400 ? withFailureCode(body) : body;
}

function parseOpenAIErrorBody(status: number, text: string, label: string): OpenAIErrorBody {
  const json = parseJsonOrUndefined(text);
  const envelope = envelopeSchema.safeParse(json);
  if (envelope.success) {
    const error = envelope.data.error;
    if (typeof error === 'string') {
      return { message: error, type: errorTypeForStatus(status), param: null, code: null };
    }
    return {
      message: error.message ?? fallbackMessage(status, text, label),
      type: error.type ?? errorTypeForStatus(status),
      param: error.param ?? null,
      code: codeString(error.code),
    };
  }
  const message = messageSchema.safeParse(json);
  if (message.success) {
    return {
      message: message.data.message,
      type: message.data.type ?? errorTypeForStatus(status),
      param: null,
      code: codeString(message.data.code),
    };
  }
  const detail = detailSchema.safeParse(json);
  if (detail.success) {
    const text = typeof detail.data.detail === 'string' ? detail.data.detail : JSON.stringify(detail.data.detail);
    return { message: text, type: errorTypeForStatus(status), param: null, code: null };
  }
  return { message: fallbackMessage(status, text, label), type: errorTypeForStatus(status), param: null, code: null };
}
