/**
 * The few Cloud Storage JSON API calls batch staging needs, with the deployment's token
 * (https://cloud.google.com/storage/docs/json_api/v1/objects, `docs/specs/vertex-ai.md` §Cloud Storage):
 * a simple (`uploadType=media`) upload streamed with its length, a download (`alt=media`)
 * streamed out, a listing by prefix a page at a time, and a delete (a 404 counts as gone).
 * Object names are percent-encoded whole in paths, as the API requires.
 */
import { GatewayError } from '../../spec/errors.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import type { UpstreamBody } from '../http/request.ts';
import { isRecord } from '../gemini/json.ts';
import { readVertexJson, sendVertexRequest, type VertexEndpoint } from './http-client.ts';

export interface StoredObject {
  name: string;
  size: number;
}

export interface ObjectCallOptions {
  signal?: AbortSignal;
  requestId?: string;
}

const objectPath = (bucket: string, name: string) => `/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`;

/** `gs://bucket/name` */
export function gcsUri(bucket: string, name: string): string {
  return `gs://${bucket}/${name}`;
}

/** `gs://bucket/some/name` -> `{bucket, name}`; `null` for anything else. */
export function parseGcsUri(uri: string): { bucket: string; name: string } | null {
  const match = /^gs:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return match === null ? null : { bucket: match[1], name: match[2] };
}

export async function uploadObject(
  storage: VertexEndpoint,
  input: { bucket: string; name: string; contentType: string; bytes: number; chunks: () => AsyncIterable<Uint8Array> } & ObjectCallOptions,
): Promise<StoredObject> {
  const response = await sendVertexRequest(storage, {
    method: 'POST',
    target: `/upload/storage/v1/b/${encodeURIComponent(input.bucket)}/o?uploadType=media&name=${encodeURIComponent(input.name)}`,
    what: 'object upload',
    // Produced afresh on each send: a request repeated with a new token streams the object again.
    body: { [Symbol.asyncIterator]: () => input.chunks()[Symbol.asyncIterator]() },
    contentType: input.contentType,
    contentLength: input.bytes,
    signal: input.signal,
    requestId: input.requestId,
    totalDeadline: false,
  });
  return objectOf(await readVertexJson(response, storage, 'object upload'), storage);
}

/** The object's bytes, streamed. */
export async function downloadObject(storage: VertexEndpoint, bucket: string, name: string, options: ObjectCallOptions = {}): Promise<UpstreamBody> {
  const response = await sendVertexRequest(storage, {
    method: 'GET',
    target: `${objectPath(bucket, name)}?alt=media`,
    what: 'object download',
    accept: '*/*',
    signal: options.signal,
    requestId: options.requestId,
    totalDeadline: false,
  });
  return response.body;
}

/** Every object whose name starts with `prefix`, in name order (the API's). */
export async function* listObjects(storage: VertexEndpoint, bucket: string, prefix: string, options: ObjectCallOptions = {}): AsyncGenerator<StoredObject> {
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ prefix, ...(pageToken !== undefined && { pageToken }) });
    const response = await sendVertexRequest(storage, {
      method: 'GET',
      target: `/storage/v1/b/${encodeURIComponent(bucket)}/o?${query}`,
      what: 'object listing',
      signal: options.signal,
      requestId: options.requestId,
      totalDeadline: true,
    });
    const page = await readVertexJson(response, storage, 'object listing');
    if (!isRecord(page)) throw badUpstreamResponse('Cloud Storage answered the object listing with something that is not a list.', { deploymentId: storage.deploymentId, isRetryable: true });
    for (const item of Array.isArray(page.items) ? page.items : []) yield objectOf(item, storage);
    pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken !== '' ? page.nextPageToken : undefined;
  } while (pageToken !== undefined);
}

export async function deleteObject(storage: VertexEndpoint, bucket: string, name: string, options: ObjectCallOptions = {}): Promise<void> {
  try {
    const response = await sendVertexRequest(storage, { method: 'DELETE', target: objectPath(bucket, name), what: 'object delete', signal: options.signal, requestId: options.requestId, totalDeadline: true });
    await response.body.dump();
  } catch (error) {
    if (error instanceof GatewayError && error.httpStatus === 404) return;
    throw error;
  }
}

function objectOf(body: unknown, storage: VertexEndpoint): StoredObject {
  if (!isRecord(body) || typeof body.name !== 'string') {
    throw badUpstreamResponse(`${storage.upstreamName} answered with something that is not an object resource.`, { deploymentId: storage.deploymentId, isRetryable: false });
  }
  const size = typeof body.size === 'string' ? Number(body.size) : typeof body.size === 'number' ? body.size : 0;
  return { name: body.name, size };
}
