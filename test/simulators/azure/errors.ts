/**
 * Azure OpenAI error envelopes (WIRE.md §2.6). The classic authoring API answers
 * `{"error":{"code","message"}}` with Azure's own codes; the v1 surface answers the
 * OpenAI-compatible `{"error":{"code","message","param","type"}}`. Gateway-level failures (no
 * api-version, wrong path) are `{"error":{"code":"404","message":"Resource not found"}}`.
 */
import type { SimReply } from '../common/simulator-server.ts';
import type { OpenAIErrorFields } from '../openai/errors.ts';

/** Azure `ErrorCode` values by status, for errors that have no more specific code. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalidPayload',
  401: '401',
  403: 'forbidden',
  404: 'notFound',
  409: 'conflict',
  429: 'tooManyRequests',
  500: 'internalFailure',
  503: 'serviceUnavailable',
};

export type AzureSurface = 'classic' | 'v1';

export function azureErrorBody(surface: AzureSurface, status: number, fields: OpenAIErrorFields): Record<string, unknown> {
  const code = fields.code ?? CODE_BY_STATUS[status] ?? String(status);
  if (surface === 'classic') return { error: { code, message: fields.message } };
  return { error: { code, message: fields.message, param: fields.param ?? null, type: fields.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error') } };
}

export function azureError(surface: AzureSurface, status: number, fields: OpenAIErrorFields): SimReply {
  return { status, json: azureErrorBody(surface, status, fields) };
}

export const RESOURCE_NOT_FOUND: SimReply = { status: 404, json: { error: { code: '404', message: 'Resource not found' } } };

const ACCESS_DENIED_BODY = {
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  },
};

export const ACCESS_DENIED: SimReply = { status: 401, json: ACCESS_DENIED_BODY };

export const DEPLOYMENT_NOT_FOUND_BODY = {
  error: {
    code: 'DeploymentNotFound',
    message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
  },
};

/** Default bodies for `failNext`. */
export function defaultAzureFailureBody(status: number): Record<string, unknown> {
  if (status === 429) {
    return {
      error: {
        code: '429',
        message:
          'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.',
      },
    };
  }
  if (status >= 500) return { error: { code: 'InternalServerError', message: 'The server had an error while processing your request. Sorry about that!' } };
  if (status === 401) return ACCESS_DENIED_BODY;
  if (status === 404) return { error: { code: '404', message: 'Resource not found' } };
  return { error: { code: CODE_BY_STATUS[status] ?? String(status), message: `Simulated error ${status}.` } };
}
