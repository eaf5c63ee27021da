/**
 * The models the simulator serves, by Workers AI task, with what their pages document
 * (https://developers.cloudflare.com/workers-ai/models/): text generation models take `messages`
 * whose `content` is a string, vision models also content parts; embedding models answer vectors
 * of a fixed size.
 */

export interface SimulatedModels {
  /** Text generation models (name -> takes image parts). */
  textGeneration: ReadonlyMap<string, { vision: boolean }>;
  /** Text embedding models (name -> dimensions). */
  embeddings: ReadonlyMap<string, number>;
}

export const DEFAULT_MODELS: SimulatedModels = {
  textGeneration: new Map([
    ['@cf/meta/llama-3.1-8b-instruct', { vision: false }],
    ['@cf/meta/llama-3.1-8b-instruct-fast', { vision: false }],
    ['@cf/meta/llama-3.3-70b-instruct-fp8-fast', { vision: false }],
    ['@hf/nousresearch/hermes-2-pro-mistral-7b', { vision: false }],
    ['@cf/meta/llama-3.2-11b-vision-instruct', { vision: true }],
    ['@cf/meta/llama-4-scout-17b-16e-instruct', { vision: true }],
  ]),
  embeddings: new Map([
    ['@cf/baai/bge-small-en-v1.5', 384],
    ['@cf/baai/bge-base-en-v1.5', 768],
    ['@cf/baai/bge-large-en-v1.5', 1024],
    ['@cf/baai/bge-m3', 1024],
  ]),
};
