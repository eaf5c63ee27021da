/**
 * Requests to Vertex AI and Cloud Storage with the deployment's OAuth2 access token
 * (`Authorization: Bearer`), stamped on each request by the shared per-request auth
 * (`../http/request-auth.ts`, `bearerTokenAuth`). Google answers 401 to a token it no longer
 * takes (revoked, or expired early by clock skew): the shared senders drop the token and send
 * the request once more with a new one. Google's JSON APIs answer errors as `google.rpc.Status` (the Gemini translations' error
 * parser reads them); Claude's `rawPredict` answers Anthropic's own error body for what the model
 * refuses, and Google's for what Vertex refuses before it (auth, quota, an unknown model).
 */
import { anthropicErrorToUpstreamError } from '../anthropic/errors.ts';
import { googleErrorToUpstreamError } from '../gemini/errors.ts';
import { sendGoogleRequest, type GoogleApiEndpoint, type GoogleRequest, type GoogleResponse } from '../gemini/http-client.ts';
import { isRecord } from '../gemini/json.ts';
import { combineSignals, errorStatusOf, isSuccessStatus, parseJsonAnswer, plainErrorMessage, readErrorText } from '../http/json-api.ts';
import { headerValue, sendHttpRequest } from '../http/request.ts';
import type { RequestAuthorizer } from '../http/request-auth.ts';

export interface VertexEndpoint {
  /** Origin (and path prefix) requests are sent to, without a trailing slash. */
  apiRoot: string;
  timeoutMs: number;
  deploymentId: string;
  /** Names the upstream in messages ("Vertex AI", "Cloud Storage"). */
  upstreamName: string;
  /** Stamps the bearer token on each request (`bearerTokenAuth` of the deployment's token cache). */
  auth: RequestAuthorizer;
}

/** A Google JSON API request with a bearer token; a rejected token is renewed once. */
export async function sendVertexRequest(endpoint: VertexEndpoint, input: GoogleRequest): Promise<GoogleResponse> {
  return sendGoogleRequest(googleEndpoint(endpoint), input);
}

/** Reads a (small) JSON success body whole. */
export async function readVertexJson(response: GoogleResponse, endpoint: VertexEndpoint, what: string): Promise<unknown> {
  return parseJsonAnswer(await response.body.text(), `${endpoint.upstreamName} answered the ${what} with a body that is not JSON.`, endpoint.deploymentId);
}

/**
 * A `rawPredict` / `streamRawPredict` call for a Claude model: the Anthropic body as JSON, the
 * answer's errors read in whichever envelope they come.
 */
export async function sendClaudeRequest(endpoint: VertexEndpoint, input: { target: string; what: string; body: string; accept?: string; signal?: AbortSignal; requestId?: string; totalDeadline: boolean }): Promise<GoogleResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: input.accept ?? 'application/json' };
  if (input.requestId !== undefined) headers['x-client-request-id'] = input.requestId;
  const deadline = input.totalDeadline ? AbortSignal.timeout(endpoint.timeoutMs) : undefined;
  const response = await sendHttpRequest({
    method: 'POST',
    url: `${endpoint.apiRoot}${input.target}`,
    headers,
    body: input.body,
    signal: combineSignals(input.signal, deadline),
    what: `${endpoint.upstreamName} ${input.what}`,
    auth: endpoint.auth,
  });
  if (isSuccessStatus(response.status)) return response;
  const body = parseJsonOrText(await readErrorText(response.body));
  const retryAfter = headerValue(response.headers, 'retry-after');
  const httpStatus = errorStatusOf(response.status);
  if (isRecord(body) && body.type === 'error') throw anthropicErrorToUpstreamError({ httpStatus, body, retryAfter, deploymentId: endpoint.deploymentId });
  throw googleErrorToUpstreamError({ httpStatus, body, retryAfter, deploymentId: endpoint.deploymentId, upstream: endpoint.upstreamName });
}

function googleEndpoint(endpoint: VertexEndpoint): GoogleApiEndpoint {
  return {
    apiRoot: endpoint.apiRoot,
    timeoutMs: endpoint.timeoutMs,
    deploymentId: endpoint.deploymentId,
    upstreamName: endpoint.upstreamName,
    headers: NO_HEADERS,
    auth: endpoint.auth,
  };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});


function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { message: plainErrorMessage(text) } };
  }
}
