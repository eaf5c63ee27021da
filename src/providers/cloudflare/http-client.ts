/**
 * The one door to Workers AI's REST API for this folder: `POST {api_base}{model}` with
 * `Authorization: Bearer <key>` (https://developers.cloudflare.com/api/resources/ai/methods/run/)
 * on the shared pooled agent (`../http/request.ts`), error answers turned into Portico's errors
 * in OpenAI's envelope, and the v4 envelope's `result` read out of a JSON success.
 * Success bodies are returned as streams; nothing here buffers a stream.
 */
import { badUpstreamResponse, combineSignals, errorStatusOf, isSuccessStatus, parseJsonAnswer, readErrorText } from '../http/json-api.ts';
import { headerValue, parseJsonOrUndefined, sendHttpRequest, type UpstreamBody } from '../http/request.ts';
import { cloudflareErrorToUpstreamError, isErrorEnvelope } from './errors.ts';
import { isRecord } from './json.ts';

/** Where and how one deployment's model is called: built once per deployment. */
export interface WorkersAiEndpoint {
  /** `{api_base}{model}`: `https://api.cloudflare.com/client/v4/accounts/{account}/ai/run/@cf/meta/llama-3.1-8b-instruct`. */
  modelUrl: string;
  apiKey: string | undefined;
  timeoutMs: number;
  deploymentId: string;
}

export interface WorkersAiRequest {
  /** Names the operation in error messages ("chat completion request"). */
  what: string;
  /** The model's input, JSON. */
  body: string;
  accept?: string;
  signal?: AbortSignal;
  /** Whether the exchange must also end within the deployment's timeout (not for streams: the caller's signal bounds them). */
  totalDeadline: boolean;
}

export interface WorkersAiResponse {
  /** Pulled at the consumer's pace; breaking out of it closes the upstream. */
  body: UpstreamBody;
  /** Cloudflare's `cf-ray`, the id its support asks for. */
  upstreamRequestId: string | undefined;
}

/**
 * The model's URL: LiteLLM's `api_base + model`, the model's `@` and `/` kept as they are
 * (`@cf/meta/llama-3.1-8b-instruct`); anything else a path must not hold is escaped.
 */
export function modelUrlOf(runUrlPrefix: string, model: string): string {
  return runUrlPrefix + model.split('/').map((segment) => encodeURIComponent(segment).replaceAll('%40', '@')).join('/');
}

/** Sends one request; a non-2xx answer is thrown as an `UpstreamError` in OpenAI's envelope. */
export async function sendWorkersAiRequest(endpoint: WorkersAiEndpoint, input: WorkersAiRequest): Promise<WorkersAiResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: input.accept ?? 'application/json' };
  if (endpoint.apiKey !== undefined) headers.authorization = `Bearer ${endpoint.apiKey}`;
  const deadline = input.totalDeadline ? AbortSignal.timeout(endpoint.timeoutMs) : undefined;
  const response = await sendHttpRequest({
    method: 'POST',
    url: endpoint.modelUrl,
    headers,
    body: input.body,
    signal: combineSignals(input.signal, deadline),
    what: `Cloudflare Workers AI ${input.what}`,
  });
  if (!isSuccessStatus(response.status)) {
    throw cloudflareErrorToUpstreamError({
      httpStatus: errorStatusOf(response.status),
      body: parseJsonOrUndefined(await readErrorText(response.body)),
      retryAfter: headerValue(response.headers, 'retry-after'),
      deploymentId: endpoint.deploymentId,
    });
  }
  return { body: response.body, upstreamRequestId: headerValue(response.headers, 'cf-ray') };
}

/** The `result` of a (small) JSON success, read whole; an envelope saying `success: false` is thrown as its error. */
export async function readResult(response: WorkersAiResponse, endpoint: WorkersAiEndpoint, what: string): Promise<Record<string, unknown>> {
  const envelope = parseJsonAnswer(await response.body.text(), `Cloudflare Workers AI answered the ${what} with a body that is not JSON.`, endpoint.deploymentId);
  if (isErrorEnvelope(envelope)) throw cloudflareErrorToUpstreamError({ httpStatus: 200, body: envelope, deploymentId: endpoint.deploymentId });
  if (!isRecord(envelope) || !isRecord(envelope.result)) {
    throw badUpstreamResponse(`Cloudflare Workers AI answered the ${what} without a result.`, { deploymentId: endpoint.deploymentId, isRetryable: true });
  }
  return envelope.result;
}

