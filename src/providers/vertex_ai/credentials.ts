/**
 * Where a `vertex_ai/` deployment's Google credentials come from, as LiteLLM reads them:
 * `vertex_credentials` is a service-account key as JSON text, a path to a JSON key file, or the
 * key itself as a YAML mapping (an `os.environ/X` reference is already resolved by the config
 * loader); without it, the application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
 * then gcloud's well-known file or the metadata server, as google-auth-library finds them).
 * (https://cloud.google.com/docs/authentication/application-default-credentials)
 */
import { readFileSync } from 'node:fs';
import { isRecord } from '../gemini/json.ts';

/** The fields of a service-account key file Portico reads (https://cloud.google.com/iam/docs/keys-create-delete). */
export interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  /** The OAuth2 token endpoint the key is exchanged at; Google's is https://oauth2.googleapis.com/token. */
  token_uri?: string;
}

export type GoogleCredentialsSource =
  /** A service-account key: Portico signs its JWT assertion and exchanges it at the key's `token_uri`. */
  | { kind: 'service_account'; key: ServiceAccountKey; origin: string }
  /** Another credential file type (`authorized_user`, `external_account`, ...), handed to google-auth-library as is. */
  | { kind: 'other_json'; json: Record<string, unknown>; origin: string }
  /** No credentials configured: google-auth-library's application default credentials. */
  | { kind: 'application_default' };

/** Thrown with a message fit for the config error at `vertex_credentials`. */
export class CredentialsProblem extends Error {}

/**
 * The credentials source for `vertex_credentials` (or, when absent, `GOOGLE_APPLICATION_CREDENTIALS`
 * from `env`). Reads a key file synchronously: this runs at start, where a missing file is a
 * config error.
 */
export function credentialsSourceOf(value: unknown, env: NodeJS.ProcessEnv = process.env): GoogleCredentialsSource {
  if (value === undefined || value === null || value === '') {
    const path = env.GOOGLE_APPLICATION_CREDENTIALS;
    if (path === undefined || path === '') return { kind: 'application_default' };
    return sourceOfJson(readJsonFile(path, 'GOOGLE_APPLICATION_CREDENTIALS'), `GOOGLE_APPLICATION_CREDENTIALS (${path})`);
  }
  if (isRecord(value)) return sourceOfJson(value, 'vertex_credentials');
  if (typeof value !== 'string') throw new CredentialsProblem('must be a service-account key: JSON text, a path to a JSON key file, or a mapping');
  const text = value.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CredentialsProblem('looks like JSON but does not parse');
    }
    return sourceOfJson(json, 'vertex_credentials');
  }
  return sourceOfJson(readJsonFile(text, 'vertex_credentials'), `vertex_credentials (${text})`);
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CredentialsProblem(`${what}: cannot read '${path}' (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CredentialsProblem(`${what}: '${path}' is not JSON`);
  }
}

function sourceOfJson(json: unknown, origin: string): GoogleCredentialsSource {
  if (!isRecord(json)) throw new CredentialsProblem(`${origin} must be a JSON object`);
  if (json.type === 'service_account' || (json.type === undefined && typeof json.private_key === 'string')) {
    if (typeof json.client_email !== 'string' || json.client_email === '') throw new CredentialsProblem(`${origin}: a service-account key needs client_email`);
    if (typeof json.private_key !== 'string' || !json.private_key.includes('PRIVATE KEY')) throw new CredentialsProblem(`${origin}: a service-account key needs a PEM private_key`);
    if (json.token_uri !== undefined && (typeof json.token_uri !== 'string' || !/^https?:\/\//.test(json.token_uri))) {
      throw new CredentialsProblem(`${origin}: token_uri must be an http(s) URL`);
    }
    const key: ServiceAccountKey = {
      type: 'service_account',
      client_email: json.client_email,
      private_key: json.private_key,
      ...(typeof json.private_key_id === 'string' && { private_key_id: json.private_key_id }),
      ...(typeof json.project_id === 'string' && { project_id: json.project_id }),
      ...(typeof json.token_uri === 'string' && { token_uri: json.token_uri }),
    };
    return { kind: 'service_account', key, origin };
  }
  if (typeof json.type !== 'string') throw new CredentialsProblem(`${origin}: not a Google credentials file (no "type")`);
  return { kind: 'other_json', json, origin };
}

/** The project a credentials source names (`project_id` / `quota_project_id`), if any. */
export function projectOfCredentials(source: GoogleCredentialsSource): string | undefined {
  if (source.kind === 'service_account') return source.key.project_id;
  if (source.kind === 'other_json') {
    const project = source.json.project_id ?? source.json.quota_project_id;
    return typeof project === 'string' ? project : undefined;
  }
  return undefined;
}
