/**
 * The simulator's IAM: access keys it knows (long-term `AKIA...` keys and the `ASIA...` session
 * credentials STS issued, each with its token and expiry), SigV4 verification of every request
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html,
 * docs/specs/bedrock.md §Signature Version 4), and STS `AssumeRole` (awsQuery: a form POST to `/`,
 * an XML answer; https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
 *
 * A request is refused with 403 as AWS does: no `Authorization` (MissingAuthenticationToken), an
 * unknown key or a token that is not the key's (UnrecognizedClient), an expired session
 * (ExpiredToken), a signature that does not match, a date more than 5 minutes off, a scope of
 * another region or service, a body whose SHA-256 is not the signed one (InvalidSignature).
 * Verification recomputes the signature with `@smithy/signature-v4` over the headers the client
 * says it signed, from the raw path and the bytes received.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SimReply, SimRequest } from '../common/simulator-server.ts';
import { awsError } from './errors.ts';

export const SIMULATOR_ACCOUNT = '123456789012';

export interface StoredCredential {
  secretAccessKey: string;
  sessionToken?: string;
  /** ms since the epoch; absent for long-term keys. */
  expiresAt?: number;
}

export interface VerifiedCaller {
  accessKeyId: string;
  region: string;
  service: string;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60_000;

export class SimulatedIam {
  readonly keys = new Map<string, StoredCredential>();
  /** Seconds a session from AssumeRole lives (AWS: 900 to 43200, default 3600). */
  sessionLifetimeSeconds = 3600;
  assumeRoleCalls = 0;
  rejected: { reason: string; accessKeyId?: string }[] = [];

  /** A long-term key pair (`AKIA...`). */
  createAccessKey(): { accessKeyId: string; secretAccessKey: string } {
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    this.keys.set(accessKeyId, { secretAccessKey });
    return { accessKeyId, secretAccessKey };
  }

  /** Session credentials (`ASIA...`) as STS issues them, expiring in `lifetimeSeconds`. */
  createSession(lifetimeSeconds = this.sessionLifetimeSeconds): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date } {
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    const sessionToken = `IQoJb3JpZ2luX2VjE${randomBytes(48).toString('base64')}`;
    const expiresAt = Date.now() + lifetimeSeconds * 1000;
    this.keys.set(accessKeyId, { secretAccessKey, sessionToken, expiresAt });
    return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt) };
  }

  /** Ends every session now. */
  expireSessions(): void {
    for (const stored of this.keys.values()) if (stored.expiresAt !== undefined) stored.expiresAt = Date.now() - 1;
  }

  /** `null` and the caller when the request is signed right for `service` in `region`; the refusal otherwise. */
  async verify(req: SimRequest, expected: { region: string; service: string }): Promise<{ caller: VerifiedCaller } | { refusal: SimReply }> {
    const refuse = (type: string, message: string, accessKeyId?: string) => {
      this.rejected.push({ reason: type, accessKeyId });
      return { refusal: awsError(type, message) };
    };
    const authorization = String(req.headers.authorization ?? '');
    if (authorization === '') return refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const match = AUTH.exec(authorization);
    if (match === null) return refuse('IncompleteSignatureException', `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.`);
    const [, accessKeyId, day, region, service, signedList, signature] = match;
    const stored = this.keys.get(accessKeyId);
    const token = header(req, 'x-amz-security-token');
    if (stored === undefined || (stored.sessionToken !== undefined && token !== stored.sessionToken) || (stored.sessionToken === undefined && token !== undefined)) {
      return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.', accessKeyId);
    }
    if (stored.expiresAt !== undefined && Date.now() >= stored.expiresAt) return refuse('ExpiredTokenException', 'The security token included in the request is expired', accessKeyId);
    const amzDate = header(req, 'x-amz-date') ?? '';
    const signedAt = parseAmzDate(amzDate);
    if (signedAt === null || !amzDate.startsWith(day)) return refuse('IncompleteSignatureException', 'Date must be in ISO-8601 basic format and match the credential scope.', accessKeyId);
    if (Math.abs(Date.now() - signedAt.getTime()) > MAX_SKEW_MS) return refuse('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than the allowed skew.`, accessKeyId);
    if (region !== expected.region || service !== expected.service) {
      return refuse('InvalidSignatureException', `Credential should be scoped to a valid region and to the correct service: '${expected.service}' in '${expected.region}'.`, accessKeyId);
    }
    const signedNames = signedList.split(';');
    if (!signedNames.includes('host')) return refuse('InvalidSignatureException', "'Host' must be a signed header.", accessKeyId);
    const payloadHash = header(req, 'x-amz-content-sha256');
    const bodyHash = createHash('sha256').update(req.body).digest('hex');
    if (payloadHash !== undefined && payloadHash !== bodyHash) return refuse('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.', accessKeyId);
    const headers: Record<string, string> = {};
    for (const name of signedNames) headers[name] = header(req, name) ?? '';
    const hostname = headers.host.replace(/:\d+$/, '');
    const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey: stored.secretAccessKey }, region, service, sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
    const expectedRequest = await signer.sign(
      { method: req.method, protocol: 'https:', hostname, path: req.path, query: { ...req.query }, headers, body: req.body },
      { signingDate: signedAt, signableHeaders: new Set(signedNames) },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(String(expectedRequest.headers.authorization))?.[1];
    if (expectedSignature !== signature) {
      return refuse(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        accessKeyId,
      );
    }
    return { caller: { accessKeyId, region, service } };
  }

  /** STS AssumeRole, awsQuery: `Action=AssumeRole&RoleArn=...&RoleSessionName=...`. */
  assumeRole(req: SimRequest): SimReply {
    const form = new URLSearchParams(req.body.toString('utf8'));
    if (form.get('Action') !== 'AssumeRole') return stsError(400, 'InvalidAction', `Could not find operation ${form.get('Action') ?? ''} for version 2011-06-15`);
    const roleArn = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    const role = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn);
    if (role === null || role[1] !== SIMULATOR_ACCOUNT) return stsError(403, 'AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) return stsError(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
    this.assumeRoleCalls += 1;
    const session = this.createSession();
    const requestId = crypto.randomUUID();
    const xml =
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
      `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${session.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${session.sessionToken}</SessionToken><Expiration>${session.expiration.toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}:${sessionName}</AssumedRoleId>` +
      `<Arn>arn:aws:sts::${SIMULATOR_ACCOUNT}:assumed-role/${role[2]}/${sessionName}</Arn></AssumedRoleUser>` +
      `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
    return { status: 200, raw: xml, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId } };
  }
}

export function stsError(status: number, code: string, message: string): SimReply {
  const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`;
  return { status, raw: xml, headers: { 'content-type': 'text/xml' } };
}

function header(req: SimRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `20240101T120000Z` -> a Date. */
function parseAmzDate(text: string): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return match === null ? null : new Date(Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6]));
}
