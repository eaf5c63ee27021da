/**
 * The OpenAI-compatible services and servers LiteLLM users name, one row each: LiteLLM's model
 * prefix, its default `api_base` and the environment variables it reads for the key and base.
 * Every row is the OpenAI client with another config (`index.ts` builds one provider per row).
 *
 * Defaults and variable names as LiteLLM resolves them in `_get_openai_compatible_provider_info`
 * (https://github.com/BerriAI/litellm/blob/main/litellm/litellm_core_utils/get_llm_provider_logic.py)
 * and each provider's `*_get_openai_compatible_provider_info` under `litellm/llms/<provider>/`.
 */

import type { Deployment } from '../../spec/provider.ts';
import { azureAiApiConfig } from '../azure_ai/azure-ai-config.ts';
import type { OpenAIApiConfig } from '../openai/api-config.ts';
import { mistralApiConfig } from '../mistral/mistral-config.ts';
import { togetherApiConfig } from '../together/together-config.ts';
import { huggingFaceApiConfig } from '../huggingface/huggingface-config.ts';
import type { ChatBodyRewrites } from './chat-body-rewrites.ts';
import { VOYAGE_EMBEDDING_PARAM_NAMES, voyageEmbeddingsAnswer, voyageRerankAnswer, voyageRerankRequest } from '../voyage/voyage-wire.ts';

/** `maxTokensOnly` / `textContentAsString` (`chat-body-rewrites.ts`): what the service needs changed in chat requests. */
export interface OpenAICompatiblePreset extends ChatBodyRewrites {
  /** LiteLLM's default `api_base`; absent: the config must name one. */
  readonly apiBase?: string;
  /** Variables read, in order, when `litellm_params` has no `api_key` / `api_base`. */
  readonly apiKeyVariables: readonly string[];
  readonly apiBaseVariables: readonly string[];
  /**
   * `native`: the service has OpenAI's Files and Batch API under the same base (same file
   * executor as OpenAI); `emulate`: batches run through Portico's batch engine.
   */
  readonly batches: 'native' | 'emulate';
  /**
   * `legacy-completions`: chat requests are sent to `/completions` (messages joined into a
   * `prompt`) and the answer is turned back into a chat completion (LiteLLM's
   * `text-completion-openai/`).
   */
  readonly wire?: 'legacy-completions';
  /**
   * How the service's API differs from OpenAI's: the Files and Batch API of a `native` service
   * whose batch API is OpenAI's in substance but not to the letter (Together, Mistral), or its
   * URLs and authentication (Azure AI Foundry).
   */
  readonly apiConfig?: (openAIConfig: OpenAIApiConfig, deployment: Deployment) => OpenAIApiConfig;
  /** A root base (Ollama's native API) gains `/v1`, where Ollama serves the OpenAI API. */
  readonly appendV1?: boolean;
  /**
   * The server may serve Cohere's rerank at `{api_base}/rerank` (vLLM, Infinity, llama.cpp's
   * server, behind LiteLLM's generic self-hosted prefixes): the client passes LiteLLM's rerank
   * there. Hosted services and Ollama-style servers have none: a rerank to them is a 400.
   */
  readonly rerank?: boolean | RerankWire;
  /**
   * OpenAI chat parameters the service rejects or cannot honour, dropped under `drop_params`:
   * those left out of LiteLLM's `get_supported_openai_params` for the provider
   * (https://github.com/BerriAI/litellm/tree/main/litellm/llms/<provider>/chat/transformation.py).
   */
  readonly unsupportedParams?: readonly string[];
  /**
   * OpenAI embedding parameters the service names otherwise, renamed in its requests (LiteLLM's
   * `map_openai_params` for the provider): Voyage's `output_dimension` for `dimensions`.
   */
  readonly embeddingParamNames?: Readonly<Record<string, string>>;
  /** The service's embeddings answer as OpenAI's, where it differs (Voyage's usage). */
  readonly embeddingsAnswer?: (answer: unknown) => unknown;
}

/**
 * A rerank the service takes in its own words (Voyage): LiteLLM's (Cohere's) request as the
 * service's, posted to `{api_base}/rerank`, and its answer as Cohere's.
 */
export interface RerankWire {
  request(body: Record<string, unknown>, upstreamModel: string): Record<string, unknown>;
  answer(answer: unknown, id: string): unknown;
}

function local(name: string, apiBase?: string, extra: Partial<OpenAICompatiblePreset> = {}): OpenAICompatiblePreset {
  return { ...(apiBase !== undefined && { apiBase }), apiKeyVariables: [`${name}_API_KEY`], apiBaseVariables: [`${name}_API_BASE`], batches: 'emulate', ...extra };
}

/** A hosted service LiteLLM reads from `<NAME>_API_KEY` and `<NAME>_API_BASE`, without a batch API. */
function hosted(apiBase: string, name: string, extra: Partial<OpenAICompatiblePreset> = {}): OpenAICompatiblePreset {
  return local(name, apiBase, extra);
}

export const OPENAI_COMPATIBLE_PRESETS: Readonly<Record<string, OpenAICompatiblePreset>> = Object.freeze({
  // Self-hosted servers: no default host (or localhost), no batch API.
  // LiteLLM's own example of `additional_drop_params` is vLLM's `logit_bias`; what a self-hosted
  // server takes depends on it, so these list nothing and leave the choice to the config.
  hosted_vllm: local('HOSTED_VLLM', undefined, { rerank: true }),
  openai_compatible: local('OPENAI_COMPATIBLE', undefined, { rerank: true }),
  openai_like: local('OPENAI_LIKE', undefined, { rerank: true }),
  custom_openai: local('CUSTOM_OPENAI', undefined, { rerank: true }),
  // https://github.com/ollama/ollama/blob/main/docs/openai.md
  ollama: local('OLLAMA', 'http://localhost:11434/v1', { appendV1: true }),
  ollama_chat: local('OLLAMA', 'http://localhost:11434/v1', { appendV1: true }),
  lm_studio: local('LM_STUDIO', 'http://localhost:1234/v1'),
  llamafile: local('LLAMAFILE', 'http://127.0.0.1:8080/v1'),
  // Hosted services.
  // Hugging Face's router (OpenAI's chat API; a root base, or a dedicated endpoint's URL, gains
  // /v1); `huggingface/<provider>/<org>/<model>` becomes the router's `<org>/<model>:<provider>`.
  huggingface: {
    apiBase: 'https://router.huggingface.co/v1',
    apiKeyVariables: ['HF_TOKEN', 'HUGGINGFACE_API_KEY'],
    apiBaseVariables: ['HF_API_BASE', 'HUGGINGFACE_API_BASE'],
    batches: 'emulate',
    appendV1: true,
    apiConfig: huggingFaceApiConfig,
  },
  openrouter: { apiBase: 'https://openrouter.ai/api/v1', apiKeyVariables: ['OPENROUTER_API_KEY', 'OR_API_KEY'], apiBaseVariables: ['OPENROUTER_API_BASE'], batches: 'emulate' },
  // Groq's Batch API is OpenAI's: files with purpose=batch, /batches, OpenAI's statuses
  // (https://console.groq.com/docs/batch).
  groq: { apiBase: 'https://api.groq.com/openai/v1', apiKeyVariables: ['GROQ_API_KEY'], apiBaseVariables: ['GROQ_API_BASE'], unsupportedParams: ['logprobs', 'top_logprobs', 'logit_bias', 'n'], batches: 'native' },
  // Mistral's batch API takes `input_files` and a `model`, `{custom_id, body}` lines, and answers
  // its own job object (https://docs.mistral.ai/capabilities/batch/); Together's is OpenAI's with
  // other words (purpose=batch-api uploads, answers wrapped in `job`, upper-case statuses;
  // https://docs.together.ai/reference/batch-create). Both run natively, through the OpenAI file
  // executor with `mistral/mistral-config.ts` and `together/together-config.ts`.
  mistral: { apiBase: 'https://api.mistral.ai/v1', apiKeyVariables: ['MISTRAL_API_KEY'], apiBaseVariables: ['MISTRAL_API_BASE'], unsupportedParams: ['logit_bias', 'logprobs', 'top_logprobs', 'user', 'service_tier', 'store'], batches: 'native', apiConfig: mistralApiConfig },
  together_ai: {
    apiBase: 'https://api.together.xyz/v1',
    apiKeyVariables: ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'],
    apiBaseVariables: ['TOGETHER_AI_API_BASE'],
    batches: 'native',
    apiConfig: togetherApiConfig,
  },
  deepseek: { apiBase: 'https://api.deepseek.com/beta', apiKeyVariables: ['DEEPSEEK_API_KEY'], apiBaseVariables: ['DEEPSEEK_API_BASE'], unsupportedParams: ['logit_bias', 'n', 'seed', 'user'], batches: 'emulate' },
  fireworks_ai: {
    apiBase: 'https://api.fireworks.ai/inference/v1',
    apiKeyVariables: ['FIREWORKS_API_KEY', 'FIREWORKS_AI_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'],
    apiBaseVariables: ['FIREWORKS_API_BASE'],
    batches: 'emulate',
  },
  xai: { apiBase: 'https://api.x.ai/v1', apiKeyVariables: ['XAI_API_KEY'], apiBaseVariables: ['XAI_API_BASE'], unsupportedParams: ['logit_bias', 'service_tier', 'store'], batches: 'emulate' },
  perplexity: { apiBase: 'https://api.perplexity.ai', apiKeyVariables: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'], apiBaseVariables: ['PERPLEXITY_API_BASE'], unsupportedParams: ['tools', 'tool_choice', 'parallel_tool_calls', 'logit_bias', 'logprobs', 'top_logprobs', 'n', 'seed', 'stop', 'user'], batches: 'emulate' },
  cerebras: { apiBase: 'https://api.cerebras.ai/v1', apiKeyVariables: ['CEREBRAS_API_KEY'], apiBaseVariables: ['CEREBRAS_API_BASE'], unsupportedParams: ['frequency_penalty', 'presence_penalty', 'logit_bias', 'n'], batches: 'emulate' },
  // Databricks model serving: the OpenAI API under the workspace's `/serving-endpoints`, the
  // endpoint's name as the model (https://docs.databricks.com/aws/en/machine-learning/model-serving/score-foundation-models);
  // a personal access token as the key (LiteLLM's `DATABRICKS_API_KEY`, `DATABRICKS_API_BASE`).
  databricks: { apiKeyVariables: ['DATABRICKS_API_KEY'], apiBaseVariables: ['DATABRICKS_API_BASE'], batches: 'emulate' },
  // Voyage AI's embeddings and rerank (`voyage/voyage-wire.ts`: OpenAI's embeddings but for the
  // dimensions' name and the usage, its own rerank); no chat.
  voyage: {
    ...hosted('https://api.voyageai.com/v1', 'VOYAGE'),
    embeddingParamNames: VOYAGE_EMBEDDING_PARAM_NAMES,
    embeddingsAnswer: voyageEmbeddingsAnswer,
    rerank: { request: voyageRerankRequest, answer: voyageRerankAnswer },
  },
  // Infinity, a self-hosted embeddings and rerank server (https://github.com/michaelfeil/infinity):
  // OpenAI's embeddings, Cohere's rerank at `{api_base}/rerank`.
  infinity: local('INFINITY', undefined, { rerank: true }),
  nvidia_nim: { apiBase: 'https://integrate.api.nvidia.com/v1', apiKeyVariables: ['NVIDIA_NIM_API_KEY'], apiBaseVariables: ['NVIDIA_NIM_API_BASE'], batches: 'emulate' },
  deepinfra: { apiBase: 'https://api.deepinfra.com/v1/openai', apiKeyVariables: ['DEEPINFRA_API_KEY'], apiBaseVariables: ['DEEPINFRA_API_BASE'], batches: 'emulate' },
  // GitHub Models: the OpenAI API at the root of its host, a GitHub token as the key
  // (https://docs.github.com/en/github-models).
  github: { apiBase: 'https://models.inference.ai.azure.com', apiKeyVariables: ['GITHUB_API_KEY'], apiBaseVariables: ['GITHUB_API_BASE'], batches: 'emulate' },
  // Further services LiteLLM serves through its OpenAI-like configs, with its defaults
  // (`litellm/llms/<provider>/chat/transformation.py`, `get_llm_provider_logic.py`, and the rows of
  // `litellm/llms/openai_like/providers.json`). Where LiteLLM renames `max_completion_tokens` or
  // flattens text content for a service, so does its row.
  // A LiteLLM proxy in front (its own /rerank too).
  litellm_proxy: { apiKeyVariables: ['LITELLM_PROXY_API_KEY'], apiBaseVariables: ['LITELLM_PROXY_API_BASE'], batches: 'emulate', rerank: true },
  // Azure AI Foundry's model inference API: URLs and `api-key` auth in `azure_ai/azure-ai-config.ts`.
  azure_ai: { apiKeyVariables: ['AZURE_AI_API_KEY'], apiBaseVariables: ['AZURE_AI_API_BASE'], batches: 'emulate', textContentAsString: true, apiConfig: azureAiApiConfig },
  sambanova: hosted('https://api.sambanova.ai/v1', 'SAMBANOVA', { maxTokensOnly: true, textContentAsString: true }),
  meta_llama: hosted('https://api.llama.com/compat/v1', 'LLAMA'),
  ai21_chat: hosted('https://api.ai21.com/studio/v1', 'AI21', { maxTokensOnly: true }),
  volcengine: hosted('https://ark.cn-beijing.volces.com/api/v3', 'VOLCENGINE', { maxTokensOnly: true }),
  codestral: hosted('https://codestral.mistral.ai/v1', 'CODESTRAL', { unsupportedParams: ['logit_bias', 'logprobs', 'top_logprobs', 'user', 'service_tier', 'store'] }),
  friendliai: { ...hosted('https://api.friendli.ai/serverless/v1', 'FRIENDLI', { maxTokensOnly: true }), apiKeyVariables: ['FRIENDLIAI_API_KEY', 'FRIENDLI_TOKEN'] },
  galadriel: hosted('https://api.galadriel.com/v1', 'GALADRIEL', { maxTokensOnly: true }),
  nscale: hosted('https://inference.api.nscale.com/v1', 'NSCALE', { maxTokensOnly: true }),
  dashscope: hosted('https://dashscope-intl.aliyuncs.com/compatible-mode/v1', 'DASHSCOPE', { textContentAsString: true }),
  moonshot: hosted('https://api.moonshot.ai/v1', 'MOONSHOT', { maxTokensOnly: true, textContentAsString: true, unsupportedParams: ['functions', 'function_call'] }),
  zai: hosted('https://api.z.ai/api/paas/v4', 'ZAI', { maxTokensOnly: true }),
  hyperbolic: hosted('https://api.hyperbolic.xyz/v1', 'HYPERBOLIC', { maxTokensOnly: true }),
  novita: hosted('https://api.novita.ai/v3/openai', 'NOVITA'),
  nebius: hosted('https://api.studio.nebius.ai/v1', 'NEBIUS', { maxTokensOnly: true }),
  featherless_ai: hosted('https://api.featherless.ai/v1', 'FEATHERLESS', { maxTokensOnly: true }),
  lambda_ai: hosted('https://api.lambda.ai/v1', 'LAMBDA', { maxTokensOnly: true }),
  empower: hosted('https://app.empower.dev/api/v1', 'EMPOWER', { maxTokensOnly: true }),
  wandb: hosted('https://api.inference.wandb.ai/v1', 'WANDB', { maxTokensOnly: true }),
  vercel_ai_gateway: { ...hosted('https://ai-gateway.vercel.sh/v1', 'VERCEL_AI_GATEWAY'), apiKeyVariables: ['VERCEL_AI_GATEWAY_API_KEY', 'VERCEL_OIDC_TOKEN'] },
  ovhcloud: hosted('https://oai.endpoints.kepler.ai.cloud.ovh.net/v1', 'OVHCLOUD'),
  compactifai: { apiBase: 'https://api.compactif.ai/v1', apiKeyVariables: ['COMPACTIFAI_API_KEY'], apiBaseVariables: [], batches: 'emulate' },
  minimax: hosted('https://api.minimax.io/v1', 'MINIMAX'),
  modelscope: hosted('https://api-inference.modelscope.cn/v1', 'MODELSCOPE', { textContentAsString: true }),
  inception: hosted('https://api.inceptionlabs.ai/v1', 'INCEPTION', { maxTokensOnly: true }),
  aiml: hosted('https://api.aimlapi.com/v1', 'AIML'),
  cometapi: { apiBase: 'https://api.cometapi.com/v1', apiKeyVariables: ['COMETAPI_KEY', 'COMETAPI_API_KEY'], apiBaseVariables: ['COMETAPI_BASE_URL', 'COMETAPI_API_BASE'], batches: 'emulate' },
  parasail: hosted('https://api.parasail.io/v1', 'PARASAIL', { maxTokensOnly: true }),
  xiaomi_mimo: hosted('https://api.xiaomimimo.com/v1', 'XIAOMI_MIMO', { maxTokensOnly: true }),
  baseten: hosted('https://inference.baseten.co/v1', 'BASETEN', { maxTokensOnly: true }),
  v0: hosted('https://api.v0.dev/v1', 'V0', { maxTokensOnly: true }),
  tencent: hosted('https://tokenhub-intl.tencentcloudmaas.com/v1', 'TENCENT'),
  amazon_nova: hosted('https://api.nova.amazon.com/v1', 'AMAZON_NOVA', { maxTokensOnly: true }),
  siliconflow: hosted('https://api.siliconflow.com/v1', 'SILICONFLOW'),
  // Jina AI's embeddings and its Cohere-format rerank.
  jina_ai: { apiBase: 'https://api.jina.ai/v1', apiKeyVariables: ['JINA_AI_API_KEY', 'JINA_AI_TOKEN'], apiBaseVariables: ['JINA_AI_API_BASE'], batches: 'emulate', rerank: true },
  // Heroku's inference add-on: its variable holds the bare host; the API is under /v1.
  heroku: { apiKeyVariables: ['HEROKU_API_KEY'], apiBaseVariables: ['HEROKU_API_BASE'], batches: 'emulate', appendV1: true, textContentAsString: true },
  // The rows of LiteLLM's providers.json (base_url, api_key_env, api_base_env, param_mappings).
  publicai: hosted('https://api.publicai.co/v1', 'PUBLICAI', { maxTokensOnly: true, textContentAsString: true }),
  helicone: { apiBase: 'https://ai-gateway.helicone.ai', apiKeyVariables: ['HELICONE_API_KEY'], apiBaseVariables: [], batches: 'emulate' },
  veniceai: { apiBase: 'https://api.venice.ai/api/v1', apiKeyVariables: ['VENICE_AI_API_KEY'], apiBaseVariables: [], batches: 'emulate' },
  scaleway: { apiBase: 'https://api.scaleway.ai/v1', apiKeyVariables: ['SCW_SECRET_KEY'], apiBaseVariables: [], batches: 'emulate' },
  synthetic: { apiBase: 'https://api.synthetic.new/openai/v1', apiKeyVariables: ['SYNTHETIC_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  apertis: { apiBase: 'https://api.stima.tech/v1', apiKeyVariables: ['STIMA_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  'nano-gpt': { apiBase: 'https://nano-gpt.com/api/v1', apiKeyVariables: ['NANOGPT_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  poe: { apiBase: 'https://api.poe.com/v1', apiKeyVariables: ['POE_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  chutes: { apiBase: 'https://llm.chutes.ai/v1', apiKeyVariables: ['CHUTES_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  abliteration: { apiBase: 'https://api.abliteration.ai/v1', apiKeyVariables: ['ABLITERATION_API_KEY'], apiBaseVariables: [], batches: 'emulate' },
  llamagate: { apiBase: 'https://api.llamagate.dev/v1', apiKeyVariables: ['LLAMAGATE_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  gmi: { apiBase: 'https://api.gmi-serving.com/v1', apiKeyVariables: ['GMI_API_KEY'], apiBaseVariables: [], batches: 'emulate' },
  charity_engine: { apiBase: 'https://api.charityengine.services/remotejobs/v2/inference', apiKeyVariables: ['CHARITY_ENGINE_API_KEY'], apiBaseVariables: [], batches: 'emulate', maxTokensOnly: true },
  aihubmix: hosted('https://aihubmix.com/v1', 'AIHUBMIX'),
  // Self-hosted servers LiteLLM names.
  docker_model_runner: local('DOCKER_MODEL_RUNNER', 'http://localhost:12434/engines/v1', { maxTokensOnly: true, textContentAsString: true }),
  lemonade: local('LEMONADE', 'http://localhost:8000/api/v1', { maxTokensOnly: true }),
  xinference: local('XINFERENCE', 'http://127.0.0.1:9997/v1'),
  // OpenAI's legacy completions API (instruct models); batches emulated since lines are chat requests.
  'text-completion-openai': {
    apiBase: 'https://api.openai.com/v1',
    apiKeyVariables: ['OPENAI_API_KEY'],
    apiBaseVariables: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'],
    batches: 'emulate',
    wire: 'legacy-completions',
  },
} satisfies Record<string, OpenAICompatiblePreset>);
