/**
 * Google's OAuth 2.0 token endpoint for service accounts, as documented at
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 * (docs/specs/vertex-ai.md §OAuth): `POST /token` with the form fields
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion=<JWT>`; the JWT is
 * RS256-signed by the service account's private key, its claims `iss` (the account's email),
 * `scope`, `aud` (https://oauth2.googleapis.com/token), `iat` and `exp` (at most an hour after
 * `iat`). The answer is `{"access_token", "expires_in", "token_type": "Bearer"}`; a refused
 * assertion is a 400 `{"error": "invalid_grant", "error_description"}`.
 *
 * The simulator holds one test key pair: it verifies assertions with the public key, issues
 * tokens that live `tokenLifetimeSeconds`, and tells the other routes whether a bearer token is
 * one it issued and still valid.
 */
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { randomBase62 } from '../common/ids.ts';
import type { SimReply, SimRequest } from '../common/simulator-server.ts';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
}

export class TokenAuthority {
  readonly clientEmail: string;
  readonly privateKeyId = randomBase62(40).toLowerCase();
  readonly #privateKeyPem: string;
  readonly #publicKey: KeyObject;
  readonly #tokens = new Map<string, { expiresAt: number; email: string }>();
  /** Seconds a new token lives. */
  tokenLifetimeSeconds: number;
  /** Tokens issued so far (each exchange counts). */
  issued = 0;

  constructor(options: { clientEmail: string; tokenLifetimeSeconds: number }) {
    this.clientEmail = options.clientEmail;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.#publicKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  }

  /** A key file for the test service account, its `token_uri` on this simulator. */
  keyFile(projectId: string, tokenUri: string): ServiceAccountKeyFile {
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: this.privateKeyId,
      private_key: this.#privateKeyPem,
      client_email: this.clientEmail,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
    };
  }

  /** `null` when the bearer token is one this authority issued and has not expired. */
  check(token: string | undefined): 'missing' | 'invalid' | 'expired' | null {
    if (token === undefined) return 'missing';
    const entry = this.#tokens.get(token);
    if (entry === undefined) return 'invalid';
    return Date.now() >= entry.expiresAt ? 'expired' : null;
  }

  /** Ends one token now. */
  expire(token: string): void {
    const entry = this.#tokens.get(token);
    if (entry !== undefined) entry.expiresAt = 0;
  }

  /** Ends every token now (a revocation, or the clock passing their expiry). */
  expireAll(): void {
    for (const entry of this.#tokens.values()) entry.expiresAt = 0;
  }

  tokenRoute(req: SimRequest): SimReply {
    const form = new URLSearchParams(req.body.toString('utf8'));
    if (form.get('grant_type') !== JWT_BEARER_GRANT) return invalidGrant('unsupported_grant_type', 'Invalid grant_type.');
    const assertion = form.get('assertion');
    if (assertion === null) return invalidGrant('invalid_request', 'Missing required parameter: assertion');
    const parts = assertion.split('.');
    if (parts.length !== 3) return invalidGrant('invalid_grant', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    const [headerPart, payloadPart, signaturePart] = parts;
    const header = decodeJson(headerPart);
    const claims = decodeJson(payloadPart);
    if (header === null || claims === null) return invalidGrant('invalid_grant', 'Invalid JWT: could not decode.');
    if (header.alg !== 'RS256') return invalidGrant('invalid_grant', 'Invalid JWT: unsupported algorithm.');
    const signed = verify('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`), this.#publicKey, Buffer.from(signaturePart, 'base64url'));
    if (!signed) return invalidGrant('invalid_grant', 'Invalid JWT Signature.');
    if (claims.iss !== this.clientEmail) return invalidGrant('invalid_grant', 'Invalid grant: account not found');
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) return invalidGrant('invalid_grant', 'Invalid JWT: aud must be https://oauth2.googleapis.com/token.');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= now || claims.iat > now + 60 || claims.exp - claims.iat > 3600) {
      return invalidGrant('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(CLOUD_PLATFORM_SCOPE)) return invalidGrant('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const token = `ya29.sim-${randomBase62(48)}`;
    this.#tokens.set(token, { expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000, email: this.clientEmail });
    this.issued += 1;
    return { status: 200, json: { access_token: token, expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' }, headers: { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' } };
  }
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function invalidGrant(error: string, description: string): SimReply {
  return { status: 400, json: { error, error_description: description } };
}

/** Google's answer to a missing, unknown or expired bearer token. */
export function unauthenticated(): SimReply {
  return {
    status: 401,
    json: {
      error: {
        code: 401,
        message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        status: 'UNAUTHENTICATED',
      },
    },
    headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  };
}
