/**
 * Turns a generated `FuzzCase` into the exact bytes of one HTTP request, resolving the ids it
 * refers to against what exists now (files and batches created so far, keys minted so far).
 */
import { Ref, toJsonText, uriEncode, type Resolve } from './hostile-json.ts';
import type { RawRequest } from './raw-http.ts';
import type { BodyMutation, FuzzCase, KeyName, PathSegment } from './request-arbitraries.ts';
import { multipartContentType, renderMultipart } from './upload-arbitraries.ts';

/** What the suite knows while it runs; the pools grow as requests succeed. */
export interface LiveWorld {
  keys: Record<KeyName, string>;
  files: string[];
  batches: string[];
  mintedKeys: string[];
  mintedTokens: string[];
}

export interface RenderedCase {
  request: RawRequest;
  /** The secret the request presents, when it is one of the suite's keys. */
  keyName: KeyName | null;
  /** The bytes of the (first) file part of an upload. */
  fileBytes: Buffer | null;
}

const FALLBACK: Record<Ref['kind'], string> = {
  file: 'file-0000000000000000000000000',
  batch: 'batch_0000000000000000000000000',
  'minted-key': 'sk-0000000000000000000000000000000000000000000',
  'minted-token': 'key_0000000000000000',
};

export function resolverFor(world: LiveWorld): Resolve {
  const pools: Record<Ref['kind'], string[]> = { file: world.files, batch: world.batches, 'minted-key': world.mintedKeys, 'minted-token': world.mintedTokens };
  return (ref) => {
    const pool = pools[ref.kind];
    return pool.length === 0 ? FALLBACK[ref.kind] : (pool[ref.pick % pool.length] as string);
  };
}

export function renderCase(value: FuzzCase, world: LiveWorld): RenderedCase {
  const resolve = resolverFor(world);
  if (value.rawHead !== null) {
    return { request: { method: value.method, target: '', headers: [], rawHead: Buffer.from(value.rawHead, 'latin1') }, keyName: null, fileBytes: null };
  }
  const segment = (part: PathSegment) => (part instanceof Ref ? uriEncode(resolve(part)) : part);
  const path = `${value.prefix}/${value.segments.map(segment).join('/')}`;
  const target = `${path.startsWith('/') ? path : `/${path}`}${renderQuery(value.query, resolve)}`;

  const headers: Array<[string, string]> = [];
  let keyName: KeyName | null = null;
  switch (value.auth.kind) {
    case 'key': {
      keyName = value.auth.key;
      const secret = world.keys[value.auth.key];
      if (value.auth.header !== 'api-key') headers.push(['authorization', `Bearer ${secret}`]);
      if (value.auth.header !== 'authorization') headers.push(['api-key', secret]);
      break;
    }
    case 'minted':
      headers.push(['authorization', `Bearer ${resolve(value.auth.ref)}`]);
      break;
    case 'raw':
      headers.push(...value.auth.headers);
      break;
    case 'none':
      break;
  }

  let body: Buffer | undefined;
  let fileBytes: Buffer | null = null;
  let autoType: string | null = null;
  switch (value.body.kind) {
    case 'json':
      body = mutate(Buffer.from(toJsonText(value.body.value, resolve)), value.body.mutation);
      autoType = 'application/json';
      break;
    case 'multipart': {
      const rendered = renderMultipart(value.body.spec, resolve);
      body = rendered.body;
      fileBytes = rendered.fileBytes;
      autoType = multipartContentType(value.body.spec);
      break;
    }
    case 'bytes':
      body = Buffer.from(value.body.bytes);
      autoType = 'application/json';
      break;
    case 'none':
      break;
  }
  const contentType = value.contentType === 'auto' ? autoType : value.contentType;
  if (contentType !== null) headers.push(['content-type', contentType]);
  headers.push(...value.headers.map(([name, text]) => [name, latin1Safe(text)] as [string, string]));
  if (value.contentLength !== null) headers.push(['content-length', value.contentLength]);

  return {
    request: {
      method: value.method,
      target,
      headers,
      body,
      chunked: value.chunked ?? undefined,
      version: value.version ?? undefined,
    },
    keyName,
    fileBytes,
  };
}

function renderQuery(query: FuzzCase['query'], resolve: Resolve): string {
  if (typeof query === 'string') return query;
  if (query.length === 0) return '';
  const encode = (text: string) => uriEncode(text);
  return `?${query.map(([name, item]) => `${encode(name)}=${encode(item instanceof Ref ? resolve(item) : item)}`).join('&')}`;
}

/** Header values go out as latin1: characters beyond it become `?` (never CR or LF: the generators make none). */
function latin1Safe(text: string): string {
  return text.replace(/[^\u0000-\u00ff]/g, '?').replace(/[\r\n]/g, ' ');
}

function mutate(bytes: Buffer, mutation: BodyMutation): Buffer {
  switch (mutation.kind) {
    case 'none':
      return bytes;
    case 'truncate':
      return bytes.subarray(0, Math.floor(bytes.length * mutation.keep));
    case 'invalid-utf8': {
      const at = Math.floor(bytes.length * mutation.at);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(mutation.bytes), bytes.subarray(at)]);
    }
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    case 'trailing':
      return Buffer.concat([bytes, Buffer.from(mutation.text)]);
  }
}
