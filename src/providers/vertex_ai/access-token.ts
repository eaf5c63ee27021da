/**
 * OAuth2 access tokens for Google APIs, cached and refreshed before they expire
 * (https://developers.google.com/identity/protocols/oauth2/service-account#httprest).
 *
 * google-auth-library does the credential work: it signs a service account's JWT assertion
 * (RS256, scope cloud-platform) and exchanges it, and it handles the other credential types and
 * the metadata server. Two things are Portico's: the exchange goes to the key's own `token_uri`
 * (the library posts every assertion to https://oauth2.googleapis.com/token whatever the key
 * says; Google's Python library and the key file format honour `token_uri`), and the cache:
 * one token per deployment, refreshed once (not by every caller at once) when less than a
 * quarter of its life, at most five minutes, is left, and dropped when Google refuses it.
 */
import type { GoogleAuth } from 'google-auth-library';
import { UpstreamCredentialsError } from '../../spec/errors.ts';
import { createTokenCache, type TokenCache } from '../http/token-cache.ts';
import type { GoogleCredentialsSource, ServiceAccountKey } from './credentials.ts';

/**
 * Loaded with the first token a deployment needs, not at start: the library and its
 * dependencies hold about 24 MB of memory, which a gateway without `vertex_ai/` deployments
 * should not carry.
 */
let googleAuthLibrary: Promise<typeof import('google-auth-library')> | undefined;
const loadGoogleAuth = () => (googleAuthLibrary ??= import('google-auth-library'));

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export interface AccessToken {
  token: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

/** Fetches a new token each call (no caching here). */
export type AccessTokenFetcher = () => Promise<AccessToken>;

/**
 * A deployment's tokens, cached by the shared token cache (`../http/token-cache.ts`): refreshed
 * once for every caller, five minutes (at most a quarter of their life) before they expire.
 */
export function createAccessTokenCache(fetch: AccessTokenFetcher, now: () => number = Date.now): TokenCache<string> {
  return createTokenCache(
    async () => {
      const fetched = await fetch();
      return { value: fetched.token, expiresAt: fetched.expiresAt };
    },
    { what: 'Google access token', now },
  );
}

/** The fetcher for a deployment's credentials source. */
export function accessTokenFetcherOf(source: GoogleCredentialsSource): AccessTokenFetcher {
  if (source.kind === 'service_account') return () => serviceAccountToken(source.key);
  let auth: GoogleAuth | undefined;
  return async () => {
    try {
      if (auth === undefined) {
        const { GoogleAuth } = await loadGoogleAuth();
        auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE], ...(source.kind === 'other_json' && { credentials: source.json }) });
      }
      const client = await auth.getClient();
      const { token } = await client.getAccessToken();
      if (!token) throw new Error('no access token was returned');
      const expiry = client.credentials.expiry_date;
      return { token, expiresAt: typeof expiry === 'number' ? expiry : Date.now() + 3_600_000 };
    } catch (error) {
      throw tokenError(error);
    }
  };
}

async function serviceAccountToken(key: ServiceAccountKey): Promise<AccessToken> {
  // A fresh client per exchange: the library's own cache would hand back the token being replaced.
  const { JWT } = await loadGoogleAuth();
  const client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: [CLOUD_PLATFORM_SCOPE] });
  const tokenUri = key.token_uri;
  if (tokenUri !== undefined && tokenUri !== GOOGLE_TOKEN_URL) {
    client.transporter.interceptors.request.add({
      resolved: async (options) => {
        if (options.url.href === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
        return options;
      },
    });
  }
  try {
    const tokens = await client.authorize();
    if (!tokens.access_token) throw new Error('the token endpoint answered no access_token');
    return { token: tokens.access_token, expiresAt: tokens.expiry_date ?? Date.now() + 3_600_000 };
  } catch (error) {
    throw tokenError(error);
  }
}

/**
 * A refused credential (the token endpoint's 4xx) is a 401 for the client, as an invalid API key
 * is; anything else (the endpoint unreachable or failing) is a retryable 503.
 */
function tokenError(error: unknown): Error {
  const status = (error as { status?: unknown; response?: { status?: unknown } }).status ?? (error as { response?: { status?: unknown } }).response?.status;
  const detail = error instanceof Error ? error.message : String(error);
  if (typeof status === 'number' && status >= 400 && status < 500 && status !== 429) {
    return new UpstreamCredentialsError(`Google refused the deployment's credentials: ${detail}`, { refused: true, cause: error });
  }
  return new UpstreamCredentialsError(`Google's token endpoint could not be reached for an access token: ${detail}`, { refused: false, cause: error });
}
