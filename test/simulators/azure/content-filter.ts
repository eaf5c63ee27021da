/**
 * Azure OpenAI's content-safety annotations on chat answers: `content_filter_results` on each
 * choice and `prompt_filter_results` for the prompt (WIRE.md §2.5; Azure "content filtering"
 * docs). A streamed answer starts with a chunk that has empty `choices` and only the prompt results.
 */
import type { InferenceDecoration } from '../openai/inference-replies.ts';

type Json = Record<string, unknown>;

const safe = () => ({ filtered: false, severity: 'safe' });

export function completionFilterResults(): Json {
  return { hate: safe(), self_harm: safe(), sexual: safe(), violence: safe() };
}

export function promptFilterResults(): Json[] {
  return [
    {
      prompt_index: 0,
      content_filter_results: { hate: safe(), jailbreak: { filtered: false, detected: false }, self_harm: safe(), sexual: safe(), violence: safe() },
    },
  ];
}

export const azureContentFilters: InferenceDecoration = {
  completion(body) {
    const choices = (body.choices as Json[]).map((c) => ({ content_filter_results: completionFilterResults(), ...c }));
    const { service_tier: _tier, ...rest } = body;
    return { ...rest, choices, prompt_filter_results: promptFilterResults() };
  },
  chunks(chunks) {
    const first: Json = { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: promptFilterResults() };
    const annotated = chunks.map((chunk) => {
      const { service_tier: _tier, ...rest } = chunk;
      const choices = (chunk.choices as Json[]).map((c) => {
        const delta = (c.delta ?? {}) as Json;
        // Azure annotates content-bearing chunks; the role chunk and the finish chunk carry an empty object.
        return { ...c, content_filter_results: typeof delta.content === 'string' && delta.content !== '' ? completionFilterResults() : {} };
      });
      return { ...rest, choices };
    });
    return [first, ...annotated];
  },
};
