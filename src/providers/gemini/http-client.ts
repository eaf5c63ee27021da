/**
 * The one door to Google's JSON APIs for this folder: the endpoint's headers (Gemini: the API key)
 * or its per-request authorizer (Vertex AI: an OAuth2 bearer token, `../http/request-auth.ts`), the shared pooled agent
 * (`../http/request.ts`), and error answers turned into Portico's errors in OpenAI's envelope.
 * Success bodies are returned as streams; nothing here buffers them.
 */
import { Readable } from 'node:stream';
import { combineSignals, errorStatusOf, isSuccessStatus, parseJsonAnswer, plainErrorMessage, readErrorText } from '../http/json-api.ts';
import { headerValue, sendHttpRequest, type HttpMethod, type ResponseHeaders, type UpstreamBody } from '../http/request.ts';
import type { RequestAuthorizer } from '../http/request-auth.ts';
import { googleErrorToUpstreamError } from './errors.ts';

export interface GoogleApiEndpoint {
  /** Where relative targets are resolved, without a trailing slash (`https://generativelanguage.googleapis.com`). */
  apiRoot: string;
  timeoutMs: number;
  deploymentId: string;
  /** Names the upstream in messages ("Gemini"). */
  upstreamName: string;
  /** Headers sent with every request (Gemini: `x-goog-api-key`). */
  headers: Readonly<Record<string, string>>;
  /** Authorises each request (Vertex AI: an OAuth2 bearer token); absent: `headers` suffice. */
  auth?: RequestAuthorizer;
}

export interface GoogleRequest {
  method: HttpMethod;
  /** A path under `apiRoot` (`/v1beta/batches/abc`), or an absolute URL on its origin. */
  target: string;
  /** Names the operation in transport error messages ("batch create"). */
  what: string;
  /** A JSON string, or byte chunks produced on demand (with `contentLength`). */
  body?: string | AsyncIterable<Uint8Array>;
  contentType?: string;
  contentLength?: number;
  headers?: Record<string, string>;
  accept?: string;
  signal?: AbortSignal;
  requestId?: string;
  /** Whether the whole exchange must end within the deployment's timeout (not for streams and downloads). */
  totalDeadline: boolean;
}

export interface GoogleResponse {
  status: number;
  headers: ResponseHeaders;
  body: UpstreamBody;
}

/** Sends one request; a non-2xx answer is thrown as an `UpstreamError` in OpenAI's envelope. */
export async function sendGoogleRequest(endpoint: GoogleApiEndpoint, input: GoogleRequest): Promise<GoogleResponse> {
  const headers: Record<string, string> = { ...endpoint.headers, ...input.headers, accept: input.accept ?? 'application/json' };
  if (input.body !== undefined) headers['content-type'] = input.contentType ?? 'application/json';
  if (input.contentLength !== undefined) headers['content-length'] = String(input.contentLength);
  if (input.requestId !== undefined) headers['x-client-request-id'] = input.requestId;
  const deadline = input.totalDeadline ? AbortSignal.timeout(endpoint.timeoutMs) : undefined;
  const response = await sendHttpRequest({
    method: input.method,
    url: urlOf(endpoint, input.target),
    headers,
    body: typeof input.body === 'string' || input.body === undefined ? input.body : Readable.from(input.body),
    signal: combineSignals(input.signal, deadline),
    what: `${endpoint.upstreamName} ${input.what}`,
    ...(endpoint.auth !== undefined && { auth: endpoint.auth }),
    // Chunks produced on demand can be produced again: an upload refused with a stale token is resent.
    ...(input.body !== undefined && typeof input.body !== 'string' && { replayBody: () => Readable.from(input.body as AsyncIterable<Uint8Array>) }),
  });
  if (!isSuccessStatus(response.status)) {
    throw googleErrorToUpstreamError({
      httpStatus: errorStatusOf(response.status),
      body: parseJsonOrText(await readErrorText(response.body)),
      retryAfter: headerValue(response.headers, 'retry-after'),
      deploymentId: endpoint.deploymentId,
      upstream: endpoint.upstreamName,
    });
  }
  return response;
}

/** Reads a (small) JSON success body whole. */
export async function readGoogleJson(response: GoogleResponse, endpoint: GoogleApiEndpoint, what: string): Promise<unknown> {
  return parseJsonAnswer(await response.body.text(), `${endpoint.upstreamName} answered the ${what} with a body that is not JSON.`, endpoint.deploymentId);
}

/**
 * Absolute URLs Google hands out (an upload session's URL) carry our credentials when followed:
 * they are followed on the endpoint's origin only, as the official SDK does (it moves an upload
 * URL onto its configured base URL).
 */
function urlOf(endpoint: GoogleApiEndpoint, target: string): string {
  if (!/^https?:\/\//i.test(target)) return `${endpoint.apiRoot}${target}`;
  const url = new URL(target);
  const root = new URL(endpoint.apiRoot);
  url.protocol = root.protocol;
  url.host = root.host;
  return url.href;
}


function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { message: plainErrorMessage(text) } };
  }
}
