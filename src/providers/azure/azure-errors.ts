/**
 * Azure OpenAI's error envelopes, translated to OpenAI's `error` object (WIRE.md §2.6):
 * - classic authoring API `{"error":{"code":"notFound","message","target","innererror":{...}}}`;
 * - gateway/APIM `{"error":{"code":"404","message":"Resource not found"}}`;
 * - `{"statusCode":404,"message":"Resource not found"}`;
 * - the v1 surface, already OpenAI's shape (`{"error":{"message","type","param","code"}}`).
 * The HTTP status is kept; `type` follows OpenAI's use of it.
 */
import { z } from 'zod';
import type { OpenAIErrorBody } from '../../spec/errors.ts';
import { parseJsonOrUndefined } from '../http/request.ts';
import { codeString, errorTypeForStatus, fallbackMessage, parseOpenAIError, withOpenAIFailureCode } from '../openai/error-parser.ts';

const LABEL = 'Azure OpenAI';

const azureEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    code: z.union([z.string(), z.number()]).nullish(),
    message: z.string().nullish(),
    type: z.string().nullish(),
    param: z.string().nullish(),
    target: z.string().nullish(),
  }),
});
const statusCodeEnvelopeSchema = z.looseObject({ statusCode: z.number(), message: z.string().nullish() });

/** Azure's camelCase `ErrorCode`s with an OpenAI counterpart; others are kept as they are. */
const AZURE_CODE_TO_OPENAI: Readonly<Record<string, string | null>> = {
  tooManyRequests: 'rate_limit_exceeded',
  unauthorized: 'invalid_api_key',
  quotaExceeded: 'insufficient_quota',
  contentFilter: 'content_filter',
  notFound: null,
  invalidPayload: null,
  conflict: null,
  internalFailure: null,
  serviceUnavailable: null,
};

/** OpenAI's `code` for a status when Azure only repeats the status number as its code. */
function codeForStatus(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  return null;
}

function translateCode(code: string | number | null | undefined, status: number): string | null {
  const text = codeString(code);
  if (text === null || /^\d+$/.test(text)) return codeForStatus(status);
  return text in AZURE_CODE_TO_OPENAI ? AZURE_CODE_TO_OPENAI[text] : text;
}

/** Azure's error as OpenAI's, context-window and content-filter failures coded as OpenAI codes them. */
export function parseAzureError(status: number, text: string): OpenAIErrorBody {
  return withOpenAIFailureCode(status, parseAzureErrorBody(status, text));
}

function parseAzureErrorBody(status: number, text: string): OpenAIErrorBody {
  const json = parseJsonOrUndefined(text);
  const envelope = azureEnvelopeSchema.safeParse(json);
  if (envelope.success) {
    const error = envelope.data.error;
    return {
      message: error.message ?? fallbackMessage(status, text, LABEL),
      type: error.type ?? errorTypeForStatus(status),
      param: error.param ?? error.target ?? null,
      code: translateCode(error.code, status),
    };
  }
  const statusEnvelope = statusCodeEnvelopeSchema.safeParse(json);
  if (statusEnvelope.success) {
    return {
      message: statusEnvelope.data.message ?? fallbackMessage(status, text, LABEL),
      type: errorTypeForStatus(status),
      param: null,
      code: codeForStatus(status),
    };
  }
  return parseOpenAIError(status, text, LABEL);
}
