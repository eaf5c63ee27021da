/**
 * A model invocation job's output (`<outputS3Uri>/<jobId>/<input name>.out`) -> `InlineBatchResult`s
 * keyed by Portico's surrogate ids (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html,
 * `docs/specs/bedrock.md` §Batch inference). Each line is `{recordId, modelInput, modelOutput}`,
 * or `{recordId, modelInput, error: {errorCode, errorMessage}}` for a record that failed;
 * `modelOutput` is a Converse response in a Converse job, Claude's Anthropic message in an
 * InvokeModel job.
 */
import type { UpstreamError } from '../../spec/errors.ts';
import type { InlineBatchResult } from '../../spec/provider.ts';
import { translateMessageToChatCompletion } from '../anthropic/chat-response.ts';
import type { AnthropicMessage } from '../anthropic/wire-types.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { sseLines } from '../http/sse.ts';
import { customIdOfRecord } from './batch-input.ts';
import { isConverseResponse, translateConverseResponse } from './converse-response.ts';
import { awsErrorToUpstreamError, errorTypeOfStatus, isRecord } from './errors.ts';

export interface OutputTranslation {
  created: number;
  model: string;
  jobId: string;
}

/** One output line -> a result; `null` for a line without a record id. */
export function translateOutputLine(line: Record<string, unknown>, options: OutputTranslation): InlineBatchResult | null {
  if (typeof line.recordId !== 'string') return null;
  const customId = customIdOfRecord(line.recordId);
  const requestId = `${options.jobId}-${line.recordId}`;
  if (isRecord(line.modelOutput) && line.error === undefined) {
    // A Converse job answers Converse responses; an InvokeModel job for Claude, Anthropic messages.
    const body = isConverseResponse(line.modelOutput)
      ? translateConverseResponse(line.modelOutput, { id: `chatcmpl-${requestId}`, created: options.created, model: options.model })
      : translateMessageToChatCompletion(line.modelOutput as unknown as AnthropicMessage, { created: options.created, fallbackModel: options.model });
    return { customId, outcome: { type: 'succeeded', statusCode: 200, requestId, body } };
  }
  const error = isRecord(line.error) ? line.error : {};
  const status = typeof error.errorCode === 'number' && error.errorCode >= 400 ? error.errorCode : 500;
  const upstream: UpstreamError = awsErrorToUpstreamError({
    httpStatus: status,
    errorType: errorTypeOfStatus(status),
    body: { message: typeof error.errorMessage === 'string' ? error.errorMessage : 'The record failed in the Bedrock batch job.' },
  });
  return { customId, outcome: { type: 'http_error', statusCode: upstream.httpStatus, requestId, body: upstream.toBody() } };
}

/** Streams one output file: one result per line, never more than one line held. */
export async function* parseOutputFile(body: AsyncIterable<Uint8Array>, options: OutputTranslation): AsyncGenerator<InlineBatchResult> {
  for await (const text of sseLines(body)) {
    if (text.trim() === '') continue;
    const result = translateOutputLine(parseLine(text), options);
    if (result !== null) yield result;
  }
}

function parseLine(text: string): Record<string, unknown> {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    throw malformed('a line that is not JSON');
  }
  if (!isRecord(line)) throw malformed('a line that is not an object');
  return line;
}

function malformed(what: string): UpstreamError {
  return badUpstreamResponse(`Bedrock's batch output contains ${what}.`, { isRetryable: false });
}
