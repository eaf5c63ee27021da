/**
 * One line of an emulated batch: which client method runs it, and its result in OpenAI's
 * `BatchRequestOutput` shape (WIRE.md §1.2 "Output and error files"):
 * - success: `{id, custom_id, response: {status_code, request_id, body}, error: null}` (output file);
 * - an HTTP error from the endpoint: the same shape with the error body (error file);
 * - never run: `response: null`, `error: {code: batch_cancelled | batch_expired, message}`.
 */
import { CapabilityUnsupportedError, GatewayError } from '../../../spec/errors.ts';
import type { BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse } from '../../../spec/provider.ts';
import { newBatchRequestId } from '../../ids.ts';
import { addLineUsage, emptyUsage } from '../result-lines.ts';

export type LineCall = (client: ProviderClient, body: Record<string, unknown>, call: CallOptions) => Promise<UpstreamJsonResponse>;

function unsupported(client: ProviderClient, endpoint: string): never {
  throw new CapabilityUnsupportedError(`The deployment \`${client.deployment.id}\` of model \`${client.deployment.modelGroup}\` does not support ${endpoint}.`, {
    param: 'url',
  });
}

/** The batch endpoints Portico's engine can run, by the line's `url`. */
const LINE_CALLS: Readonly<Record<string, LineCall>> = Object.freeze({
  '/v1/chat/completions': (client, body, call) => client.chatCompletions(body, call),
  '/v1/embeddings': (client, body, call) => (client.embeddings ? client.embeddings(body, call) : unsupported(client, '/v1/embeddings')),
  '/v1/responses': (client, body, call) => (client.responses ? client.responses(body, call) : unsupported(client, '/v1/responses')),
});

/**
 * How to run a line sent to `url`. Endpoints without a client method (`/v1/completions`: no
 * provider client offers legacy completions) fail the line with a 400, like an upstream would.
 */
export function lineCallFor(url: string): LineCall {
  return LINE_CALLS[url] ?? ((client) => unsupported(client, url));
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
