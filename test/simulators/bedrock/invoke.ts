/**
 * Bedrock's InvokeModel with each model's native body (docs/specs/bedrock.md §Embeddings,
 * §Claude on InvokeModel): Amazon Titan text embeddings (`{inputText, dimensions?, normalize?}` ->
 * `{embedding, inputTextTokenCount}`; v2 takes 256, 512 or 1024 dimensions, default 1024; v1 1536),
 * Cohere embed v3 (`{texts (1-96), input_type, truncate?, embedding_types?}` -> `{id, embeddings,
 * response_type, texts}`), and Claude's Messages body (`anthropic_version: "bedrock-2023-05-31"`,
 * no `model`), answered by the Anthropic simulator's model. Unknown keys are refused as Bedrock
 * refuses them: `Malformed input request: extraneous key [x] is not permitted`.
 */
import { randomUUID } from 'node:crypto';
import { countTokens, embeddingVector, requestedFailureStatus } from '../common/fake-model.ts';
import { createMessage, type MessageContext } from '../anthropic/messages.ts';
import { validateMessageParams } from '../anthropic/validate-params.ts';
import { baseModelOf, isRecord, type ConverseFailure } from './converse.ts';
import { errorTypeForStatus } from './errors.ts';

type Json = Record<string, unknown>;

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';
const COHERE_INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);

export type InvokeOutcome = { body: Json; inputTokens: number; outputTokens: number } | { failure: ConverseFailure };

const malformed = (message: string): { failure: ConverseFailure } => ({ failure: { type: 'ValidationException', message: `Malformed input request: ${message}, please reformat your input and try again.` } });

export function invokeModel(modelId: string, body: Json, claude: MessageContext): InvokeOutcome {
  const model = baseModelOf(modelId);
  if (model === 'amazon.titan-embed-text-v2:0' || model === 'amazon.titan-embed-text-v1') return titan(model, body);
  if (model === 'cohere.embed-english-v3' || model === 'cohere.embed-multilingual-v3') return cohere(body);
  if (model.startsWith('anthropic.claude-')) return claudeInvoke(modelId, body, claude);
  return { failure: { type: 'ValidationException', message: 'The provided model identifier is invalid.' } };
}

function titan(model: string, body: Json): InvokeOutcome {
  const allowed = model.endsWith('v2:0') ? ['inputText', 'dimensions', 'normalize', 'embeddingTypes'] : ['inputText'];
  for (const key of Object.keys(body)) if (!allowed.includes(key)) return malformed(`extraneous key [${key}] is not permitted`);
  if (typeof body.inputText !== 'string' || body.inputText === '') return malformed('#: required key [inputText] not found');
  const failStatus = requestedFailureStatus(body.inputText);
  if (failStatus !== null) return { failure: { type: errorTypeForStatus(failStatus), message: 'The simulator was asked to fail this request.', status: failStatus } };
  const dimensions = body.dimensions ?? (model.endsWith('v2:0') ? 1024 : 1536);
  if (model.endsWith('v2:0') && ![256, 512, 1024].includes(dimensions as number)) return malformed('#/dimensions: 256, 512 or 1024 expected');
  const tokens = countTokens(body.inputText);
  return { body: { embedding: embeddingVector(body.inputText, dimensions as number), inputTextTokenCount: tokens }, inputTokens: tokens, outputTokens: 0 };
}

function cohere(body: Json): InvokeOutcome {
  for (const key of Object.keys(body)) if (!['texts', 'input_type', 'truncate', 'embedding_types', 'images'].includes(key)) return malformed(`extraneous key [${key}] is not permitted`);
  const texts = body.texts;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > 96 || !texts.every((t) => typeof t === 'string')) return malformed('#/texts: expected between 1 and 96 strings');
  if (typeof body.input_type !== 'string' || !COHERE_INPUT_TYPES.has(body.input_type)) return malformed('#: required key [input_type] not found or not one of search_document, search_query, classification, clustering');
  const tokens = (texts as string[]).reduce((n, t) => n + countTokens(t), 0);
  const vectors = (texts as string[]).map((t) => embeddingVector(t, 1024));
  const byType = Array.isArray(body.embedding_types);
  return { body: { id: randomUUID(), embeddings: byType ? { float: vectors } : vectors, response_type: byType ? 'embeddings_by_type' : 'embeddings_floats', texts }, inputTokens: tokens, outputTokens: 0 };
}

export function claudeInvoke(modelId: string, body: Json, ctx: MessageContext): InvokeOutcome {
  if (body.anthropic_version !== BEDROCK_ANTHROPIC_VERSION) return malformed('#: required key [anthropic_version] not found or not bedrock-2023-05-31');
  if ('model' in body) return malformed('#: extraneous key [model] is not permitted');
  if ('metadata' in body) return malformed('#: extraneous key [metadata] is not permitted');
  // Bedrock takes Anthropic's beta features in the body (`anthropic_beta`, a list of names) instead of a header.
  if ('anthropic_beta' in body && !(Array.isArray(body.anthropic_beta) && body.anthropic_beta.every((beta) => typeof beta === 'string'))) {
    return malformed('#/anthropic_beta: expected type: JSONArray of strings');
  }
  const { anthropic_version: _version, anthropic_beta: _betas, ...params } = body;
  const request = { ...params, model: modelId };
  const invalid = validateMessageParams(request, { batch: false });
  if (invalid) return malformed(invalid.message);
  const outcome = createMessage(request, ctx);
  if ('error' in outcome) return { failure: { type: errorTypeForStatus(outcome.error.status), message: outcome.error.message || 'The model failed.', status: outcome.error.status } };
  const usage = isRecord(outcome.message.usage) ? outcome.message.usage : {};
  return { body: outcome.message, inputTokens: Number(usage.input_tokens ?? 0), outputTokens: Number(usage.output_tokens ?? 0) };
}
