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

export function parseOpenAIError(status: number, text: string, label = 'The upstream'): OpenAIErrorBody {
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
