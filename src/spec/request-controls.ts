/**
 * LiteLLM's per-request controls, as its proxy takes them in the body
 * (https://docs.litellm.ai/docs/proxy/reliability: client-side `fallbacks`, `num_retries`,
 * `timeout`; https://docs.litellm.ai/docs/completion/mock_requests: `mock_response`):
 *
 * - `fallbacks`: model groups to try, in order, once the requested one failed, in place of the
 *   configured `fallbacks` for this request (LiteLLM also takes `{model: ...}` objects: their
 *   `model` is read);
 * - `num_retries`: retries on the group's deployments, in place of the deployments' `max_retries`;
 * - `timeout` (or `request_timeout`), seconds: each attempt's timeout, in place of the deployment's;
 * - `mock_response`: the gateway answers it, with no upstream call (a string: the answer's text).
 *
 * LiteLLM's request headers say the same, and outrank the body
 * (https://docs.litellm.ai/docs/proxy/request_headers): `x-litellm-timeout`,
 * `x-litellm-stream-timeout` (a streamed request's, in place of `x-litellm-timeout`) and
 * `x-litellm-num-retries`.
 *
 * A control of the wrong type is a 400 naming it. The fields never go upstream
 * (`gateway-request-fields.ts`).
 */
import { InvalidRequestError } from './errors.ts';

export interface RequestControls {
  readonly fallbacks?: readonly string[];
  readonly numRetries?: number;
  readonly timeoutMs?: number;
  readonly mockResponse?: string;
}

const NONE: RequestControls = Object.freeze({});

function fallbacksOf(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new InvalidRequestError("'fallbacks' must be a list of model names.", { param: 'fallbacks', code: 'invalid_type' });
  return list.map((item, index) => {
    const name = typeof item === 'string' ? item : typeof item === 'object' && item !== null ? (item as { model?: unknown }).model : undefined;
    if (typeof name !== 'string' || name === '') {
      throw new InvalidRequestError(`'fallbacks[${index}]' must be a model name (or an object naming one in 'model').`, { param: `fallbacks[${index}]`, code: 'invalid_type' });
    }
    return name;
  });
}

function timeoutMsOf(value: unknown, param: string): number {
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidRequestError(`'${param}' must be a number of seconds above 0.`, { param, code: 'invalid_value' });
  }
  return seconds * 1000;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A request header's value (the first, when sent more than once). */
export function headerOf(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The controls `body` and `headers` carry (usually none: one key check each). */
export function requestControlsOf(body: Record<string, unknown>, headers: Headers = {}): RequestControls {
  const retriesHeader = headerOf(headers, 'x-litellm-num-retries');
  const streamTimeoutHeader = body.stream === true ? headerOf(headers, 'x-litellm-stream-timeout') : undefined;
  const timeoutHeader = streamTimeoutHeader ?? headerOf(headers, 'x-litellm-timeout');
  const retries = retriesHeader !== undefined ? (/^\d+$/.test(retriesHeader.trim()) ? Number(retriesHeader) : retriesHeader) : body.num_retries;
  const retriesParam = retriesHeader !== undefined ? 'x-litellm-num-retries' : 'num_retries';
  const hasFallbacks = body.fallbacks !== undefined && body.fallbacks !== null;
  const hasRetries = retries !== undefined && retries !== null;
  const timeout = timeoutHeader ?? body.timeout ?? body.request_timeout;
  const timeoutParam = streamTimeoutHeader !== undefined ? 'x-litellm-stream-timeout' : timeoutHeader !== undefined ? 'x-litellm-timeout' : body.timeout !== undefined && body.timeout !== null ? 'timeout' : 'request_timeout';
  const hasMock = body.mock_response !== undefined && body.mock_response !== null;
  if (!hasFallbacks && !hasRetries && (timeout === undefined || timeout === null) && !hasMock) return NONE;
  if (hasRetries && !(Number.isInteger(retries) && (retries as number) >= 0)) {
    throw new InvalidRequestError(`'${retriesParam}' must be an integer of 0 or more.`, { param: retriesParam, code: 'invalid_value' });
  }
  if (hasMock && typeof body.mock_response !== 'string') {
    throw new InvalidRequestError("'mock_response' must be the answer's text (a string).", { param: 'mock_response', code: 'invalid_type' });
  }
  return {
    ...(hasFallbacks && { fallbacks: fallbacksOf(body.fallbacks) }),
    ...(hasRetries && { numRetries: retries as number }),
    ...(timeout !== undefined && timeout !== null && { timeoutMs: timeoutMsOf(timeout, timeoutParam) }),
    ...(hasMock && { mockResponse: body.mock_response as string }),
  };
}
