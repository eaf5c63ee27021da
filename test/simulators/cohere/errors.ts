/**
 * Cohere's error answers (https://docs.cohere.com/reference/errors): a non-2xx status with
 * `{"id": "<uuid>", "message": "..."}`. The `cohere-ai` SDK raises one class per status (400
 * BadRequestError, 401 UnauthorizedError, 404 NotFoundError, 429 TooManyRequestsError, 498
 * InvalidTokenError, 500 InternalServerError, ...), reading this body as the error's `body`.
 */
import { uuid } from '../common/ids.ts';
import type { SimReply } from '../common/simulator-server.ts';

/** Messages Cohere answers with, as its docs and SDK users quote them. */
const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  400: 'invalid request: the simulator was asked to fail this request.',
  401: 'invalid api token',
  402: 'Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue',
  403: 'Forbidden',
  404: 'Not Found',
  422: 'unprocessable entity',
  429: "You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'. Contact us on 'https://discord.gg/XW44jPfYJu' or email us at support@cohere.com with any questions",
  498: 'invalid token',
  499: 'client closed request',
  500: 'internal server error, this has been reported to our developers',
  503: 'service unavailable',
  504: 'gateway timeout',
};

export function cohereErrorBody(status: number, message?: string): { id: string; message: string } {
  return { id: uuid(), message: message ?? DEFAULT_MESSAGES[status] ?? `simulated error ${status}` };
}

export function cohereError(status: number, message?: string): SimReply {
  return { status, json: cohereErrorBody(status, message) };
}

/** Cohere's answer to a model it does not serve. */
export function modelNotFound(model: string): SimReply {
  return cohereError(404, `model '${model}' not found, make sure the correct model ID was used and that you have access to the model.`);
}

/** Cohere's answer to a field it does not know, at the top level or inside an object. */
export function unknownField(name: string, endpoint: 'chat' | 'embed' | 'rerank'): string {
  return `unknown field: parameter '${name}' is not a valid field. For proper usage, please refer to https://docs.cohere.com/reference/${endpoint}`;
}
