/**
 * AWS errors from Bedrock's APIs -> Portico's errors in OpenAI's envelope. Pure.
 *
 * A restJson1 error names its type in the `x-amzn-errortype` header
 * (`ValidationException:http://internal.amazon.com/coral/...`) and/or the body's `__type`, with
 * the words in `message` (or `Message`) (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization,
 * `docs/specs/bedrock.md` §Errors). Inside an event stream, an exception message names it in
 * `:exception-type` (the union member: `throttlingException`). The status is chosen by the type,
 * which says more than Bedrock's HTTP status (a model error is a 424, a model timeout a 408); an
 * unknown type keeps the HTTP status.
 */
import { UpstreamError, type OpenAIErrorBody } from '../../spec/errors.ts';

interface ErrorKind {
  status: number;
  type: string;
  code: string;
  retryable?: boolean;
}

const KINDS: Readonly<Record<string, ErrorKind>> = {
  ValidationException: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  AccessDeniedException: { status: 403, type: 'permission_error', code: 'access_denied' },
  ResourceNotFoundException: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  ThrottlingException: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', retryable: true },
  ServiceQuotaExceededException: { status: 429, type: 'rate_limit_error', code: 'insufficient_quota', retryable: false },
  ModelNotReadyException: { status: 503, type: 'server_error', code: 'model_not_ready', retryable: true },
  ModelTimeoutException: { status: 504, type: 'timeout_error', code: 'timeout', retryable: true },
  ModelErrorException: { status: 502, type: 'api_error', code: 'model_error', retryable: true },
  ModelStreamErrorException: { status: 502, type: 'api_error', code: 'model_error', retryable: true },
  InternalServerException: { status: 500, type: 'server_error', code: 'internal_error', retryable: true },
  ServiceUnavailableException: { status: 503, type: 'server_error', code: 'service_unavailable', retryable: true },
  ConflictException: { status: 409, type: 'invalid_request_error', code: 'conflict', retryable: false },
  TooManyTagsException: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  // Authentication failures are 403s at AWS; OpenAI's clients know them as 401s.
  UnrecognizedClientException: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  InvalidSignatureException: { status: 401, type: 'authentication_error', code: 'invalid_signature' },
  SignatureDoesNotMatch: { status: 401, type: 'authentication_error', code: 'invalid_signature' },
  ExpiredTokenException: { status: 401, type: 'authentication_error', code: 'expired_token' },
  MissingAuthenticationTokenException: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  IncompleteSignatureException: { status: 401, type: 'authentication_error', code: 'invalid_signature' },
};

/** Error types meaning the credentials used are no longer good: dropped and fetched again once. */
export const STALE_CREDENTIAL_ERRORS: ReadonlySet<string> = new Set(['ExpiredTokenException', 'UnrecognizedClientException', 'InvalidSignatureException', 'SignatureDoesNotMatch']);

/** The exception a bare status stands for (a batch record's `errorCode` has no type). */
const TYPE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

export function errorTypeOfStatus(status: number): string | undefined {
  return TYPE_OF_STATUS[status];
}

export interface AwsErrorInput {
  /** HTTP status of the answer; absent inside an event stream. */
  httpStatus?: number;
  /** `x-amzn-errortype`, or an event stream's `:exception-type`. */
  errorType?: string;
  body: unknown;
  retryAfter?: string;
  deploymentId?: string;
}

/** `ValidationException:http://...` / `aws.protocoltests#ValidationException` / `validationException` -> `ValidationException`. */
export function errorTypeName(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const withoutNamespace = raw.split(':')[0].split('#').pop() ?? '';
  return withoutNamespace === '' ? undefined : withoutNamespace[0].toUpperCase() + withoutNamespace.slice(1);
}

export function awsErrorTypeOf(input: Pick<AwsErrorInput, 'errorType' | 'body'>): string | undefined {
  const fromBody = isRecord(input.body) && typeof input.body.__type === 'string' ? input.body.__type : undefined;
  return errorTypeName(input.errorType) ?? errorTypeName(fromBody);
}

export function awsErrorToUpstreamError(input: AwsErrorInput): UpstreamError {
  const typeName = awsErrorTypeOf(input);
  const kind = typeName !== undefined ? KINDS[typeName] : undefined;
  const message = messageOf(input.body) ?? `Amazon Bedrock answered${input.httpStatus !== undefined ? ` with HTTP ${input.httpStatus}` : ' with an error'}${typeName !== undefined ? ` (${typeName})` : ''}.`;
  const httpStatus = kind?.status ?? (input.httpStatus !== undefined && input.httpStatus >= 400 ? input.httpStatus : 502);
  const body: OpenAIErrorBody = {
    message,
    type: kind?.type ?? (httpStatus >= 500 ? 'server_error' : 'invalid_request_error'),
    param: null,
    code: contextLengthCode(typeName, message) ?? kind?.code ?? typeName ?? null,
  };
  return new UpstreamError(httpStatus, body, {
    deploymentId: input.deploymentId,
    ...(kind?.retryable !== undefined && { isRetryable: kind.retryable }),
    ...(input.retryAfter !== undefined && { headers: { 'retry-after': input.retryAfter } }),
  });
}

/** Routing reads OpenAI's `context_length_exceeded` for its context-window fallbacks; Bedrock says it in words. */
function contextLengthCode(typeName: string | undefined, message: string): string | undefined {
  if (typeName !== 'ValidationException') return undefined;
  return /too long|too many (input )?tokens|context (window|length)|exceeds? the (maximum|max)/i.test(message) ? 'context_length_exceeded' : undefined;
}

function messageOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const message = body.message ?? body.Message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
