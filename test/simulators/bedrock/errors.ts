/**
 * AWS errors as Bedrock's restJson1 endpoints answer them
 * (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization):
 * the type in the `x-amzn-ErrorType` header, `{"message": ...}` in the body; the status each
 * exception's `smithy.api#httpError` trait gives it in the service models (docs/specs/bedrock.md §Errors).
 */
import type { SimReply } from '../common/simulator-server.ts';

/** Each error type's HTTP status, from the service models' `smithy.api#httpError` traits. */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 400,
  ThrottlingException: 429,
  ServiceQuotaExceededException: 400,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  // The AWS front end's own (not in the service models): authentication failures.
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  ExpiredTokenException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
};

const STATUS_TYPE: Readonly<Record<number, string>> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  409: 'ConflictException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  ThrottlingException: 'Too many requests, please wait before trying again.',
  InternalServerException: 'The server encountered an internal error while processing the request.',
  ServiceUnavailableException: 'Bedrock is unable to process your request.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
};

export function errorTypeForStatus(status: number): string {
  return STATUS_TYPE[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
}

export function awsError(type: string, message?: string, status?: number): SimReply {
  return {
    status: status ?? ERROR_STATUS[type] ?? 400,
    json: { message: message ?? DEFAULT_MESSAGES[type] ?? `${type}` },
    headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
  };
}

/** The body `failNext` answers: `__type` carries the type where no header does. */
export function awsErrorBody(status: number): Record<string, unknown> {
  const type = errorTypeForStatus(status);
  return { __type: type, message: DEFAULT_MESSAGES[type] ?? `The simulator failed this request with ${status}.` };
}
