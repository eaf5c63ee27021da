/**
 * OpenAI's error envelope (`ErrorResponse` in openai-files-batches.excerpt.json):
 * `{"error":{"message","type","param","code"}}`, all four keys always present.
 */

export interface OpenAIErrorFields {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openaiErrorBody(status: number, fields: OpenAIErrorFields): OpenAIErrorBody {
  return {
    error: {
      message: fields.message,
      type: fields.type ?? errorTypeForStatus(status),
      param: fields.param ?? null,
      code: fields.code ?? null,
    },
  };
}

function errorTypeForStatus(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** What the real API answers for a bare status; used by `failNext` and by `FAIL:<status>` lines. */
export function defaultOpenAIFailureBody(status: number): OpenAIErrorBody {
  switch (status) {
    case 400:
      return openaiErrorBody(400, { message: 'The simulator was asked to fail this request.' });
    case 401:
      return openaiErrorBody(401, { message: 'Incorrect API key provided.', code: 'invalid_api_key' });
    case 403:
      return openaiErrorBody(403, { message: 'You are not allowed to sample from this model', type: 'invalid_request_error' });
    case 404:
      return openaiErrorBody(404, { message: 'The requested resource was not found.' });
    case 409:
      return openaiErrorBody(409, { message: 'The request conflicts with the current state of the resource.' });
    case 429:
      return openaiErrorBody(429, {
        message: 'Rate limit reached for requests. Please try again in 1s.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      });
    case 503:
      return openaiErrorBody(503, { message: 'The engine is currently overloaded, please try again later', type: 'server_error' });
    default:
      if (status >= 500) {
        return openaiErrorBody(status, {
          message: 'The server had an error while processing your request. Sorry about that!',
          type: 'server_error',
        });
      }
      return openaiErrorBody(status, { message: `Simulated error ${status}.` });
  }
}
