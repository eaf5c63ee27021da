/**
 * The models Portico knows by name: a trimmed subset of LiteLLM's
 * `model_prices_and_context_window.json` (MIT, https://github.com/BerriAI/litellm, at commit
 * 00035b69f416be24e2e323c13198d9b7d2d1bdf9), common OpenAI and Anthropic chat, embedding, image,
 * audio and moderation models. Prices are USD per token; `*Batches` are the batch API's prices
 * where LiteLLM lists them (elsewhere batch cost takes half the normal price, batch-cost.ts).
 * Transcribed by hand (see CATALOGUE_SOURCE): the gpt-3.5, gpt-4, gpt-4-turbo, gpt-4.1, gpt-4o,
 * gpt-4o-mini, babbage-002 and gpt-3.5-turbo-instruct entries were checked against the file at
 * that commit; update from that file, never from memory, and move the commit and date with it.
 */
export type CatalogueMode = 'chat' | 'completion' | 'embedding' | 'image_generation' | 'audio_transcription' | 'audio_speech' | 'moderation';

export interface CatalogueEntry {
  /** The provider LiteLLM infers for the bare name (`litellm_provider`), a registry name. */
  readonly provider: 'openai' | 'text-completion-openai' | 'anthropic';
  readonly mode: CatalogueMode;
  readonly maxInputTokens?: number;
  readonly maxOutputTokens?: number;
  readonly inputCostPerToken?: number;
  readonly outputCostPerToken?: number;
  readonly inputCostPerTokenBatches?: number;
  readonly outputCostPerTokenBatches?: number;
  readonly supports?: readonly ('function_calling' | 'vision' | 'response_schema' | 'prompt_caching' | 'reasoning' | 'pdf_input')[];
}

export const CATALOGUE_SOURCE = Object.freeze({
  file: 'model_prices_and_context_window.json',
  repository: 'https://github.com/BerriAI/litellm',
  commit: '00035b69f416be24e2e323c13198d9b7d2d1bdf9',
  license: 'MIT',
  transcribed: '2026-12-04',
});

const TOOLS_VISION = ['function_calling', 'vision', 'response_schema', 'prompt_caching'] as const;
const REASONING = ['function_calling', 'vision', 'response_schema', 'prompt_caching', 'reasoning'] as const;
const CLAUDE = ['function_calling', 'vision', 'prompt_caching', 'pdf_input'] as const;

function chat(inputCost: number, outputCost: number, maxInput: number, maxOutput: number, supports: CatalogueEntry['supports'], batches = false): CatalogueEntry {
  return {
    provider: 'openai',
    mode: 'chat',
    maxInputTokens: maxInput,
    maxOutputTokens: maxOutput,
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    ...(batches && { inputCostPerTokenBatches: inputCost / 2, outputCostPerTokenBatches: outputCost / 2 }),
    ...(supports && { supports }),
  };
}

function claude(inputCost: number, outputCost: number, maxOutput: number, supports: CatalogueEntry['supports'] = CLAUDE): CatalogueEntry {
  return {
    provider: 'anthropic',
    mode: 'chat',
    maxInputTokens: 200_000,
    maxOutputTokens: maxOutput,
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    supports,
  };
}

function embedding(inputCost: number, maxInput: number): CatalogueEntry {
  return { provider: 'openai', mode: 'embedding', maxInputTokens: maxInput, inputCostPerToken: inputCost, outputCostPerToken: 0, inputCostPerTokenBatches: inputCost / 2, outputCostPerTokenBatches: 0 };
}

function other(mode: CatalogueMode): CatalogueEntry {
  return { provider: 'openai', mode };
}

export const CATALOGUE_ENTRIES: Readonly<Record<string, CatalogueEntry>> = {
  // OpenAI chat
  'gpt-5': chat(1.25e-6, 1e-5, 272_000, 128_000, REASONING),
  'gpt-5-mini': chat(2.5e-7, 2e-6, 272_000, 128_000, REASONING),
  'gpt-5-nano': chat(5e-8, 4e-7, 272_000, 128_000, REASONING),
  'gpt-4.1': chat(2e-6, 8e-6, 1_047_576, 32_768, TOOLS_VISION, true),
  'gpt-4.1-2025-04-14': chat(2e-6, 8e-6, 1_047_576, 32_768, TOOLS_VISION, true),
  'gpt-4.1-mini': chat(4e-7, 1.6e-6, 1_047_576, 32_768, TOOLS_VISION, true),
  'gpt-4.1-nano': chat(1e-7, 4e-7, 1_047_576, 32_768, TOOLS_VISION, true),
  'gpt-4o': chat(2.5e-6, 1e-5, 128_000, 16_384, TOOLS_VISION, true),
  'gpt-4o-2024-11-20': chat(2.5e-6, 1e-5, 128_000, 16_384, TOOLS_VISION, true),
  'gpt-4o-2024-08-06': chat(2.5e-6, 1e-5, 128_000, 16_384, TOOLS_VISION, true),
  'gpt-4o-2024-05-13': chat(5e-6, 1.5e-5, 128_000, 4_096, TOOLS_VISION, true),
  'gpt-4o-mini': chat(1.5e-7, 6e-7, 128_000, 16_384, TOOLS_VISION, true),
  'gpt-4o-mini-2024-07-18': chat(1.5e-7, 6e-7, 128_000, 16_384, TOOLS_VISION, true),
  'chatgpt-4o-latest': chat(5e-6, 1.5e-5, 128_000, 4_096, ['function_calling', 'vision']),
  'gpt-4-turbo': chat(1e-5, 3e-5, 128_000, 4_096, ['function_calling', 'vision']),
  'gpt-4-turbo-preview': chat(1e-5, 3e-5, 128_000, 4_096, ['function_calling']),
  'gpt-4-1106-preview': chat(1e-5, 3e-5, 128_000, 4_096, ['function_calling']),
  'gpt-4-0125-preview': chat(1e-5, 3e-5, 128_000, 4_096, ['function_calling']),
  'gpt-4': chat(3e-5, 6e-5, 8_192, 4_096, ['function_calling']),
  'gpt-4-0613': chat(3e-5, 6e-5, 8_192, 4_096, ['function_calling']),
  'gpt-4-32k': chat(6e-5, 1.2e-4, 32_768, 4_096, undefined),
  'gpt-3.5-turbo': chat(5e-7, 1.5e-6, 16_385, 4_096, ['function_calling']),
  'gpt-3.5-turbo-0125': chat(5e-7, 1.5e-6, 16_385, 4_096, ['function_calling']),
  'gpt-3.5-turbo-1106': chat(1e-6, 2e-6, 16_385, 4_096, ['function_calling']),
  'gpt-3.5-turbo-16k': chat(3e-6, 4e-6, 16_385, 4_096, undefined),
  o1: chat(1.5e-5, 6e-5, 200_000, 100_000, REASONING),
  'o1-mini': chat(1.1e-6, 4.4e-6, 128_000, 65_536, ['reasoning']),
  'o1-preview': chat(1.5e-5, 6e-5, 128_000, 32_768, ['reasoning']),
  o3: chat(2e-6, 8e-6, 200_000, 100_000, REASONING),
  'o3-mini': chat(1.1e-6, 4.4e-6, 200_000, 100_000, ['function_calling', 'response_schema', 'prompt_caching', 'reasoning']),
  'o4-mini': chat(1.1e-6, 4.4e-6, 200_000, 100_000, REASONING),
  // OpenAI completion (LiteLLM: text-completion-openai)
  'gpt-3.5-turbo-instruct': { provider: 'text-completion-openai', mode: 'completion', maxInputTokens: 8_192, maxOutputTokens: 4_096, inputCostPerToken: 1.5e-6, outputCostPerToken: 2e-6 },
  'babbage-002': { provider: 'text-completion-openai', mode: 'completion', maxInputTokens: 16_384, maxOutputTokens: 4_096, inputCostPerToken: 4e-7, outputCostPerToken: 4e-7 },
  'davinci-002': { provider: 'text-completion-openai', mode: 'completion', maxInputTokens: 16_384, maxOutputTokens: 4_096, inputCostPerToken: 2e-6, outputCostPerToken: 2e-6 },
  // OpenAI embeddings
  'text-embedding-3-small': embedding(2e-8, 8_191),
  'text-embedding-3-large': embedding(1.3e-7, 8_191),
  'text-embedding-ada-002': embedding(1e-7, 8_191),
  // OpenAI images, audio, moderation (priced per image / second / character: no token prices here)
  'dall-e-2': other('image_generation'),
  'dall-e-3': other('image_generation'),
  'gpt-image-1': other('image_generation'),
  'whisper-1': other('audio_transcription'),
  'gpt-4o-transcribe': other('audio_transcription'),
  'gpt-4o-mini-transcribe': other('audio_transcription'),
  'tts-1': other('audio_speech'),
  'tts-1-hd': other('audio_speech'),
  'gpt-4o-mini-tts': other('audio_speech'),
  'omni-moderation-latest': other('moderation'),
  'text-moderation-latest': other('moderation'),
  'text-moderation-stable': other('moderation'),
  // Anthropic
  'claude-opus-4-5-20251101': claude(5e-6, 2.5e-5, 64_000),
  'claude-opus-4-1-20250805': claude(1.5e-5, 7.5e-5, 32_000),
  'claude-opus-4-20250514': claude(1.5e-5, 7.5e-5, 32_000),
  'claude-sonnet-4-5-20250929': claude(3e-6, 1.5e-5, 64_000),
  'claude-sonnet-4-20250514': claude(3e-6, 1.5e-5, 64_000),
  'claude-haiku-4-5-20251001': claude(1e-6, 5e-6, 64_000),
  'claude-3-7-sonnet-20250219': claude(3e-6, 1.5e-5, 128_000),
  'claude-3-7-sonnet-latest': claude(3e-6, 1.5e-5, 128_000),
  'claude-3-5-sonnet-20241022': claude(3e-6, 1.5e-5, 8_192),
  'claude-3-5-sonnet-20240620': claude(3e-6, 1.5e-5, 8_192),
  'claude-3-5-sonnet-latest': claude(3e-6, 1.5e-5, 8_192),
  'claude-3-5-haiku-20241022': claude(8e-7, 4e-6, 8_192),
  'claude-3-5-haiku-latest': claude(8e-7, 4e-6, 8_192),
  'claude-3-opus-20240229': claude(1.5e-5, 7.5e-5, 4_096),
  'claude-3-opus-latest': claude(1.5e-5, 7.5e-5, 4_096),
  'claude-3-sonnet-20240229': claude(3e-6, 1.5e-5, 4_096),
  'claude-3-haiku-20240307': claude(2.5e-7, 1.25e-6, 4_096),
};
