/**
 * A `vertex_ai/` deployment's settings from its `litellm_params` (LiteLLM's names):
 * `vertex_project` (else VERTEXAI_PROJECT / GOOGLE_CLOUD_PROJECT, else the credentials' project, as LiteLLM),
 * `vertex_location` (else VERTEXAI_LOCATION, else `us-central1`, LiteLLM's default),
 * `vertex_credentials` (credentials.ts; else GOOGLE_APPLICATION_CREDENTIALS, else the application default credentials), `api_base` (replaces `https://{location}-aiplatform.googleapis.com`),
 * `gcs_bucket_name` (else GCS_BUCKET_NAME: where batch input and output are staged; `bucket/some/prefix`
 * puts them under that prefix, as LiteLLM reads it) and `gcs_api_base` (replaces
 * `https://storage.googleapis.com`; Portico's own name, for a GCS emulator). `max_tokens` (Claude's default for requests that set none).
 * Parsed once at start (`Provider.settings`), problems reported by key.
 */
import { z } from 'zod';
import { CredentialsProblem, credentialsSourceOf, projectOfCredentials, type GoogleCredentialsSource } from './credentials.ts';

export const DEFAULT_VERTEX_LOCATION = 'us-central1';
export const DEFAULT_GCS_API_ROOT = 'https://storage.googleapis.com';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export interface VertexSettings {
  project: string;
  location: string;
  /** Origin (and path prefix) of the Vertex AI API, without a trailing slash. */
  apiRoot: string;
  credentials: GoogleCredentialsSource;
  /** Where batches are staged; absent: batches run on Portico's engine. */
  staging: { bucket: string; prefix: string } | undefined;
  /** Origin of the GCS JSON API, without a trailing slash. */
  gcsApiRoot: string;
  /** Claude's default for requests without `max_tokens`; absent: Portico's. */
  defaultMaxTokens: number | undefined;
}

const PROJECT_REQUIRED = "a vertex_ai deployment needs a project (vertex_project, VERTEXAI_PROJECT, or the credentials' project_id)";

export const vertexSettingsSchema = z
  .object({
    vertex_project: z.string().min(1).optional(),
    vertex_location: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'must be a Vertex AI location such as us-central1 or global')
      .optional(),
    vertex_credentials: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    api_base: httpUrl.optional(),
    gcs_bucket_name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](\/.*)?$/, 'must be a GCS bucket name, optionally followed by /prefix')
      .optional(),
    gcs_api_base: httpUrl.optional(),
    max_tokens: z.number().int().positive().optional(),
  })
  .transform((params, context): VertexSettings => {
    let credentials: GoogleCredentialsSource;
    try {
      // Reads a key file: this runs at start, where a missing file is a config error.
      credentials = credentialsSourceOf(params.vertex_credentials, {});
      // (GOOGLE_APPLICATION_CREDENTIALS is read into vertex_credentials by the config loader.)
    } catch (error) {
      if (!(error instanceof CredentialsProblem)) throw error;
      context.issues.push({ code: 'custom', path: ['vertex_credentials'], message: error.message, input: params.vertex_credentials });
      return z.NEVER;
    }
    const project = params.vertex_project ?? projectOfCredentials(credentials);
    if (project === undefined) {
      context.issues.push({ code: 'custom', path: ['vertex_project'], message: PROJECT_REQUIRED, input: params.vertex_project });
      return z.NEVER;
    }
    const location = params.vertex_location ?? DEFAULT_VERTEX_LOCATION;
    return {
      project,
      location,
      apiRoot: (params.api_base ?? defaultApiRoot(location)).replace(/\/+$/, ''),
      credentials,
      staging: stagingOf(params.gcs_bucket_name),
      gcsApiRoot: (params.gcs_api_base ?? DEFAULT_GCS_API_ROOT).replace(/\/+$/, ''),
      defaultMaxTokens: params.max_tokens,
    };
  });

/** Environment variables read for keys the params leave out, as LiteLLM reads them. */
export const VERTEX_SETTINGS_ENVIRONMENT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  vertex_project: ['VERTEXAI_PROJECT', 'GOOGLE_CLOUD_PROJECT'],
  vertex_location: ['VERTEXAI_LOCATION'],
  vertex_credentials: ['GOOGLE_APPLICATION_CREDENTIALS'],
  gcs_bucket_name: ['GCS_BUCKET_NAME'],
});

/** `https://{location}-aiplatform.googleapis.com`; the global location has no regional host. */
export function defaultApiRoot(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

function stagingOf(bucketName: string | undefined): VertexSettings['staging'] {
  if (bucketName === undefined) return undefined;
  const slash = bucketName.indexOf('/');
  if (slash < 0) return { bucket: bucketName, prefix: '' };
  const prefix = bucketName.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return { bucket: bucketName.slice(0, slash), prefix: prefix === '' ? '' : `${prefix}/` };
}
