/**
 * AWS credentials for one deployment, cached and refreshed before they expire.
 *
 * Where they come from (`settings.ts`): static keys (with or without a session token), else the
 * standard AWS chain of `@aws-sdk/credential-providers`' `fromNodeProviderChain` (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, profiles, SSO, container and instance roles); with
 * `aws_role_name`, those are the base for an STS AssumeRole (`fromTemporaryCredentials`), whose
 * answer expires (an hour by default).
 *
 * The cache answers the same credentials until `refreshMargin` before their expiration, then
 * fetches new ones, one fetch for all callers at once. Credentials with no expiration (static
 * keys, environment variables) are kept until a request proves them stale (an expired token or
 * an unrecognised key, `http-client.ts`), which drops them: the next request reads them anew.
 */
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { BedrockCredentialSettings } from './settings.ts';

export type AwsCredentials = AwsCredentialIdentity;

export interface AwsCredentialCache {
  credentials(): Promise<AwsCredentials>;
  /** Drops `stale` (when it is still the cached one): the next call fetches anew. */
  invalidate(stale: AwsCredentials): void;
}

/** Refresh this long before expiry at most (the SDK's own providers use five minutes). */
export const MAX_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * How long before expiry credentials are renewed: five minutes, or a quarter of their lifetime
 * when that is shorter (a short-lived session is not renewed on every request).
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(MAX_REFRESH_MARGIN_MS, Math.max(0, lifetimeMs) / 4);
}

export function createCredentialCache(fetch: AwsCredentialIdentityProvider, now: () => number = Date.now): AwsCredentialCache {
  let cached: { credentials: AwsCredentials; renewAt: number } | undefined;
  let inFlight: Promise<AwsCredentials> | undefined;

  async function fetchFresh(): Promise<AwsCredentials> {
    const fetchedAt = now();
    const credentials = await fetch();
    const expiresAt = credentials.expiration?.getTime();
    cached = { credentials, renewAt: expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - refreshMarginMs(expiresAt - fetchedAt) };
    return credentials;
  }

  return {
    async credentials() {
      if (cached !== undefined && now() < cached.renewAt) return cached.credentials;
      inFlight ??= fetchFresh().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate(stale) {
      if (cached?.credentials === stale) cached = undefined;
    },
  };
}

/** The provider the settings name; nothing is fetched until it is called. */
export function credentialProviderOf(settings: BedrockCredentialSettings, region: string): AwsCredentialIdentityProvider {
  const base: AwsCredentialIdentityProvider =
    settings.static !== undefined ? staticProvider(settings.static) : fromNodeProviderChain();
  const role = settings.role;
  if (role === undefined) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: {
      RoleArn: role.arn,
      RoleSessionName: role.sessionName,
      ...(role.externalId !== undefined && { ExternalId: role.externalId }),
    },
    clientConfig: { region, ...(role.stsEndpoint !== undefined && { endpoint: role.stsEndpoint }) },
  });
}

function staticProvider(keys: NonNullable<BedrockCredentialSettings['static']>): AwsCredentialIdentityProvider {
  const credentials: AwsCredentials = Object.freeze({ ...keys });
  return async () => credentials;
}
