/**
 * The one error hierarchy of Portico. Handlers, routing and providers throw these; only
 * `server/error-to-response.ts` turns them into HTTP, always in OpenAI's envelope
 * `{"error": {"message", "type", "param", "code"}}`.
 */

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'api_error'
  | 'timeout_error';

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface GatewayErrorOptions {
  param?: string | null;
  code?: string | null;
  type?: string;
  /** Whether a retry (or fallback to another deployment) may succeed. */
  isRetryable?: boolean;
  cause?: unknown;
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly httpStatus: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly isRetryable: boolean;
  readonly headers: Record<string, string>;

  constructor(httpStatus: number, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.httpStatus = httpStatus;
    this.type = options.type ?? defaultTypeFor(httpStatus);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.isRetryable = options.isRetryable ?? false;
    this.headers = options.headers ?? {};
  }

  toBody(): { error: OpenAIErrorBody } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/**
 * A key over its `max_budget`: LiteLLM's answer (status 400, type `budget_exceeded`, code "400",
 * "Budget has been exceeded! Current cost: X, Max budget: Y"), in OpenAI's envelope.
 */
export class BudgetExceededError extends GatewayError {
  /** `message`: LiteLLM words a user's, team's or model's budget differently from a key's. */
  constructor(spend: number, maxBudget: number, message = `Budget has been exceeded! Current cost: ${spend}, Max budget: ${maxBudget}`) {
    super(400, message, { type: 'budget_exceeded', code: '400' });
  }
}

/** 400: the client sent something we cannot accept. */
export class InvalidRequestError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(400, message, options);
  }
}

/** 401: no key, or a key we do not know. */
export class AuthenticationError extends GatewayError {
  constructor(message = 'Incorrect API key provided.', options: GatewayErrorOptions = {}) {
    super(401, message, { code: 'invalid_api_key', ...options });
  }
}

/** 403: a known key that may not do this (model not in its allowlist, admin route). */
export class PermissionDeniedError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(403, message, options);
  }
}

/** 404: missing, or owned by someone else: the two must be indistinguishable. */
export class NotFoundError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(404, message, options);
  }
}

/** 409: the object is in a state that forbids the operation (cancel a completed batch). */
export class ConflictError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(409, message, options);
  }
}

/** 413: body over a configured limit. */
export class PayloadTooLargeError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(413, message, options);
  }
}

/** 429: a Portico rate limit (not an upstream one: those are UpstreamError). */
export class RateLimitError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(429, message, { isRetryable: true, code: 'rate_limit_exceeded', ...options });
  }
}

/**
 * An upstream answered with an error, already translated to OpenAI's envelope by the provider
 * that called it. Status is kept so the client sees what the upstream said.
 */
export class UpstreamError extends GatewayError {
  readonly deploymentId: string | undefined;
  constructor(httpStatus: number, body: OpenAIErrorBody, options: GatewayErrorOptions & { deploymentId?: string } = {}) {
    super(httpStatus, body.message, {
      type: body.type,
      param: body.param,
      code: body.code,
      isRetryable: options.isRetryable ?? isRetryableStatus(httpStatus),
      ...options,
    });
    this.deploymentId = options.deploymentId;
  }
}

/** The upstream could not be reached, or its connection broke. */
export class UpstreamConnectionError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(502, message, { type: 'api_error', code: 'upstream_connection_error', isRetryable: true, ...options });
  }
}

/**
 * Portico could not authorise a request to a deployment's upstream with the deployment's own
 * credentials: an OAuth2 token refresh or an assumed role was refused (`refused`: 401, not
 * retryable: the configured credentials are wrong or revoked), or the credential service could
 * not be reached or failed (503, retryable). Never the client's key: the message says so.
 */
export class UpstreamCredentialsError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions & { refused: boolean }) {
    const { refused, ...rest } = options;
    super(
      refused ? 401 : 503,
      message,
      refused
        ? { type: 'authentication_error', code: 'upstream_credentials_refused', isRetryable: false, ...rest }
        : { type: 'api_error', code: 'upstream_credentials_unavailable', isRetryable: true, ...rest },
    );
  }
}

/** The upstream did not answer within the per-request timeout. */
export class UpstreamTimeoutError extends GatewayError {
  constructor(message = 'The upstream request timed out.', options: GatewayErrorOptions = {}) {
    super(504, message, { type: 'timeout_error', code: 'timeout', isRetryable: true, ...options });
  }
}

/** A provider that does not offer a capability (e.g. files on mock/). */
export class CapabilityUnsupportedError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(400, message, { code: 'unsupported_operation', ...options });
  }
}

/**
 * 503: the database does not answer (down, restarting, unreachable). Nothing the client did:
 * the same request may succeed once it is back.
 */
export class DatabaseUnavailableError extends GatewayError {
  constructor(message = 'The database is not reachable; retry the request shortly.', options: GatewayErrorOptions = {}) {
    super(503, message, { type: 'server_error', code: 'database_unavailable', isRetryable: true, ...options });
  }
}

/**
 * 503: the object store holding file bytes (S3, Azure Blob Storage) failed the operation: not
 * reachable, a 5xx, throttling, credentials refused. Nothing the client did: the same request may
 * succeed once the store answers again. The store's own error is the cause, for the log.
 * Not retryable within the request: thrown under a provider call (reading the file it sends), it
 * is not that deployment's failure, and another deployment would meet the same store.
 */
export class BlobStoreUnavailableError extends GatewayError {
  constructor(message = 'The file store is not reachable; retry the request shortly.', options: GatewayErrorOptions = {}) {
    super(503, message, { type: 'server_error', code: 'blob_store_unavailable', isRetryable: false, ...options });
  }
}

/**
 * 507: no room left to store what the client sent (the blob store's volume is full). Nothing is
 * kept of the attempt; the same request may succeed once space is freed.
 */
export class InsufficientStorageError extends GatewayError {
  constructor(message = 'There is no space left to store the file; retry later.', options: GatewayErrorOptions = {}) {
    super(507, message, { type: 'server_error', code: 'insufficient_storage', isRetryable: true, ...options });
  }
}

/**
 * 503: starting a batch at the provider failed in a way that leaves open whether the provider
 * created it (a timeout, a dropped connection, a 5xx) and Portico could not find out yet. Never
 * retried (one request starts at most one provider batch); the batch is settled in the
 * background: adopted if the provider did create it, else marked failed.
 */
export class BatchStartUnconfirmedError extends GatewayError {
  constructor(
    message = 'The provider did not confirm that the batch started; Portico settles it in the background. List your batches before trying again.',
    options: GatewayErrorOptions = {},
  ) {
    super(503, message, { type: 'server_error', code: 'batch_start_unconfirmed', isRetryable: false, ...options });
  }
}

/**
 * 503: one of several workers without Redis could not reach the primary process, which holds the
 * workers' shared rate limits and cooldowns (`coordination/cluster-shared-state.ts`): it did not
 * answer in time, or it is gone. The worker fails closed rather than let a request through
 * unlimited; the same request may succeed on the replacement worker. Not retryable within the
 * request: every deployment would meet the same primary.
 */
export class PrimaryProcessUnavailableError extends GatewayError {
  constructor(message = 'This worker cannot reach the primary process that holds the shared rate limits; retry the request shortly.', options: GatewayErrorOptions = {}) {
    super(503, message, { type: 'server_error', code: 'primary_process_unavailable', isRetryable: false, ...options });
  }
}

/** Raised at start-up for a bad config; never rendered to HTTP. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function defaultTypeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
