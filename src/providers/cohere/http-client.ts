/**
 * The one door to Cohere's HTTP API: the bearer key and the deployment's extra headers on the
 * shared pooled agent (`../http/request.ts`), and error answers turned into Portico's errors in
 * OpenAI's envelope. Success bodies are returned as streams; nothing here buffers them.
 */
import { combineSignals, errorStatusOf, isSuccessStatus, parseJsonAnswer, plainErrorMessage, readErrorText } from '../http/json-api.ts';
import { headerValue, sendHttpRequest, type UpstreamBody } from '../http/request.ts';
import { cohereErrorToUpstreamError } from './errors.ts';

/** Where and how to call: built once per deployment. */
export interface CohereEndpoint {
  /** API root without a trailing slash (`https://api.cohere.com`). */
  apiBase: string;
  apiKey: string | undefined;
  timeoutMs: number;
  deploymentId: string;
  /** Extra headers from `litellm_params.extra_headers`. */
  extraHeaders: Readonly<Record<string, string>>;
}

export interface CohereRequest {
  /** A path under the API root (`/v2/chat`). */
  path: string;
  /** Names the operation in messages ("chat completion request"). */
  what: string;
  /** The JSON body. */
  body: string;
  accept?: string;
  signal?: AbortSignal;
  requestId?: string;
  /** Whether the exchange must also end within the deployment's timeout (not for streams, which the caller's signal bounds). */
  totalDeadline: boolean;
}

/** Sends one POST; a non-2xx answer is thrown as an `UpstreamError` in OpenAI's envelope. */
export async function sendCohereRequest(endpoint: CohereEndpoint, input: CohereRequest): Promise<UpstreamBody> {
  const headers: Record<string, string> = {
    ...endpoint.extraHeaders,
    accept: input.accept ?? 'application/json',
    'content-type': 'application/json',
  };
  // https://docs.cohere.com/reference/chat: `Authorization: Bearer <token>`.
  if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
  if (input.requestId !== undefined) headers['x-client-request-id'] = input.requestId;

  const deadline = input.totalDeadline ? AbortSignal.timeout(endpoint.timeoutMs) : undefined;
  const response = await sendHttpRequest({
    method: 'POST',
    url: `${endpoint.apiBase}${input.path}`,
    headers,
    body: input.body,
    signal: combineSignals(input.signal, deadline),
    what: `Cohere ${input.what}`,
  });
  if (!isSuccessStatus(response.status)) {
    throw cohereErrorToUpstreamError({
      httpStatus: errorStatusOf(response.status),
      body: parseJsonOrText(await readErrorText(response.body)),
      retryAfter: headerValue(response.headers, 'retry-after'),
      deploymentId: endpoint.deploymentId,
    });
  }
  // Cohere documents no request-id response header (the answer's `id` names the generation).
  return response.body;
}

/** Reads a (small) JSON success body whole. */
export async function readCohereJson(body: UpstreamBody, endpoint: CohereEndpoint, what: string): Promise<unknown> {
  return parseJsonAnswer(await body.text(), `Cohere answered the ${what} with a body that is not JSON.`, endpoint.deploymentId);
}


function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return plainErrorMessage(text);
  }
}
