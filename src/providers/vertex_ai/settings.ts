/**
 * A `vertex_ai/` deployment's settings from its `litellm_params` (LiteLLM's names):
 * `vertex_project` (else the credentials' project, else VERTEXAI_PROJECT / GOOGLE_CLOUD_PROJECT),
 * `vertex_location` (else VERTEXAI_LOCATION, else `us-central1`, LiteLLM's default),
 * `vertex_credentials` (credentials.ts), `api_base` (replaces `https://{location}-aiplatform.googleapis.com`),
 * `gcs_bucket_name` (else GCS_BUCKET_NAME: where batch input and output are staged; `bucket/some/prefix`
 * puts them under that prefix, as LiteLLM reads it) and `gcs_api_base` (replaces
 * `https://storage.googleapis.com`; Portico's own name, for a GCS emulator). Checked once at start,
 * problems reported by key.
 */
import { z } from 'zod';
import type { Deployment } from '../../spec/provider.ts';
import { CredentialsProblem, credentialsSourceOf, projectOfCredentials, type GoogleCredentialsSource } from './credentials.ts';

export const DEFAULT_VERTEX_LOCATION = 'us-central1';
export const DEFAULT_GCS_API_ROOT = 'https://storage.googleapis.com';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const vertexSettingsSchema = z.object({
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
});

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
}

type Environment = NodeJS.ProcessEnv;

/** Problems as `<litellm_params key>: <message>`, which the config loader reports at that key. */
export function vertexSettingsProblems(deployment: Deployment, env: Environment = process.env): string[] {
  const parsed = vertexSettingsSchema.safeParse(rawSettings(deployment, env));
  if (!parsed.success) return parsed.error.issues.map((issue) => `${issue.path.join('.') || 'litellm_params'}: ${issue.message}`);
  try {
    vertexSettingsOf(deployment, env);
  } catch (error) {
    if (error instanceof CredentialsProblem) return [`vertex_credentials: ${error.message}`];
    if (error instanceof ProjectProblem) return [`vertex_project: ${error.message}`];
    throw error;
  }
  return [];
}

class ProjectProblem extends Error {}

export function vertexSettingsOf(deployment: Deployment, env: Environment = process.env): VertexSettings {
  const settings = vertexSettingsSchema.parse(rawSettings(deployment, env));
  const credentials = credentialsSourceOf(settings.vertex_credentials, env);
  const project = settings.vertex_project ?? projectOfCredentials(credentials) ?? nonEmpty(env.VERTEXAI_PROJECT) ?? nonEmpty(env.GOOGLE_CLOUD_PROJECT);
  if (project === undefined) throw new ProjectProblem('a vertex_ai deployment needs a project (vertex_project, the credentials\' project_id, or VERTEXAI_PROJECT)');
  const location = settings.vertex_location ?? DEFAULT_VERTEX_LOCATION;
  return {
    project,
    location,
    apiRoot: (settings.api_base ?? defaultApiRoot(location)).replace(/\/+$/, ''),
    credentials,
    staging: stagingOf(settings.gcs_bucket_name),
    gcsApiRoot: (settings.gcs_api_base ?? DEFAULT_GCS_API_ROOT).replace(/\/+$/, ''),
  };
}

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

function rawSettings(deployment: Deployment, env: Environment): Record<string, unknown> {
  const params = deployment.params;
  return {
    vertex_project: params.vertex_project ?? undefined,
    vertex_location: params.vertex_location ?? nonEmpty(env.VERTEXAI_LOCATION),
    vertex_credentials: params.vertex_credentials ?? undefined,
    api_base: deployment.apiBase,
    gcs_bucket_name: params.gcs_bucket_name ?? nonEmpty(env.GCS_BUCKET_NAME),
    gcs_api_base: params.gcs_api_base ?? undefined,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
