/**
 * AWS credentials for one deployment, cached and refreshed before they expire.
 *
 * Where they come from (`settings.ts`): static keys (with or without a session token), else the
 * standard AWS chain of `@aws-sdk/credential-providers`' `fromNodeProviderChain` (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, profiles, SSO, container and instance roles); with
 * `aws_role_name`, those are the base for an STS AssumeRole (`fromTemporaryCredentials`), whose
 * answer expires (an hour by default).
 *
 * The shared token cache (`../http/token-cache.ts`) holds them: one fetch for all callers at once,
 * renewed five minutes before their expiration (or at three quarters of a short life).
 * Credentials with no expiration (static keys, environment variables) are kept until a request
 * proves them stale (an expired token or an unrecognised key, `http-client.ts`), which drops them:
 * the next request reads them anew.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { createTokenCache, type TokenCache } from '../http/token-cache.ts';
import type { BedrockCredentialSettings } from './settings.ts';

export type AwsCredentials = AwsCredentialIdentity;
export type AwsCredentialCache = TokenCache<AwsCredentials>;

export function createCredentialCache(fetch: AwsCredentialIdentityProvider, now?: () => number): AwsCredentialCache {
  return createTokenCache(
    async () => {
      const credentials = await fetch();
      return { value: credentials, expiresAt: credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY };
    },
    { what: 'set of AWS credentials', ...(now !== undefined && { now }) },
  );
}

/**
 * The provider the settings name; nothing is fetched until it is called, and
 * `@aws-sdk/credential-providers` is loaded then (not at start).
 */
export function credentialProviderOf(settings: BedrockCredentialSettings, region: string): AwsCredentialIdentityProvider {
  let provider: Promise<AwsCredentialIdentityProvider> | undefined;
  return async () => {
    provider ??= import('@aws-sdk/credential-providers').then(({ fromNodeProviderChain, fromTemporaryCredentials }) => {
      const base: AwsCredentialIdentityProvider = settings.static !== undefined ? staticProvider(settings.static) : fromNodeProviderChain();
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
    });
    return (await provider)();
  };
}

function staticProvider(keys: NonNullable<BedrockCredentialSettings['static']>): AwsCredentialIdentityProvider {
  return async () => ({ ...keys });
}
