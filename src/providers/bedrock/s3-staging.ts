/**
 * The S3 objects a batch job reads and writes, through `@aws-sdk/client-s3`: the input JSONL
 * streamed up with its length, the output streamed down, an input deleted when its job was
 * refused. Credentials are the deployment's (the same cache as its Bedrock calls) unless
 * `s3_access_key_id` names others; `s3_endpoint_url` sends path-style requests there (MinIO, an
 * emulator). S3's failures become Portico's errors with S3's status. The SDK is loaded on the
 * first batch, not at start: Portico without Bedrock batches never pays for it.
 */
import { Readable } from 'node:stream';
import { UpstreamConnectionError, UpstreamError } from '../../spec/errors.ts';
import type { AwsCredentialCache } from './credentials.ts';
import type { BedrockBatchSettings } from './settings.ts';

export interface ObjectStaging {
  put(input: { key: string; bytes: number; chunks: () => AsyncIterable<Uint8Array>; signal?: AbortSignal }): Promise<void>;
  /** The object's bytes, streamed; a missing object is a 404 `UpstreamError`. */
  get(key: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
  /** A missing object counts as deleted. */
  delete(key: string): Promise<void>;
}

/** `s3://bucket/key` */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** `s3://bucket/some/key` -> `{bucket, key}`; `null` for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | null {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return match === null ? null : { bucket: match[1], key: match[2] };
}

type S3Module = typeof import('@aws-sdk/client-s3');

export function createObjectStaging(settings: BedrockBatchSettings, credentials: AwsCredentialCache, deploymentId: string): ObjectStaging {
  let loaded: Promise<{ sdk: S3Module; client: InstanceType<S3Module['S3Client']> }> | undefined;
  const s3 = () =>
    (loaded ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: settings.s3.region,
        ...(settings.s3.endpoint !== undefined && { endpoint: settings.s3.endpoint, forcePathStyle: true }),
        // Fresh objects: the SDK records on credentials where they came from, and settings are frozen.
        credentials: async () => {
          const keys = settings.s3.credentials ?? (await credentials.get());
          return { ...keys };
        },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    })));
  const bucket = settings.bucket;
  return {
    async put({ key, bytes, chunks, signal }) {
      const { sdk, client } = await s3();
      await s3Call(sdk, 'object upload', deploymentId, () =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: Readable.from(chunks()),
            ContentLength: bytes,
            ContentType: 'application/jsonl',
            ...(settings.kmsKeyId !== undefined && { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: settings.kmsKeyId }),
          }),
          { abortSignal: signal },
        ),
      );
    },
    async get(key, signal) {
      const { sdk, client } = await s3();
      const answer = await s3Call(sdk, 'object download', deploymentId, () => client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }));
      return answer.Body as unknown as AsyncIterable<Uint8Array>;
    },
    async delete(key) {
      const { sdk, client } = await s3();
      await s3Call(sdk, 'object delete', deploymentId, () => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })));
    },
  };
}

async function s3Call<T>(sdk: S3Module, what: string, deploymentId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof sdk.S3ServiceException) {
      const status = error.$metadata.httpStatusCode ?? 502;
      throw new UpstreamError(
        status >= 400 ? status : 502,
        { message: `Amazon S3 refused the batch ${what}: ${error.message}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: error.name },
        { deploymentId },
      );
    }
    throw new UpstreamConnectionError(`Amazon S3 could not be reached for the batch ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
