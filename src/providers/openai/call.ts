/**
 * One call to an OpenAI-shaped API: headers, error translation, JSON and streamed answers.
 * Every operation of `client.ts` goes through here.
 */
import type { Readable } from 'node:stream';
import { UpstreamError, isRetryableStatus } from '../../spec/errors.ts';
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { sendHttpRequestBuffered } from '../http/buffered-request.ts';
import { sendHttpRequestStreamed } from '../http/streamed-request.ts';
import { ERROR_BODY_LIMIT, badUpstreamResponse, errorStatusOf, isSuccessStatus, parseJsonAnswer, readErrorText } from '../http/json-api.ts';
import { type HttpMethod, type HttpRequest, type HttpResponse, type ResponseHeaders, headerValue, sendHttpRequest } from '../http/request.ts';
import { checkedFirstEvent, firstDataPayload } from '../http/sse.ts';
import type { OpenAIApiConfig, OpenAIOperation } from './api-config.ts';

/** `UpstreamBody.text()`'s default limit, which JSON answers were read with before. */
const JSON_BODY_LIMIT = 64 * 1024 * 1024;
/** Upstream headers that tell a client (and our router) when to retry. */
const RETRY_HEADERS = ['retry-after', 'retry-after-ms'] as const;

export interface CallContext {
  readonly config: OpenAIApiConfig;
  readonly deploymentId: string;
}

export interface RawCall {
  method: HttpMethod;
  operation: OpenAIOperation;
  what: string;
  json?: unknown;
  /** The JSON text of `json` when it is at hand (the client's own, `spec/received-json.ts`): sent instead of serialising `json`. */
  jsonText?: string;
  body?: Readable;
  headers?: Record<string, string>;
  accept?: string;
  /** Query parameters added to the operation's URL (a list's `limit`, `after`; repeated ones as `URLSearchParams`). */
  query?: Record<string, string> | URLSearchParams;
}

export async function sendCall(ctx: CallContext, call: RawCall, options: CallOptions = {}): Promise<HttpResponse> {
  return sendHttpRequest(httpRequestOf(ctx, call, options));
}

/** Operations whose URL names no file or batch: the same string every time, worth keeping. */
const FIXED_URL_KINDS: ReadonlySet<OpenAIOperation['kind']> = new Set(['chat', 'completions', 'embeddings', 'responses', 'moderations', 'imageGenerations', 'audioSpeech', 'audioTranscriptions', 'audioTranslations', 'rerank', 'files', 'batches']);
const fixedUrls = new WeakMap<OpenAIApiConfig, Map<OpenAIOperation['kind'], string>>();

/** `config.url(operation)`, built once per config for the fixed operations (every model call). */
function urlOf(config: OpenAIApiConfig, operation: OpenAIOperation): string {
  if (!FIXED_URL_KINDS.has(operation.kind)) return config.url(operation);
  let urls = fixedUrls.get(config);
  if (urls === undefined) {
    urls = new Map();
    fixedUrls.set(config, urls);
  }
  let url = urls.get(operation.kind);
  if (url === undefined) {
    url = config.url(operation);
    urls.set(operation.kind, url);
  }
  return url;
}

function httpRequestOf(ctx: CallContext, call: RawCall, options: CallOptions): HttpRequest {
  const headers: Record<string, string> = { ...ctx.config.headers(), accept: call.accept ?? 'application/json', ...call.headers };
  if (options.requestId) headers['x-client-request-id'] = options.requestId;
  let body: string | Readable | undefined;
  if (call.json !== undefined) {
    body = call.jsonText ?? JSON.stringify(call.json);
    headers['content-type'] = 'application/json';
  } else if (call.body) {
    body = call.body;
  }
  return {
    method: call.method,
    url: withQuery(urlOf(ctx.config, call.operation), call.query),
    headers,
    body,
    signal: options.signal,
    what: `${ctx.config.label} ${call.what}`,
  };
}

function withQuery(url: string, query: Record<string, string> | URLSearchParams | undefined): string {
  if (query === undefined) return url;
  const params = new URLSearchParams(query).toString();
  return params === '' ? url : `${url}${url.includes('?') ? '&' : '?'}${params}`;
}

export function upstreamRequestId(ctx: CallContext, response: { headers: ResponseHeaders }): string | undefined {
  for (const name of ctx.config.requestIdHeaders) {
    const value = headerValue(response.headers, name);
    if (value) return value;
  }
  return undefined;
}

/** Reads an error answer and throws it as an `UpstreamError` in OpenAI's envelope. */
export async function throwUpstreamError(ctx: CallContext, response: HttpResponse): Promise<never> {
  throw upstreamErrorOf(ctx, response.status, response.headers, await readErrorText(response.body));
}

function upstreamErrorOf(ctx: CallContext, responseStatus: number, headers: ResponseHeaders, text: string): UpstreamError {
  const status = errorStatusOf(responseStatus);
  return new UpstreamError(status, ctx.config.parseError(status, text), {
    deploymentId: ctx.deploymentId,
    isRetryable: retryableFromHeaders(headers) ?? isRetryableStatus(status),
    headers: retryHeaders(headers),
  });
}

/** OpenAI's `x-should-retry` overrides the status-based decision (openai-node `shouldRetry`). */
function retryableFromHeaders(headers: ResponseHeaders): boolean | undefined {
  const value = headerValue(headers, 'x-should-retry');
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

function retryHeaders(responseHeaders: ResponseHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of RETRY_HEADERS) {
    const value = headerValue(responseHeaders, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** A call answered with JSON. The answer is read whole, without a stream in between. */
export async function callJson(ctx: CallContext, call: RawCall, options: CallOptions = {}): Promise<UpstreamJsonResponse> {
  const request = httpRequestOf(ctx, call, options);
  const response = await sendHttpRequestBuffered(request, { maxBytes: JSON_BODY_LIMIT, maxErrorBytes: ERROR_BODY_LIMIT });
  if (!isSuccessStatus(response.status)) throw upstreamErrorOf(ctx, response.status, response.headers, response.body?.toString('utf8') ?? '');
  const bytes = response.body as Buffer;
  const text = bytes.toString('utf8');
  if (text.length === 0) return { status: response.status, body: {}, upstreamRequestId: upstreamRequestId(ctx, response) };
  const body = parseJsonAnswer(text, `${ctx.config.label} answered ${call.what} with a body that is not JSON.`, ctx.deploymentId);
  const answer: UpstreamJsonResponse = { status: response.status, body, upstreamRequestId: upstreamRequestId(ctx, response) };
  // Objects only: Fastify answers other JSON values (a bare `null`, a string) in its own way.
  if (typeof body === 'object' && body !== null) answer.rawBody = bytes;
  return answer;
}

/** A call answered with a byte stream (file content), returned unread. */
export async function callRaw(ctx: CallContext, call: RawCall, options: CallOptions = {}): Promise<HttpResponse> {
  const response = await sendCall(ctx, call, options);
  if (!isSuccessStatus(response.status)) return throwUpstreamError(ctx, response);
  return response;
}

/**
 * A streamed call (`stream: true`). Resolves once the upstream answered 2xx and its first event
 * arrived: an error sent as the first event of a 200 stream is thrown here, while routing can
 * still retry or fall back (nothing has reached the client yet).
 */
export async function callStream(ctx: CallContext, call: RawCall, options: CallOptions = {}): Promise<UpstreamStream> {
  // The events are relayed as they arrive: a queue fed by the dispatcher, no Node stream between.
  const response = await sendHttpRequestStreamed(httpRequestOf(ctx, { ...call, accept: 'text/event-stream' }, options));
  if (!isSuccessStatus(response.status)) return throwUpstreamError(ctx, response);
  const contentType = headerValue(response.headers, 'content-type');
  if (!isEventStream(contentType)) {
    // An upstream that ignored `stream: true` (a JSON completion) or a proxy's HTML page: relayed
    // under our event-stream headers, the client would see an empty stream and no error.
    response.body.destroy();
    throw badUpstreamResponse(
      `${ctx.config.label} answered ${call.what} with ${contentType ? `'${contentType.slice(0, 60)}'` : 'no content type'}, not an event stream.`,
      { deploymentId: ctx.deploymentId, isRetryable: true },
    );
  }
  const body = await checkedFirstEvent(response.body, (firstEventText) => {
    const firstError = streamedError(firstEventText);
    return firstError === undefined ? undefined : new UpstreamError(500, ctx.config.parseError(500, firstError), { deploymentId: ctx.deploymentId, isRetryable: true });
  });
  return {
    status: response.status,
    body,
    upstreamRequestId: upstreamRequestId(ctx, response),
  };
}

/**
 * Whether a streamed answer's content type is server-sent events. A missing one is let through:
 * some OpenAI-compatible servers send their event streams without it.
 */
function isEventStream(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true;
  return /^\s*text\/event-stream\s*(;|$)/i.test(contentType);
}

/** The JSON text of an `{"error": ...}` event, if the first event is one. */
function streamedError(eventText: string): string | undefined {
  const data = firstDataPayload(eventText);
  if (data === undefined || !data.startsWith('{')) return undefined;
  // Without the text `"error"`, an object can only have that key spelled with escapes (which need
  // a backslash): the usual first chunk (the assistant's role) is answered without a parse.
  if (!data.includes('"error"') && !data.includes('\\')) return undefined;
  try {
    const parsed = JSON.parse(data) as unknown;
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed && (parsed as { error: unknown }).error) return data;
  } catch {
    return undefined;
  }
  return undefined;
}
