/**
 * AWS Signature Version 4 for Bedrock's requests, with `@smithy/signature-v4` (the AWS SDK's own
 * signer) and `@smithy/hash-node`'s SHA-256 (`Hash('sha256')`, as the SDK builds it): the one
 * place a request is signed, as the shared senders' per-request authorizer (`RequestAuthorizer`,
 * `../http/request-auth.ts`), which hands it the exact bytes sent
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html,
 * `docs/specs/bedrock.md` §Signature Version 4). Both Bedrock APIs sign as service `bedrock`
 * (the service models' `aws.auth#sigv4` name), in the deployment's region.
 *
 * The signature covers the method, the path (percent-encoded once on the wire, twice in the
 * canonical request, as for every service but S3), the query, the `host`, `x-amz-date`,
 * `x-amz-security-token` and `x-amz-content-sha256` headers and the body's SHA-256.
 */
import type { RequestAuthorizer } from '../http/request-auth.ts';
import type { AwsCredentials } from './credentials.ts';

export const BEDROCK_SIGNING_SERVICE = 'bedrock';

export interface RequestToSign {
  method: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
}

/** The headers SigV4 adds: `authorization`, `x-amz-date`, `x-amz-content-sha256` (and the session token). */
export async function signatureHeaders(request: RequestToSign, credentials: AwsCredentials, scope: { region: string; service?: string }, signingDate?: Date): Promise<Record<string, string>> {
  const url = new URL(request.url);
  // Loaded on the first signature, not at start (Portico without Bedrock never loads them).
  const [{ SignatureV4 }, { Hash }] = await Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]);
  const signer = new SignatureV4({ credentials, region: scope.region, service: scope.service ?? BEDROCK_SIGNING_SERVICE, sha256: Hash.bind(null, 'sha256'), applyChecksum: true });
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== '' && { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers: { ...request.headers, host: url.host },
      ...(request.body !== undefined && { body: request.body }),
    },
    signingDate === undefined ? {} : { signingDate },
  );
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    const lower = name.toLowerCase();
    // `host` is signed as the origin's, which is what the agent sends; it is not set by hand.
    if (lower !== 'host' && request.headers[lower] === undefined) added[lower] = String(value);
  }
  return added;
}

/**
 * Signs a request with `credentials` (one attempt's: `http-client.ts` drops them and tries once
 * more with fresh ones when AWS refuses them as stale).
 */
export function sigv4Auth(credentials: AwsCredentials, region: string): RequestAuthorizer {
  return {
    authorize: (request) => signatureHeaders({ method: request.method, url: request.url, headers: request.headers, body: request.body }, credentials, { region }),
  };
}
