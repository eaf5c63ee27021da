/**
 * What makes an "OpenAI-shaped" API one particular provider: where each operation lives, how
 * to authenticate, how its errors, files and batches look. The OpenAI implementation
 * (`client.ts`) is written once against this; Azure OpenAI and OpenAI-compatible servers are
 * other instances of it (STYLE.md: "Azure is OpenAI plus a config, not a copy").
 */
import type { OpenAIErrorBody } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { CallOptions, Deployment, FilesCapability, ProviderBatch, ProviderFile } from '../../spec/provider.ts';

export type OpenAIOperation =
  | { readonly kind: 'chat' }
  | { readonly kind: 'completions' }
  | { readonly kind: 'embeddings' }
  | { readonly kind: 'responses' }
  | { readonly kind: 'response'; readonly responseId: string }
  | { readonly kind: 'responseInputItems'; readonly responseId: string }
  | { readonly kind: 'responseCancel'; readonly responseId: string }
  | { readonly kind: 'moderations' }
  | { readonly kind: 'imageGenerations' }
  | { readonly kind: 'audioSpeech' }
  | { readonly kind: 'audioTranscriptions' }
  | { readonly kind: 'audioTranslations' }
  /** Cohere's rerank as self-hosted servers serve it (vLLM, Infinity); not an OpenAI endpoint. */
  | { readonly kind: 'rerank' }
  | { readonly kind: 'files' }
  | { readonly kind: 'fileUpload' }
  | { readonly kind: 'file'; readonly fileId: string }
  | { readonly kind: 'fileContent'; readonly fileId: string }
  | { readonly kind: 'batches' }
  | { readonly kind: 'batch'; readonly batchId: string }
  | { readonly kind: 'batchCancel'; readonly batchId: string };

/** What a file upload told us, for providers whose upload answer omits fields (Azure: `bytes`). */
export interface FileUploadFacts {
  bytes: number;
  filename: string;
  purpose: string;
}

export interface OpenAIApiConfig {
  /** Names the upstream in error messages: "OpenAI", "Azure OpenAI", "hosted_vllm". */
  readonly label: string;
  /** The model written into request bodies and batch lines (Azure: the deployment name). */
  readonly upstreamModel: string;
  /** Full URL of an operation, query string included. */
  url(operation: OpenAIOperation): string;
  /** Authentication and fixed headers. */
  headers(): Record<string, string>;
  /** Response headers that carry the upstream's request id, first match wins. */
  readonly requestIdHeaders: readonly string[];
  /** The upstream's error body, translated to OpenAI's `error` object. */
  parseError(status: number, bodyText: string): OpenAIErrorBody;
  /** The capabilities this upstream has (OpenAI-compatible servers usually lack both). */
  readonly supportsFiles: boolean;
  readonly supportsBatches: boolean;
  /** False when the upstream has no moderation API (Azure OpenAI): its client then has no `moderations`. Default true. */
  readonly hasModerations?: boolean;
  /** False when the upstream has no audio API (speech, transcriptions, translations): its client then has none of those methods. Default true. */
  readonly hasAudio?: boolean;
  normalizeFile(raw: unknown, uploaded?: FileUploadFacts): ProviderFile;
  normalizeBatch(raw: unknown): ProviderBatch;
  /** The batch `endpoint` as this upstream wants it, from OpenAI's (`/v1/chat/completions`). */
  batchEndpoint(openAIEndpoint: string): string;
  /** Multipart fields that carry `expires_after` on upload. */
  expiresAfterFields(seconds: number): Array<readonly [string, string]>;
  /**
   * The upload form's fields before the file, where they are not OpenAI's `purpose` alone
   * (Together: `purpose=batch-api` and `file_name`).
   */
  uploadFields?(facts: Pick<FileUploadFacts, 'filename' | 'purpose'>): Array<readonly [string, string]>;
  /** The batch create body, where the upstream takes fewer fields than OpenAI's (Together). */
  batchCreateBody?(openAIBody: Record<string, unknown>): Record<string, unknown>;
  /**
   * False when the upstream's batches keep no `metadata` (Together): a create whose answer was
   * lost cannot be found again by Portico's marker. Default true.
   */
  readonly keepsBatchMetadata?: boolean;
  /** A batch input line in the upstream's format, where it is not OpenAI's (Mistral). */
  batchInputLine?(line: BatchInputLine): Record<string, unknown>;
  /** Runs before a batch is created (Azure: wait until the input file is processed). */
  beforeBatchCreate?(providerInputFileId: string, files: FilesCapability, options: CallOptions): Promise<void>;
}

/** Joins a base URL and a path, tolerating a trailing slash on the base. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** Encodes an id for a URL path segment (ids come from our database, never trusted blindly). */
export function pathId(id: string): string {
  return encodeURIComponent(id);
}

