/**
 * What Cohere's `/v2/embed` answers (https://docs.cohere.com/reference/embed, `EmbedByTypeResponse`):
 * one vector per text for each asked embedding type (default float), of the model's size
 * (`embed-english-v3.0` 1024, `*-light-*` 384, `embed-v4.0` 1536 or its `output_dimension`:
 * 256, 512, 1024 or 1536), and the billed input tokens in `meta`. Vectors come from the fake
 * model (equal texts embed equally). The body must be valid (`validate.ts`).
 */
import { uuid } from '../common/ids.ts';
import { countTokens, embeddingVector, requestedFailureStatus } from '../common/fake-model.ts';
import type { Refusal } from './validate.ts';
import type { ChatOutcomeError } from './chat.ts';

type Json = Record<string, unknown>;

/** Embed v4's choice of sizes ("output_dimension ... Possible values are 256, 512, 1024, and 1536"). */
const V4_DIMENSIONS = new Set([256, 512, 1024, 1536]);

function dimensionsOf(body: Json): number | Refusal {
  const model = String(body.model);
  const asked = body.output_dimension;
  if (/^embed-v4/.test(model)) {
    if (asked === undefined || asked === null) return 1536;
    return typeof asked === 'number' && V4_DIMENSIONS.has(asked) ? asked : { status: 400, message: 'invalid request: output_dimension must be one of 256, 512, 1024, 1536' };
  }
  if (asked !== undefined && asked !== null) return { status: 400, message: `invalid request: output_dimension is not supported for model '${model}'` };
  return /light/.test(model) ? 384 : 1024;
}

export function embed(body: Json): { response: Json } | { error: ChatOutcomeError } {
  const texts = body.texts as string[];
  for (const text of texts) {
    const failStatus = requestedFailureStatus(text);
    if (failStatus !== null) return { error: { status: failStatus } };
  }
  const dimensions = dimensionsOf(body);
  if (typeof dimensions !== 'number') return { error: dimensions };
  const types = (body.embedding_types as string[] | undefined) ?? ['float'];
  const embeddings: Json = {};
  for (const type of types) {
    // The simulator answers float vectors for every asked type; Portico asks for float only.
    embeddings[type] = texts.map((text) => embeddingVector(text, dimensions));
  }
  return {
    response: {
      id: uuid(),
      texts,
      embeddings,
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: texts.reduce((n, text) => n + countTokens(text), 0) } },
      response_type: 'embeddings_by_type',
    },
  };
}
