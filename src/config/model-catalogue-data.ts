/**
 * The models Portico knows by name: a trimmed subset of LiteLLM's
 * `model_prices_and_context_window.json` (MIT, https://github.com/BerriAI/litellm, at commit
 * 00035b69f416be24e2e323c13198d9b7d2d1bdf9), common OpenAI and Anthropic chat, embedding, image,
 * audio and moderation models. Prices are USD per token; `*Batches` are the batch API's prices
 * where LiteLLM lists them (elsewhere batch cost takes half the normal price, batch-cost.ts).
 * `supports` lists the `supports_*` flags of those six that the file sets true. LiteLLM's cached
 * input prices (`cache_read_input_token_cost`) are not carried: nothing here prices cache reads.
 *
 * Transcribed by hand (see CATALOGUE_SOURCE), then checked field by field (provider, mode, max
 * input and output tokens, prices, batch prices, supports) against the file at that commit, on
 * 2026-12-04: every chat entry (gpt-3.5, gpt-4, gpt-4-turbo, gpt-4.1, gpt-4o, gpt-4o-mini,
 * chatgpt-4o-latest, gpt-5, o-series, Claude), the embedding entries, gpt-3.5-turbo-instruct, and
 * the provider and mode of gpt-image-1, gpt-4o-transcribe, gpt-4o-mini-transcribe, tts-1,
 * tts-1-hd, gpt-4o-mini-tts and text-moderation-*. That check dropped the names the file no
 * longer has (retired models: claude-3-5-sonnet-*, claude-3-5-haiku-*, claude-3-sonnet-20240229,
 * the claude-*-latest aliases, o1-mini, o1-preview, gpt-4-32k), gave claude-sonnet-4-20250514 its
 * 1,000,000-token input and claude-3-7-sonnet-20250219 its 64,000 output tokens, took the batch
 * prices off text-embedding-ada-002, and set the `supports` lists as the file has them (most had
 * lost prompt_caching and pdf_input; the Claude 3 models have no pdf_input).
 * On 2026-12-07 the audio entries (whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe, tts-1,
 * tts-1-hd, gpt-4o-mini-tts) were read from the file at that commit with their prices.
 * Not checked against the file: babbage-002 and davinci-002 (read in the first transcription
 * only), dall-e-2, dall-e-3 and omni-moderation-latest. Update from that file, never
 * from memory, and move the commit and date with it; model-catalogue.test.ts pins one entry per
 * family to the file.
 */
export type CatalogueMode = 'chat' | 'completion' | 'embedding' | 'rerank' | 'image_generation' | 'audio_transcription' | 'audio_speech' | 'moderation';

export interface CatalogueEntry {
  /** The provider LiteLLM infers for the bare name (`litellm_provider`), a registry name. */
  readonly provider: 'openai' | 'text-completion-openai' | 'anthropic' | 'gemini' | 'vertex_ai' | 'bedrock' | 'cohere' | 'cohere_chat';
  readonly mode: CatalogueMode;
  readonly maxInputTokens?: number;
  readonly maxOutputTokens?: number;
  readonly inputCostPerToken?: number;
  readonly outputCostPerToken?: number;
  readonly inputCostPerTokenBatches?: number;
  readonly outputCostPerTokenBatches?: number;
  /** LiteLLM's `cache_read_input_token_cost`; no entry carries it yet (see the note above). */
  readonly cacheReadInputTokenCost?: number;
  /** LiteLLM's `input_cost_per_query`: USD per search of a rerank model. */
  readonly inputCostPerQuery?: number;
  /** LiteLLM's `input_cost_per_second`: USD per second of audio transcribed (whisper-1). */
  readonly inputCostPerSecond?: number;
  /** LiteLLM's `input_cost_per_character`: USD per character spoken (tts-1). */
  readonly inputCostPerCharacter?: number;
  readonly supports?: readonly ('function_calling' | 'vision' | 'response_schema' | 'prompt_caching' | 'reasoning' | 'pdf_input')[];
}

/**
 * Name families by their usual provider. A family marked `placed` is its vendor's alone (a
 * `claude-` model is Anthropic's, an `anthropic.claude-...` id Bedrock's): a bare name of it that
 * the catalogue does not know yet (a model newer than the catalogue's commit) is placed on that
 * provider, as LiteLLM places it once its price list, which it fetches at start, has the name. The
 * other families only hint at the prefix to write (a `llama` is served by many). A new provider
 * adds its family here.
 */
export const MODEL_NAME_FAMILIES: ReadonlyArray<readonly [RegExp, string, 'placed' | 'hint']> = [
  // First: Bedrock's dotted model ids and inference profiles (`anthropic.claude-...`, `us.amazon.nova-...`, `mistral.mistral-large-...`).
  [/^((us|eu|apac|global)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer)\.[a-z0-9-]+/i, 'bedrock', 'placed'],
  [/^claude-/i, 'anthropic', 'placed'],
  // Not `gpt-oss-*`: OpenAI's open-weight models run on many servers.
  [/^(gpt-(?!oss)|chatgpt-|o\d(-|$)|text-embedding-|text-moderation-|omni-moderation-|dall-e-|whisper-|tts-|gpt-image-)/i, 'openai', 'placed'],
  [/^gemini-/i, 'gemini', 'placed'],
  // Cohere's Command R and Command A (`command-r-plus`, `command-a-03-2025`): LiteLLM's cohere_chat.
  [/^command-(r|a)(-|$)/i, 'cohere', 'placed'],
  [/^claude/i, 'anthropic', 'hint'],
  [/^(gpt-|chatgpt|o\d|text-embedding|text-moderation|omni-moderation|dall-e|whisper|tts-|davinci|babbage)/i, 'openai', 'hint'],
  [/^gemini/i, 'gemini', 'hint'],
  [/^(mistral|mixtral|codestral|open-mistral)/i, 'mistral', 'hint'],
  [/^command/i, 'cohere', 'hint'],
  [/^(llama|meta-llama)/i, 'hosted_vllm', 'hint'],
];

/**
 * A bare name the catalogue places on `from` runs on `to` when its entry sets `whenParam`.
 * LiteLLM places a bare Gemini name on Vertex AI (its price file lists `gemini-2.5-flash` as
 * `vertex_ai-language-models`); the catalogue places it on the Gemini API, where a key is all it
 * takes; an entry that names a Vertex project means Vertex, as in LiteLLM.
 */
export const BARE_NAME_PLACEMENTS: ReadonlyArray<{ readonly from: string; readonly to: string; readonly whenParam: string }> = [{ from: 'gemini', to: 'vertex_ai', whenParam: 'vertex_project' }];

export const CATALOGUE_SOURCE = Object.freeze({
  file: 'model_prices_and_context_window.json',
  repository: 'https://github.com/BerriAI/litellm',
  commit: '00035b69f416be24e2e323c13198d9b7d2d1bdf9',
  license: 'MIT',
  transcribed: '2026-12-04',
});

const TOOLS = ['function_calling', 'prompt_caching'] as const;
const TOOLS_VISION = ['function_calling', 'vision', 'response_schema', 'prompt_caching'] as const;
const TOOLS_VISION_PDF = [...TOOLS_VISION, 'pdf_input'] as const;
const REASONING = [...TOOLS_VISION_PDF, 'reasoning'] as const;

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

function claude(inputCost: number, outputCost: number, maxInput: number, maxOutput: number, supports: CatalogueEntry['supports']): CatalogueEntry {
  return {
    provider: 'anthropic',
    mode: 'chat',
    maxInputTokens: maxInput,
    maxOutputTokens: maxOutput,
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    supports,
  };
}

/**
 * A Gemini API model, priced from Google's pricing page (https://ai.google.dev/gemini-api/docs/pricing,
 * copied in docs/specs/gemini-api.md: paid tier, prompts up to 200k tokens), not from LiteLLM's file;
 * batch prices are Google's (half).
 */
function gemini(mode: 'chat' | 'embedding', inputCost: number, outputCost: number, batchInputCost: number, batchOutputCost: number, maxInput: number, maxOutput?: number): CatalogueEntry {
  return {
    provider: 'gemini',
    mode,
    maxInputTokens: maxInput,
    ...(maxOutput !== undefined && { maxOutputTokens: maxOutput }),
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    inputCostPerTokenBatches: batchInputCost,
    outputCostPerTokenBatches: batchOutputCost,
    ...(mode === 'chat' && { supports: ['function_calling', 'vision', 'response_schema', 'prompt_caching', 'pdf_input'] as const }),
  };
}

/**
 * A model on Vertex AI, keyed `vertex_ai/<model>` (a name Vertex shares with another provider is
 * priced by Vertex's list): Google's Vertex AI pricing page
 * (https://cloud.google.com/vertex-ai/generative-ai/pricing, copied in docs/specs/vertex-ai.md
 * §Pricing: prompts up to 200k tokens; batch prediction at half the online price), Claude at
 * Anthropic's list prices, which Vertex charges too. Batch prices are half.
 */
function vertex(mode: 'chat' | 'embedding', inputCost: number, outputCost: number, maxInput: number, maxOutput?: number, supports?: CatalogueEntry['supports']): CatalogueEntry {
  return {
    provider: 'vertex_ai',
    mode,
    maxInputTokens: maxInput,
    ...(maxOutput !== undefined && { maxOutputTokens: maxOutput }),
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    inputCostPerTokenBatches: inputCost / 2,
    outputCostPerTokenBatches: outputCost / 2,
    ...(supports && { supports }),
  };
}

/**
 * A model on Amazon Bedrock, keyed `bedrock/<model id>` (an inference profile `us.<id>` costs what
 * its model costs in the source region): AWS's Bedrock pricing page
 * (https://aws.amazon.com/bedrock/pricing/, US East (N. Virginia), on-demand; copied in
 * docs/specs/bedrock.md §Pricing). Batch inference is half the on-demand price for the models
 * that offer it.
 */
function bedrock(mode: 'chat' | 'embedding', inputCost: number, outputCost: number, maxInput: number, maxOutput?: number, supports?: CatalogueEntry['supports']): CatalogueEntry {
  return {
    provider: 'bedrock',
    mode,
    maxInputTokens: maxInput,
    ...(maxOutput !== undefined && { maxOutputTokens: maxOutput }),
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    inputCostPerTokenBatches: inputCost / 2,
    outputCostPerTokenBatches: outputCost / 2,
    ...(supports && { supports }),
  };
}

const BEDROCK_CLAUDE = ['function_calling', 'vision', 'prompt_caching', 'pdf_input'] as const;
const BEDROCK_TOOLS = ['function_calling'] as const;

/** Bedrock's models by model id; `bedrockEntries` keys them as deployments name them. */
const BEDROCK_MODELS: Readonly<Record<string, CatalogueEntry>> = {
  'anthropic.claude-3-5-sonnet-20241022-v2:0': bedrock('chat', 3e-6, 1.5e-5, 200_000, 8_192, BEDROCK_CLAUDE),
  'us.anthropic.claude-3-5-sonnet-20241022-v2:0': bedrock('chat', 3e-6, 1.5e-5, 200_000, 8_192, BEDROCK_CLAUDE),
  'anthropic.claude-3-5-haiku-20241022-v1:0': bedrock('chat', 8e-7, 4e-6, 200_000, 8_192, BEDROCK_CLAUDE),
  'us.anthropic.claude-3-5-haiku-20241022-v1:0': bedrock('chat', 8e-7, 4e-6, 200_000, 8_192, BEDROCK_CLAUDE),
  'anthropic.claude-3-haiku-20240307-v1:0': bedrock('chat', 2.5e-7, 1.25e-6, 200_000, 4_096, BEDROCK_CLAUDE),
  'anthropic.claude-sonnet-4-20250514-v1:0': bedrock('chat', 3e-6, 1.5e-5, 200_000, 64_000, BEDROCK_CLAUDE),
  'us.anthropic.claude-sonnet-4-20250514-v1:0': bedrock('chat', 3e-6, 1.5e-5, 200_000, 64_000, BEDROCK_CLAUDE),
  'amazon.nova-pro-v1:0': bedrock('chat', 8e-7, 3.2e-6, 300_000, 5_000, ['function_calling', 'vision']),
  'amazon.nova-lite-v1:0': bedrock('chat', 6e-8, 2.4e-7, 300_000, 5_000, ['function_calling', 'vision']),
  'amazon.nova-micro-v1:0': bedrock('chat', 3.5e-8, 1.4e-7, 128_000, 5_000, BEDROCK_TOOLS),
  'meta.llama3-1-70b-instruct-v1:0': bedrock('chat', 7.2e-7, 7.2e-7, 128_000, 2_048, BEDROCK_TOOLS),
  'meta.llama3-1-8b-instruct-v1:0': bedrock('chat', 2.2e-7, 2.2e-7, 128_000, 2_048, BEDROCK_TOOLS),
  'mistral.mistral-large-2407-v1:0': bedrock('chat', 2e-6, 6e-6, 128_000, 8_192, BEDROCK_TOOLS),
  'amazon.titan-embed-text-v2:0': bedrock('embedding', 2e-8, 0, 8_192),
  'amazon.titan-embed-text-v1': bedrock('embedding', 1e-7, 0, 8_192),
  'cohere.embed-english-v3': bedrock('embedding', 1e-7, 0, 512),
  'cohere.embed-multilingual-v3': bedrock('embedding', 1e-7, 0, 512),
};

/** `bedrock/<id>`, and for chat models also `bedrock/converse/<id>` and `bedrock/invoke/<id>`: LiteLLM's names for the same model through either API. */
function bedrockEntries(models: Readonly<Record<string, CatalogueEntry>>): Record<string, CatalogueEntry> {
  const keyed: Record<string, CatalogueEntry> = {};
  for (const [id, entry] of Object.entries(models)) {
    keyed[`bedrock/${id}`] = entry;
    if (entry.mode !== 'chat') continue;
    keyed[`bedrock/converse/${id}`] = entry;
    keyed[`bedrock/invoke/${id}`] = entry;
  }
  return keyed;
}

/**
 * A model on Cohere's own API, keyed `cohere/<model>` and, for chat models, `cohere_chat/<model>`
 * (LiteLLM's two prefixes; Portico serves both the same way, `providers/cohere/`): USD per token
 * as Cohere's pricing page lists them (https://cohere.com/pricing), context windows and output
 * limits from Cohere's model pages (https://docs.cohere.com/docs/models). Cohere has no batch
 * price: a batch runs on Portico's engine as live calls, so its batch prices are the normal ones.
 */
function cohere(mode: 'chat' | 'embedding', inputCost: number, outputCost: number, maxInput: number, maxOutput?: number): CatalogueEntry {
  return {
    provider: 'cohere',
    mode,
    maxInputTokens: maxInput,
    ...(maxOutput !== undefined && { maxOutputTokens: maxOutput }),
    inputCostPerToken: inputCost,
    outputCostPerToken: outputCost,
    inputCostPerTokenBatches: inputCost,
    outputCostPerTokenBatches: outputCost,
    ...(mode === 'chat' && { supports: ['function_calling', 'response_schema'] as const }),
  };
}

/**
 * A Cohere rerank model: USD per search (Cohere bills a search per query of up to 100 documents;
 * https://cohere.com/pricing lists $2.00 per 1,000 searches for Rerank 3.5 and 4 Fast, $2.50 for 4
 * Pro), LiteLLM's `input_cost_per_query` for the same names; context windows from Cohere's model
 * pages (https://docs.cohere.com/docs/rerank).
 */
function cohereRerank(costPerQuery: number, maxInput: number): CatalogueEntry {
  return { provider: 'cohere', mode: 'rerank', maxInputTokens: maxInput, inputCostPerQuery: costPerQuery };
}

/** Cohere's models by model id; `cohereEntries` keys them as deployments name them. */
const COHERE_MODELS: Readonly<Record<string, CatalogueEntry>> = {
  'command-a-03-2025': cohere('chat', 2.5e-6, 1e-5, 256_000, 8_000),
  'command-r-plus-08-2024': cohere('chat', 2.5e-6, 1e-5, 128_000, 4_000),
  'command-r-08-2024': cohere('chat', 1.5e-7, 6e-7, 128_000, 4_000),
  'embed-english-v3.0': cohere('embedding', 1e-7, 0, 512),
  'rerank-v4.0-pro': cohereRerank(0.0025, 32_768),
  'rerank-v4.0-fast': cohereRerank(0.002, 32_768),
  'rerank-v3.5': cohereRerank(0.002, 4_096),
  'rerank-english-v3.0': cohereRerank(0.002, 4_096),
  'rerank-multilingual-v3.0': cohereRerank(0.002, 4_096),
};

/** `cohere/<id>`, and for chat models also `cohere_chat/<id>` (with that provider). */
function cohereEntries(models: Readonly<Record<string, CatalogueEntry>>): Record<string, CatalogueEntry> {
  const keyed: Record<string, CatalogueEntry> = {};
  for (const [id, entry] of Object.entries(models)) {
    keyed[`cohere/${id}`] = entry;
    if (entry.mode === 'chat') keyed[`cohere_chat/${id}`] = { ...entry, provider: 'cohere_chat' };
  }
  return keyed;
}

const VERTEX_GEMINI = ['function_calling', 'vision', 'response_schema', 'prompt_caching', 'pdf_input'] as const;

function embedding(inputCost: number, maxInput: number, batches: boolean): CatalogueEntry {
  return {
    provider: 'openai',
    mode: 'embedding',
    maxInputTokens: maxInput,
    inputCostPerToken: inputCost,
    outputCostPerToken: 0,
    ...(batches && { inputCostPerTokenBatches: inputCost / 2, outputCostPerTokenBatches: 0 }),
  };
}

function other(mode: CatalogueMode): CatalogueEntry {
  return { provider: 'openai', mode };
}

export const CATALOGUE_ENTRIES: Readonly<Record<string, CatalogueEntry>> = {
  // OpenAI chat
  'gpt-5': chat(1.25e-6, 1e-5, 272_000, 128_000, REASONING),
  'gpt-5-mini': chat(2.5e-7, 2e-6, 272_000, 128_000, REASONING),
  'gpt-5-nano': chat(5e-8, 4e-7, 272_000, 128_000, REASONING),
  'gpt-4.1': chat(2e-6, 8e-6, 1_047_576, 32_768, TOOLS_VISION_PDF, true),
  'gpt-4.1-2025-04-14': chat(2e-6, 8e-6, 1_047_576, 32_768, TOOLS_VISION_PDF, true),
  'gpt-4.1-mini': chat(4e-7, 1.6e-6, 1_047_576, 32_768, TOOLS_VISION_PDF, true),
  'gpt-4.1-nano': chat(1e-7, 4e-7, 1_047_576, 32_768, TOOLS_VISION_PDF, true),
  'gpt-4o': chat(2.5e-6, 1e-5, 128_000, 16_384, TOOLS_VISION_PDF, true),
  'gpt-4o-2024-11-20': chat(2.5e-6, 1e-5, 128_000, 16_384, TOOLS_VISION_PDF, true),
  'gpt-4o-2024-08-06': chat(2.5e-6, 1e-5, 128_000, 16_384, TOOLS_VISION_PDF, true),
  'gpt-4o-2024-05-13': chat(5e-6, 1.5e-5, 128_000, 4_096, ['function_calling', 'vision', 'prompt_caching', 'pdf_input'], true),
  'gpt-4o-mini': chat(1.5e-7, 6e-7, 128_000, 16_384, TOOLS_VISION_PDF, true),
  'gpt-4o-mini-2024-07-18': chat(1.5e-7, 6e-7, 128_000, 16_384, TOOLS_VISION_PDF, true),
  'chatgpt-4o-latest': chat(5e-6, 1.5e-5, 128_000, 4_096, ['function_calling', 'vision', 'prompt_caching', 'pdf_input']),
  'gpt-4-turbo': chat(1e-5, 3e-5, 128_000, 4_096, ['function_calling', 'vision', 'prompt_caching', 'pdf_input']),
  'gpt-4-turbo-preview': chat(1e-5, 3e-5, 128_000, 4_096, [...TOOLS, 'pdf_input']),
  'gpt-4-1106-preview': chat(1e-5, 3e-5, 128_000, 4_096, TOOLS),
  'gpt-4-0125-preview': chat(1e-5, 3e-5, 128_000, 4_096, TOOLS),
  'gpt-4': chat(3e-5, 6e-5, 8_192, 4_096, TOOLS),
  'gpt-4-0613': chat(3e-5, 6e-5, 8_192, 4_096, TOOLS),
  'gpt-3.5-turbo': chat(5e-7, 1.5e-6, 16_385, 4_096, TOOLS),
  'gpt-3.5-turbo-0125': chat(5e-7, 1.5e-6, 16_385, 4_096, TOOLS),
  'gpt-3.5-turbo-1106': chat(1e-6, 2e-6, 16_385, 4_096, TOOLS),
  'gpt-3.5-turbo-16k': chat(3e-6, 4e-6, 16_385, 4_096, ['prompt_caching']),
  o1: chat(1.5e-5, 6e-5, 200_000, 100_000, REASONING),
  o3: chat(2e-6, 8e-6, 200_000, 100_000, REASONING),
  'o3-mini': chat(1.1e-6, 4.4e-6, 200_000, 100_000, ['function_calling', 'response_schema', 'prompt_caching', 'reasoning']),
  'o4-mini': chat(1.1e-6, 4.4e-6, 200_000, 100_000, REASONING),
  // OpenAI completion (LiteLLM: text-completion-openai)
  'gpt-3.5-turbo-instruct': { provider: 'text-completion-openai', mode: 'completion', maxInputTokens: 8_192, maxOutputTokens: 4_096, inputCostPerToken: 1.5e-6, outputCostPerToken: 2e-6 },
  'babbage-002': { provider: 'text-completion-openai', mode: 'completion', maxInputTokens: 16_384, maxOutputTokens: 4_096, inputCostPerToken: 4e-7, outputCostPerToken: 4e-7 },
  'davinci-002': { provider: 'text-completion-openai', mode: 'completion', maxInputTokens: 16_384, maxOutputTokens: 4_096, inputCostPerToken: 2e-6, outputCostPerToken: 2e-6 },
  // OpenAI embeddings
  'text-embedding-3-small': embedding(2e-8, 8_191, true),
  'text-embedding-3-large': embedding(1.3e-7, 8_191, true),
  'text-embedding-ada-002': embedding(1e-7, 8_191, false),
  // OpenAI images, audio, moderation (priced per image / second / character: no token prices here)
  'dall-e-2': other('image_generation'),
  'dall-e-3': other('image_generation'),
  'gpt-image-1': other('image_generation'),
  // Audio, from the file at CATALOGUE_SOURCE's commit (checked 2026-12-07): whisper priced per
  // second, tts-1 per character, the gpt-4o audio models per token (their answers report tokens;
  // LiteLLM's separate audio-token prices equal the input prices, its output-audio prices are not carried).
  'whisper-1': { provider: 'openai', mode: 'audio_transcription', inputCostPerSecond: 1e-4 },
  'gpt-4o-transcribe': { provider: 'openai', mode: 'audio_transcription', maxInputTokens: 16_000, maxOutputTokens: 2_000, inputCostPerToken: 2.5e-6, outputCostPerToken: 1e-5 },
  'gpt-4o-mini-transcribe': { provider: 'openai', mode: 'audio_transcription', maxInputTokens: 16_000, maxOutputTokens: 2_000, inputCostPerToken: 1.25e-6, outputCostPerToken: 5e-6 },
  'tts-1': { provider: 'openai', mode: 'audio_speech', inputCostPerCharacter: 1.5e-5 },
  'tts-1-hd': { provider: 'openai', mode: 'audio_speech', inputCostPerCharacter: 3e-5 },
  'gpt-4o-mini-tts': { provider: 'openai', mode: 'audio_speech', inputCostPerToken: 2.5e-6, outputCostPerToken: 1e-5 },
  'omni-moderation-latest': other('moderation'),
  'text-moderation-latest': other('moderation'),
  'text-moderation-stable': other('moderation'),
  // Anthropic
  'claude-opus-4-5-20251101': claude(5e-6, 2.5e-5, 200_000, 64_000, REASONING),
  'claude-opus-4-1-20250805': claude(1.5e-5, 7.5e-5, 200_000, 32_000, REASONING),
  'claude-opus-4-20250514': claude(1.5e-5, 7.5e-5, 200_000, 32_000, REASONING),
  'claude-sonnet-4-5-20250929': claude(3e-6, 1.5e-5, 200_000, 64_000, REASONING),
  'claude-sonnet-4-20250514': claude(3e-6, 1.5e-5, 1_000_000, 64_000, REASONING),
  'claude-haiku-4-5-20251001': claude(1e-6, 5e-6, 200_000, 64_000, REASONING),
  'claude-3-7-sonnet-20250219': claude(3e-6, 1.5e-5, 200_000, 64_000, REASONING),
  'claude-3-opus-20240229': claude(1.5e-5, 7.5e-5, 200_000, 4_096, TOOLS_VISION),
  'claude-3-haiku-20240307': claude(2.5e-7, 1.25e-6, 200_000, 4_096, TOOLS_VISION),
  // Gemini API (`gemini/...`), from Google's pricing page (see `gemini` above)
  'gemini-2.5-pro': gemini('chat', 1.25e-6, 1e-5, 6.25e-7, 5e-6, 1_048_576, 65_536),
  'gemini-2.5-flash': gemini('chat', 3e-7, 2.5e-6, 1.5e-7, 1.25e-6, 1_048_576, 65_536),
  'gemini-2.5-flash-lite': gemini('chat', 1e-7, 4e-7, 5e-8, 2e-7, 1_048_576, 65_536),
  'gemini-2.0-flash': gemini('chat', 1e-7, 4e-7, 5e-8, 2e-7, 1_048_576, 8_192),
  'gemini-2.0-flash-lite': gemini('chat', 7.5e-8, 3e-7, 3.75e-8, 1.5e-7, 1_048_576, 8_192),
  'gemini-embedding-001': gemini('embedding', 1.5e-7, 0, 7.5e-8, 0, 2_048),
  // Vertex AI (`vertex_ai/...`), from Google's Vertex AI pricing page (see `vertex` above)
  'vertex_ai/gemini-2.5-pro': vertex('chat', 1.25e-6, 1e-5, 1_048_576, 65_536, VERTEX_GEMINI),
  'vertex_ai/gemini-2.5-flash': vertex('chat', 3e-7, 2.5e-6, 1_048_576, 65_536, VERTEX_GEMINI),
  'vertex_ai/gemini-2.5-flash-lite': vertex('chat', 1e-7, 4e-7, 1_048_576, 65_536, VERTEX_GEMINI),
  'vertex_ai/gemini-2.0-flash': vertex('chat', 1.5e-7, 6e-7, 1_048_576, 8_192, VERTEX_GEMINI),
  'vertex_ai/gemini-2.0-flash-lite': vertex('chat', 7.5e-8, 3e-7, 1_048_576, 8_192, VERTEX_GEMINI),
  'vertex_ai/gemini-embedding-001': vertex('embedding', 1.5e-7, 0, 2_048),
  'vertex_ai/claude-opus-4-1@20250805': vertex('chat', 1.5e-5, 7.5e-5, 200_000, 32_000, REASONING),
  'vertex_ai/claude-sonnet-4-5@20250929': vertex('chat', 3e-6, 1.5e-5, 200_000, 64_000, REASONING),
  'vertex_ai/claude-sonnet-4@20250514': vertex('chat', 3e-6, 1.5e-5, 200_000, 64_000, REASONING),
  'vertex_ai/claude-haiku-4-5@20251001': vertex('chat', 1e-6, 5e-6, 200_000, 64_000, REASONING),
  'vertex_ai/claude-3-7-sonnet@20250219': vertex('chat', 3e-6, 1.5e-5, 200_000, 64_000, REASONING),
  // Amazon Bedrock (`bedrock/<model id>`, and `bedrock/converse/<model id>` for chat models), from AWS's Bedrock pricing page (see `bedrock` above)
  ...bedrockEntries(BEDROCK_MODELS),
  // Cohere (`cohere/<model>`, `cohere_chat/<model>`), from Cohere's pricing page (see `cohere` above)
  ...cohereEntries(COHERE_MODELS),
};
