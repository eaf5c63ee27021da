/**
 * Which of Google's models are embedding models, by name. Their batches cannot run as Gemini
 * batch mode's or Vertex AI's batch jobs as Portico stages them (those take `generateContent`
 * requests, i.e. `/v1/chat/completions` lines only), so the Gemini and Vertex AI clients give
 * them no batch capability and an OpenAI `/v1/embeddings` batch runs on Portico's engine, one
 * embeddings request per line, instead of being refused.
 *
 * Every embedding model Google names has "embedding" in its id: `gemini-embedding-001`,
 * `text-embedding-005`, `text-multilingual-embedding-002`, `textembedding-gecko@003`,
 * `multimodalembedding@001`, `embedding-001`
 * (https://ai.google.dev/gemini-api/docs/embeddings,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/embeddings/get-text-embeddings).
 */
export function isEmbeddingModel(model: string): boolean {
  return /embedding/i.test(model);
}
