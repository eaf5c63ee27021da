/**
 * Per-request, asynchronous authorisation (issue 11): a provider whose credentials are more than
 * a fixed header gives its requests an `auth` (`HttpRequest.auth`), and the shared senders
 * (`request.ts`, `buffered-request.ts`, `streamed-request.ts`) ask it for the headers of each
 * request just before sending it, with the method, the URL, the headers so far and the exact
 * body bytes. AWS SigV4 signs all of them (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html);
 * Google wants `Authorization: Bearer <token>` from a cached OAuth2 token (`token-cache.ts`,
 * `bearerTokenAuth`).
 *
 * A request without `auth` goes out exactly as before: the senders test one property and take
 * their old path, with no extra await or allocation (the hot path of OpenAI-shaped clients, whose
 * keys are static headers).
 *
 * An upstream answering 401 to an authorised request tells the authorizer (`rejected`: a token
 * revoked or expired early by clock skew is dropped) and the request is authorised and sent once
 * more, when its body can be sent twice (bytes, or a stream with `HttpRequest.replayBody`).
 */
import type { Readable } from 'node:stream';
import { GatewayError, UpstreamCredentialsError } from '../../spec/errors.ts';
import type { HttpMethod, HttpRequest } from './request.ts';

/** A request as it will be sent, for an authorizer to sign or stamp. */
export interface RequestToAuthorize {
  readonly method: HttpMethod;
  readonly url: string;
  /** The headers set so far (lower-case names); the authorizer's are added over them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body bytes sent; `undefined` without a body or when it is a stream (`bodyStreamed`). */
  readonly body: Uint8Array | undefined;
  /** The body is a stream whose bytes are not known beforehand (SigV4: `UNSIGNED-PAYLOAD`, where the service allows it). */
  readonly bodyStreamed: boolean;
  readonly signal: AbortSignal | undefined;
}

export interface RequestAuthorizer {
  /**
   * The headers that authorise this request (`authorization`, `x-amz-date`, ...), added over the
   * request's. Called for every request and every resend. A `GatewayError` thrown here reaches
   * the caller as is; anything else becomes an `UpstreamCredentialsError` (503, retryable).
   */
  authorize(request: RequestToAuthorize): Promise<Readonly<Record<string, string>>>;
  /**
   * The upstream answered 401 to a request sent with `granted` (what `authorize` returned): drop
   * the credentials behind it. Present: the request is authorised and sent once more.
   */
  rejected?(granted: Readonly<Record<string, string>>): void;
}

/** `req` with its body as bytes (what is signed is what is sent) and the authorizer's headers. */
async function authorized(req: HttpRequest, auth: RequestAuthorizer): Promise<{ request: HttpRequest; granted: Readonly<Record<string, string>> }> {
  const bodyStreamed = req.body !== undefined && req.body !== null && typeof req.body !== 'string' && !Buffer.isBuffer(req.body);
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.isBuffer(req.body) ? req.body : undefined;
  const headers = req.headers ?? {};
  let granted: Readonly<Record<string, string>>;
  try {
    granted = await auth.authorize({ method: req.method, url: req.url, headers, body, bodyStreamed, signal: req.signal });
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new UpstreamCredentialsError(`Portico could not authorise the ${req.what ?? 'upstream request'} with the deployment's credentials: ${detail}`, { refused: false, cause: error });
  }
  return { request: { ...req, auth: undefined, replayBody: undefined, body: body ?? (req.body as Readable | null | undefined), headers: { ...headers, ...granted } }, granted };
}

/**
 * Sends `req` (which has an `auth`) through `send`, authorised; on a 401 with a `rejected` hook
 * and a replayable body, `discard`s that answer and sends it once more, authorised afresh.
 */
export async function sendAuthorized<Response extends { status: number }>(
  req: HttpRequest,
  auth: RequestAuthorizer,
  send: (request: HttpRequest) => Promise<Response>,
  discard: (response: Response) => Promise<void>,
): Promise<Response> {
  const first = await authorized(req, auth);
  const response = await send(first.request);
  const replayable = req.body === undefined || req.body === null || typeof req.body === 'string' || Buffer.isBuffer(req.body) || req.replayBody !== undefined;
  if (response.status !== 401 || auth.rejected === undefined || !replayable) return response;
  auth.rejected(first.granted);
  await discard(response);
  const second = await authorized(req.replayBody === undefined ? req : { ...req, body: req.replayBody() }, auth);
  return send(second.request);
}
