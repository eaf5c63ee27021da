/**
 * The one door to Anthropic's HTTP API: Anthropic's headers on the shared pooled agent
 * (`../http/request.ts`), and error answers turned into Portico's errors in OpenAI's envelope.
 * Success bodies are returned as streams; nothing here buffers them.
 */
import { Readable } from 'node:stream';
import { combineSignals, errorStatusOf, isSuccessStatus, parseJsonAnswer, plainErrorMessage, readErrorText } from '../http/json-api.ts';
import { headerValue, sendHttpRequest, type UpstreamBody } from '../http/request.ts';
import { anthropicErrorToUpstreamError } from './errors.ts';

/** https://docs.anthropic.com/en/api/versioning */
export const ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_ANTHROPIC_API_BASE = 'https://api.anthropic.com';

/** Where and how to call: built once per deployment. */
export interface AnthropicEndpoint {
  /** API root without a trailing slash (`https://api.anthropic.com`). */
  apiBase: string;
  apiKey: string | undefined;
  timeoutMs: number;
  deploymentId: string;
  /** Extra headers from `litellm_params.extra_headers` (e.g. `anthropic-beta`). */
  extraHeaders: Readonly<Record<string, string>>;
}

export interface AnthropicRequest {
  method: 'GET' | 'POST';
  /** A path under the API root (`/v1/messages`), or an absolute URL Anthropic gave us. */
  target: string;
  /** Names the operation in transport error messages ("batch create"). */
  what: string;
  /** A JSON string, or byte chunks produced on demand (with `contentLength`). */
  body?: string | AsyncIterable<Uint8Array>;
  contentLength?: number;
  accept?: string;
  signal?: AbortSignal;
  requestId?: string;
  /** The client's `anthropic-beta` (a Messages request passed through), joined to the deployment's own. */
  beta?: string;
  /**
   * Whether the exchange must also end within the deployment's timeout. JSON calls made by
   * background jobs may come without a caller signal; streams are bounded by the caller's.
   */
  totalDeadline: boolean;
}

export interface AnthropicResponse {
  status: number;
  /** The response body, pulled at the consumer's pace; breaking out of it closes the upstream. */
  body: UpstreamBody;
  upstreamRequestId: string | undefined;
}

/** Sends one request; a non-2xx answer is thrown as an `UpstreamError` in OpenAI's envelope. */
export async function sendAnthropicRequest(endpoint: AnthropicEndpoint, input: AnthropicRequest): Promise<AnthropicResponse> {
  const headers: Record<string, string> = {
    ...endpoint.extraHeaders,
    'anthropic-version': ANTHROPIC_VERSION,
    accept: input.accept ?? 'application/json',
  };
  if (endpoint.apiKey !== undefined) headers['x-api-key'] = endpoint.apiKey;
  if (input.body !== undefined) headers['content-type'] = 'application/json';
  if (input.contentLength !== undefined) headers['content-length'] = String(input.contentLength);
  if (input.requestId !== undefined) headers['x-client-request-id'] = input.requestId;
  if (input.beta !== undefined && input.beta.trim() !== '') {
    const configured = headers['anthropic-beta'];
    headers['anthropic-beta'] = configured === undefined ? input.beta : [...new Set(`${configured},${input.beta}`.split(',').map((feature) => feature.trim()).filter((feature) => feature !== ''))].join(',');
  }

  const deadline = input.totalDeadline ? AbortSignal.timeout(endpoint.timeoutMs) : undefined;
  const response = await sendHttpRequest({
    method: input.method,
    url: /^https?:\/\//i.test(input.target) ? input.target : `${endpoint.apiBase}${input.target}`,
    headers,
    body: typeof input.body === 'string' || input.body === undefined ? input.body : Readable.from(input.body),
    signal: combineSignals(input.signal, deadline),
    what: `Anthropic ${input.what}`,
  });

  if (!isSuccessStatus(response.status)) {
    throw anthropicErrorToUpstreamError({
      httpStatus: errorStatusOf(response.status),
      body: parseJsonOrText(await readErrorText(response.body)),
      retryAfter: headerValue(response.headers, 'retry-after'),
      deploymentId: endpoint.deploymentId,
    });
  }
  return { status: response.status, body: response.body, upstreamRequestId: headerValue(response.headers, 'request-id') };
}

/** Reads a (small) JSON success body whole. */
export async function readJson(response: AnthropicResponse, endpoint: AnthropicEndpoint, what: string): Promise<unknown> {
  return parseJsonAnswer(await response.body.text(), `Anthropic answered the ${what} with a body that is not JSON.`, endpoint.deploymentId);
}


function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { message: plainErrorMessage(text) } };
  }
}
