/**
 * Requests to Bedrock's runtime and control plane, signed with SigV4 (`signing.ts`, the shared
 * senders' per-request authorizer) by the deployment's cached credentials (`credentials.ts`), sent
 * on the shared pooled agent; an error
 * answer becomes an `UpstreamError` (`errors.ts`). Credentials AWS refuses as expired or unknown
 * (rotated keys, a session that ended early) are dropped and the request is signed and sent once
 * more with fresh ones. Success bodies are returned as streams; nothing here buffers them.
 */
import { GatewayError } from '../../spec/errors.ts';
import { combineSignals, errorStatusOf, isSuccessStatus, parseJsonAnswer, plainErrorMessage, readErrorText } from '../http/json-api.ts';
import { headerValue, sendHttpRequest, type HttpMethod, type HttpResponse } from '../http/request.ts';
import type { AwsCredentialCache, AwsCredentials } from './credentials.ts';
import { awsErrorToUpstreamError, awsErrorTypeOf, STALE_CREDENTIAL_ERRORS } from './errors.ts';
import { sigv4Auth } from './signing.ts';

export interface BedrockEndpoint {
  /** Origin requests are sent to, without a trailing slash. */
  origin: string;
  region: string;
  timeoutMs: number;
  deploymentId: string;
  /** Names the upstream in messages ("Amazon Bedrock"). */
  upstreamName: string;
  credentials: AwsCredentialCache;
}

export interface BedrockRequest {
  method: HttpMethod;
  /** The path and query under the origin (`/model/{modelId}/converse`). */
  target: string;
  what: string;
  /** JSON text. */
  body?: string;
  accept?: string;
  signal?: AbortSignal;
  requestId?: string;
  /** Whether the whole exchange must end within the deployment's timeout (not for streams). */
  totalDeadline: boolean;
}

/** Sends one signed request; a non-2xx answer is thrown as an `UpstreamError` in OpenAI's envelope. */
export async function sendBedrockRequest(endpoint: BedrockEndpoint, input: BedrockRequest): Promise<HttpResponse> {
  const credentials = await endpoint.credentials.get();
  try {
    return await sendSigned(endpoint, input, credentials);
  } catch (error) {
    if (!(error instanceof StaleCredentialsError)) throw error;
    endpoint.credentials.invalidate(credentials);
    return sendSigned(endpoint, input, await endpoint.credentials.get()).catch((again: unknown) => {
      throw again instanceof StaleCredentialsError ? again.upstream : again;
    });
  }
}

/** Reads a (small) JSON success body whole. */
export async function readBedrockJson(response: HttpResponse, endpoint: BedrockEndpoint, what: string): Promise<unknown> {
  return parseJsonAnswer(await response.body.text(), `${endpoint.upstreamName} answered the ${what} with a body that is not JSON.`, endpoint.deploymentId);
}

class StaleCredentialsError extends Error {
  readonly upstream: GatewayError;
  constructor(upstream: GatewayError) {
    super(upstream.message);
    this.upstream = upstream;
  }
}

async function sendSigned(endpoint: BedrockEndpoint, input: BedrockRequest, credentials: AwsCredentials): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: input.accept ?? 'application/json' };
  if (input.body !== undefined) headers['content-type'] = 'application/json';
  if (input.requestId !== undefined) headers['x-client-request-id'] = input.requestId;
  const deadline = input.totalDeadline ? AbortSignal.timeout(endpoint.timeoutMs) : undefined;
  const response = await sendHttpRequest({
    method: input.method,
    url: `${endpoint.origin}${input.target}`,
    headers,
    body: input.body,
    auth: sigv4Auth(credentials, endpoint.region),
    signal: combineSignals(input.signal, deadline),
    what: `${endpoint.upstreamName} ${input.what}`,
  });
  if (isSuccessStatus(response.status)) return response;
  const body = parseJsonOrText(await readErrorText(response.body));
  const errorType = headerValue(response.headers, 'x-amzn-errortype');
  const error = awsErrorToUpstreamError({
    httpStatus: errorStatusOf(response.status),
    errorType,
    body,
    retryAfter: headerValue(response.headers, 'retry-after'),
    deploymentId: endpoint.deploymentId,
  });
  const typeName = awsErrorTypeOf({ errorType, body });
  if (typeName !== undefined && STALE_CREDENTIAL_ERRORS.has(typeName)) throw new StaleCredentialsError(error);
  throw error;
}


function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: plainErrorMessage(text) };
  }
}
