/**
 * OpenAI's `/v1/moderations` and `/v1/images/generations` as the simulator answers them, shapes
 * from OpenAI's OpenAPI description (`CreateModerationResponse`, `ImagesResponse`, `Image` in
 * https://github.com/openai/openai-openapi; API reference at
 * https://platform.openai.com/docs/api-reference/moderations and .../images): a fake classifier that flags `violence`
 * when a text says "attack", and a 1x1 PNG for every image. Both are batchable, as at OpenAI.
 */
import { randomHex, nowSeconds } from '../common/ids.ts';
import { countTokens } from '../common/fake-model.ts';
import { badRequest, checkModelAndMarker } from './chat.ts';
import type { InferenceContext, InferenceResult } from './chat.ts';

type Json = Record<string, unknown>;

const CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

/** A 1x1 transparent PNG. */
const PIXEL_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Each input the way the classifier sees it: a text, or an image. */
function moderationInputs(input: unknown): Array<{ kind: 'text' | 'image'; text: string }> | null {
  if (typeof input === 'string') return [{ kind: 'text', text: input }];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((item) => typeof item === 'string')) return input.map((text: string) => ({ kind: 'text', text }));
  const parts: Array<{ kind: 'text' | 'image'; text: string }> = [];
  for (const item of input as Json[]) {
    if (item?.type === 'text' && typeof item.text === 'string') parts.push({ kind: 'text', text: item.text });
    else if (item?.type === 'image_url' && typeof (item.image_url as Json | undefined)?.url === 'string') parts.push({ kind: 'image', text: '' });
    else return null;
  }
  return parts;
}

export function moderations(body: Json, ctx: InferenceContext): InferenceResult {
  const model = typeof body.model === 'string' && body.model !== '' ? body.model : 'omni-moderation-latest';
  const inputs = moderationInputs(body.input);
  if (inputs === null) return badRequest("Invalid value for 'input': expected a string, an array of strings, or an array of text and image_url objects.", 'input', 'invalid_value');
  const refused = checkModelAndMarker({ ...body, model }, ctx, inputs.map((input) => input.text).join(' '));
  if (refused) return refused;
  // A multi-modal input is classified as one; a list of strings gives one result per string.
  const multiModal = inputs.some((input) => input.kind === 'image') || (Array.isArray(body.input) && typeof body.input[0] !== 'string');
  const groups = multiModal ? [inputs] : inputs.map((input) => [input]);
  return {
    status: 200,
    body: {
      id: `modr-${randomHex(24)}`,
      model: model === 'omni-moderation-latest' ? 'omni-moderation-2024-09-26' : model,
      results: groups.map((group) => {
        const violent = group.some((input) => /\battack\b/i.test(input.text));
        const types = [...new Set(group.map((input) => input.kind))];
        return {
          flagged: violent,
          categories: Object.fromEntries(CATEGORIES.map((category) => [category, violent && category === 'violence'])),
          category_scores: Object.fromEntries(CATEGORIES.map((category) => [category, violent && category === 'violence' ? 0.93 : 0.0001])),
          category_applied_input_types: Object.fromEntries(CATEGORIES.map((category) => [category, types])),
        };
      }),
    },
  };
}

export function imageGenerations(body: Json, ctx: InferenceContext): InferenceResult {
  if (typeof body.prompt !== 'string' || body.prompt === '') return badRequest("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  const model = typeof body.model === 'string' && body.model !== '' ? body.model : 'dall-e-2';
  const refused = checkModelAndMarker({ ...body, model }, ctx, body.prompt);
  if (refused) return refused;
  const n = body.n === undefined || body.n === null ? 1 : body.n;
  const maxN = model === 'dall-e-3' ? 1 : 10;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > maxN) {
    return badRequest(`Invalid 'n': integer between 1 and ${maxN} expected for ${model}.`, 'n', 'invalid_value');
  }
  const tokenBilled = model.startsWith('gpt-image');
  if (tokenBilled && body.response_format !== undefined && body.response_format !== null) {
    return badRequest(`Unknown parameter: 'response_format'.`, 'response_format', 'unknown_parameter');
  }
  const asUrl = !tokenBilled && body.response_format !== 'b64_json';
  const data = Array.from({ length: n }, (_, index) =>
    asUrl
      ? { url: `https://images.simulator.invalid/${randomHex(16)}-${index}.png`, ...(model === 'dall-e-3' && { revised_prompt: body.prompt }) }
      : { b64_json: PIXEL_PNG_BASE64, ...(model === 'dall-e-3' && { revised_prompt: body.prompt }) },
  );
  const textTokens = countTokens(body.prompt);
  const imageTokens = 272 * n;
  return {
    status: 200,
    body: {
      created: nowSeconds(),
      data,
      ...(tokenBilled && {
        usage: { total_tokens: textTokens + imageTokens, input_tokens: textTokens, output_tokens: imageTokens, input_tokens_details: { text_tokens: textTokens, image_tokens: 0 } },
      }),
    },
  };
}
