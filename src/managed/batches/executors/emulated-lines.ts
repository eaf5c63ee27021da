/**
 * One line of an emulated batch: which client method runs it, and its result in OpenAI's
 * `BatchRequestOutput` shape (WIRE.md §1.2 "Output and error files"):
 * - success: `{id, custom_id, response: {status_code, request_id, body}, error: null}` (output file);
 * - an HTTP error from the endpoint: the same shape with the error body (error file);
 * - never run: `response: null`, `error: {code: batch_cancelled | batch_expired, message}`.
 */
import { endpointOf, unsupportedEndpoint } from '../../../spec/endpoints.ts';
import { GatewayError } from '../../../spec/errors.ts';
import { upstreamBodyOf } from '../../../spec/gateway-request-fields.ts';
import type { BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse } from '../../../spec/provider.ts';
import { newBatchRequestId } from '../../ids.ts';
import { addLineUsage, emptyUsage } from '../result-lines.ts';

export type LineCall = (client: ProviderClient, body: Record<string, unknown>, call: CallOptions) => Promise<UpstreamJsonResponse>;

/**
 * How to run a line sent to `url`: the client method of its entry in `spec/endpoints.ts`, the
 * line's body less the gateway's fields (`spec/gateway-request-fields.ts`). A client
 * without that method (`/v1/completions`: no provider client offers legacy completions) fails the
 * line with a 400, like an upstream would.
 */
export function lineCallFor(url: string): LineCall {
  const endpoint = endpointOf(url);
  // A line goes upstream as a live request would: without LiteLLM's own fields (its metadata, tags, ...).
  const path = endpoint?.path ?? url;
  return (client, body, call) => endpoint?.call(client, upstreamBodyOf(path, body), call) ?? unsupportedEndpoint(client, url, { param: 'url' });
}

export const BATCH_CANCELLED_MESSAGE = 'This request was cancelled before it could be executed.';
export const BATCH_EXPIRED_MESSAGE = 'This request could not be executed before the completion window expired.';

export function succeededLine(customId: string, answer: UpstreamJsonResponse, requestId: string): BatchOutputLine {
  return {
    id: newBatchRequestId(),
    custom_id: customId,
    response: { status_code: answer.status, request_id: answer.upstreamRequestId ?? requestId, body: answer.body },
    error: null,
  };
}

/** A line the endpoint answered with an error (or that could not be sent): its status and OpenAI error body. */
export function httpErrorLine(customId: string, error: unknown, requestId: string): BatchOutputLine {
  const gatewayError =
    error instanceof GatewayError ? error : new GatewayError(500, 'The request failed inside the gateway.', { type: 'server_error', cause: error });
  return {
    id: newBatchRequestId(),
    custom_id: customId,
    response: { status_code: gatewayError.httpStatus, request_id: requestId, body: gatewayError.toBody() },
    error: null,
  };
}

export function cancelledLine(customId: string): BatchOutputLine {
  return { id: newBatchRequestId(), custom_id: customId, response: null, error: { code: 'batch_cancelled', message: BATCH_CANCELLED_MESSAGE } };
}

export function expiredLine(customId: string): BatchOutputLine {
  return { id: newBatchRequestId(), custom_id: customId, response: null, error: { code: 'batch_expired', message: BATCH_EXPIRED_MESSAGE } };
}

export interface LineTokens {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

/** Token usage of one output line (chat, embeddings and Responses usage shapes). */
export function tokensOfLine(line: BatchOutputLine): LineTokens {
  const usage = emptyUsage();
  addLineUsage(usage, line);
  return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, cachedTokens: usage.input_tokens_details.cached_tokens };
}
