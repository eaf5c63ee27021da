/**
 * One fuzz case: a request to one of Portico's routes (README "Endpoints"), or to none, with
 * hostile variations of every part: method, `/v1` prefix, path ids, query string (repeated keys,
 * arrays, huge numbers, bad escapes), key headers, other headers (duplicates, odd framing),
 * JSON bodies (wrong types, deep nesting, huge strings, `__proto__` keys, invalid UTF-8,
 * truncation) and multipart uploads. `render-case.ts` turns a case into bytes.
 */
import fc from 'fast-check';
import { anyJson, deeplyNested, fieldValue, hugeString, objectWith, oddNumber, oddString, Raw, Ref, uriEncode, type RefKind } from './hostile-json.ts';
import { multipartUpload, type MultipartSpec, type UploadWorldModels } from './upload-arbitraries.ts';

export type KeyName = 'master' | 'owner' | 'restricted' | 'limited' | 'other-owner';

export type AuthSpec =
  | { kind: 'key'; key: KeyName; header: 'authorization' | 'api-key' | 'both' }
  | { kind: 'minted'; ref: Ref }
  | { kind: 'none' }
  | { kind: 'raw'; headers: Array<[string, string]> };

export type BodyMutation =
  | { kind: 'none' }
  | { kind: 'truncate'; keep: number }
  | { kind: 'invalid-utf8'; at: number; bytes: readonly number[] }
  | { kind: 'bom' }
  | { kind: 'trailing'; text: string };

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; mutation: BodyMutation }
  | { kind: 'multipart'; spec: MultipartSpec }
  | { kind: 'bytes'; bytes: Uint8Array };

export type PathSegment = string | Ref;

export interface FuzzCase {
  /** The route family, for the report. */
  family: string;
  method: string;
  /** `/v1`, `` or something odd, before the segments. */
  prefix: string;
  segments: PathSegment[];
  /** Name/value pairs (percent-encoded when written) or a raw query string (`?...`). */
  query: Array<[string, PathSegment]> | string;
  auth: AuthSpec;
  headers: Array<[string, string]>;
  /** `auto`: what the body calls for. */
  contentType: string | null | 'auto';
  body: BodySpec;
  /** Body in chunks of this size (`transfer-encoding: chunked`). */
  chunked: number | null;
  /**
   * A content-length that is not the body's: zero, negative, not a number. Never larger than the
   * body: the server would rightly wait for the rest (until its body timeout).
   */
  contentLength: string | null;
  version: string | null;
  /** Bytes of a whole malformed request head (the rest of the case is then ignored). */
  rawHead: string | null;
}

export interface CaseWorld {
  models: UploadWorldModels;
  /** Every configured model group. */
  groups: readonly string[];
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const idSegment = (kind: RefKind): fc.Arbitrary<PathSegment> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.nat(50).map((pick) => new Ref(kind, pick)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        kind === 'batch' ? 'batch_0000000000000000000000000' : 'file-0000000000000000000000000',
        kind === 'batch' ? 'batch_' : 'file-',
        'file-abc',
        'batch_abc',
        '..',
        '%2e%2e',
        '%2F',
        'a%2Fb',
        '%00',
        '%zz',
        '%',
        'x'.repeat(10_000),
        '%E2%82%AC',
        '%C3%28',
        '%FF',
        '0',
        '-1',
        'null',
        '__proto__',
        'constructor',
      ),
    },
    { weight: 1, arbitrary: oddString.map((text) => uriEncode(text)) },
  );

const oddQueryValue: fc.Arbitrary<PathSegment> = fc.oneof(
  fc.constantFrom('', '0', '1', '-1', '20', '100', '101', '10000', '10001', '1e3', '1.5', ' 1', '1 ', '+1', '0x10', 'NaN', 'Infinity', '99999999999999999999999', '-99999999999999999999999', 'asc', 'desc', 'ASC', 'batch', 'batch_output', 'assistants', 'true', 'x'.repeat(10_000)),
  fc.nat(50).map((pick) => new Ref('file', pick)),
  fc.nat(50).map((pick) => new Ref('batch', pick)),
  oddString,
);

function queryFor(names: readonly string[]): fc.Arbitrary<FuzzCase['query']> {
  const pairs = fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom('limit[]', 'limit[a]', 'purpose[0]', '__proto__', 'constructor', '', 'x'.repeat(5_000)) }, { weight: 1, arbitrary: oddString }), oddQueryValue), { maxLength: 4 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as Array<[string, PathSegment]>) },
    { weight: 6, arbitrary: pairs },
    { weight: 1, arbitrary: fc.constantFrom('?', '?&', '?=', '?%', '?a=%zz', '?limit=%00', '?%zz=1', '??', '?limit=1&limit=2', '?purpose=a&purpose=b', '?order=asc&order=desc', '?after=&after=', '?a=1#frag', '?' + 'a=1&'.repeat(2_000)) },
  );
}

const keyAuth: fc.Arbitrary<AuthSpec> = fc.record({
  kind: fc.constant('key' as const),
  key: fc.oneof({ weight: 5, arbitrary: fc.constant('master' as const) }, { weight: 4, arbitrary: fc.constant('owner' as const) }, { weight: 1, arbitrary: fc.constantFrom('restricted' as const, 'limited' as const, 'other-owner' as const) }),
  header: fc.oneof({ weight: 8, arbitrary: fc.constant('authorization' as const) }, { weight: 1, arbitrary: fc.constantFrom('api-key' as const, 'both' as const) }),
});

const rawAuth: fc.Arbitrary<AuthSpec> = fc
  .constantFrom<Array<[string, string]>>(
    [['authorization', 'Bearer']],
    [['authorization', 'Bearer ']],
    [['authorization', 'bearer sk-nope']],
    [['authorization', 'Basic dXNlcjpwYXNz']],
    [['authorization', 'Bearer sk-' + 'x'.repeat(10_000)]],
    [['authorization', 'Bearer \u00e9\u00e9\u00e9']],
    [['authorization', 'Bearer sk-a'], ['authorization', 'Bearer sk-b']],
    [['authorization', 'Bearer sk-a'], ['api-key', 'sk-b']],
    [['api-key', '']],
    [['authorization', 'Bearer key_0000000000000000']],
  )
  .map((headers) => ({ kind: 'raw' as const, headers }));

const auth: fc.Arbitrary<AuthSpec> = fc.oneof(
  { weight: 12, arbitrary: keyAuth },
  { weight: 1, arbitrary: fc.nat(20).map((pick) => ({ kind: 'minted' as const, ref: new Ref('minted-key', pick) })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: rawAuth },
);

const headerValue = fc.oneof(
  fc.constantFrom('', ' ', 'x'.repeat(8_000), '\u00e9', 'gzip', '*/*', '0', '-1'),
  fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_.;=/"\'\\,:\t'.split('')), maxLength: 30 }),
);

const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.oneof(
    fc.tuple(fc.constantFrom('x-request-id', 'accept', 'accept-encoding', 'content-encoding', 'x-forwarded-for', 'user-agent', 'openai-organization', 'x-stainless-retry-count', 'cookie', 'origin'), headerValue),
    fc.constantFrom<[string, string]>(['content-type', 'application/json'], ['content-type', 'text/plain'], ['expect', '100-continue'], ['x-request-id', 'x'.repeat(300)], ['x-request-id', 'req_\u00ff'], ['upgrade', 'websocket'], ['connection', 'keep-alive'], ['content-encoding', 'gzip']),
  ),
  { maxLength: 3 },
);

const jsonContentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant<FuzzCase['contentType']>('auto') },
  { weight: 1, arbitrary: fc.constantFrom<FuzzCase['contentType']>(null, 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonl', '*/*', '', 'application/json, text/plain', 'application/vnd.api+json') },
);

const mutation: fc.Arbitrary<BodyMutation> = fc.oneof(
  { weight: 16, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((keep) => ({ kind: 'truncate' as const, keep })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x00]) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
  { weight: 1, arbitrary: fc.constantFrom('x', '}', ' ', '\n{}', '\u0000').map((text) => ({ kind: 'trailing' as const, text })) },
);

function jsonBody(value: fc.Arbitrary<unknown>): fc.Arbitrary<BodySpec> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.record({ kind: fc.constant('json' as const), value, mutation }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.oneof(anyJson, deeplyNested, hugeString), mutation }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  );
}

interface Family {
  name: string;
  weight: number;
  method: string;
  v1: boolean;
  segments: fc.Arbitrary<PathSegment[]>;
  query?: readonly string[];
  body?: fc.Arbitrary<BodySpec>;
}

function families(world: CaseWorld): Family[] {
  const group = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...world.groups) }, { weight: 1, arbitrary: fc.constantFrom('gpt-unknown', '', 'MOCK-CHAT', 'mock-chat ', 'openai/gpt-4o', '../mock-chat') }, { weight: 1, arbitrary: oddString });
  const chatGroup = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...world.models.chat) }, { weight: 2, arbitrary: group });
  const message = objectWith(
    {
      role: fc.oneof({ weight: 6, arbitrary: fc.constant('user') }, { weight: 2, arbitrary: fc.constantFrom('system', 'assistant', 'tool', 'developer', 'function', 'USER', '') }),
      content: fc.oneof(
        { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
        { weight: 1, arbitrary: fc.constant([{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'data:,' } }]) },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
      name: oddString,
      tool_calls: anyJson,
    },
    { required: ['role', 'content'] },
  );
  const messages = fc.oneof({ weight: 8, arbitrary: fc.array(fieldValue(message), { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.constant({ role: 'user', content: 'x' }), { minLength: 500, maxLength: 2_000 }) });
  const stream = fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: anyJson });
  const chatBody = objectWith(
    {
      model: fieldValue(chatGroup),
      messages: fieldValue(messages),
      stream: stream,
      stream_options: fieldValue(objectWith({ include_usage: fieldValue(fc.boolean()) })),
      max_tokens: fieldValue(oddNumber),
      temperature: fieldValue(oddNumber),
      n: fieldValue(oddNumber),
      tools: anyJson,
      response_format: anyJson,
    },
    { required: ['model', 'messages'] },
  );
  const embeddingsBody = objectWith(
    {
      model: fieldValue(fc.oneof(fc.constantFrom(...world.models.embeddings), group)),
      input: fieldValue(fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fc.array(fc.array(fc.nat(), { maxLength: 4 }), { maxLength: 2 }), fc.constant([]))),
      encoding_format: fieldValue(fc.constantFrom('float', 'base64', 'hex')),
      dimensions: fieldValue(oddNumber),
    },
    { required: ['model', 'input'] },
  );
  const responsesBody = objectWith(
    {
      model: fieldValue(chatGroup),
      input: fieldValue(fc.oneof(fc.string({ maxLength: 30 }), fc.constant([{ role: 'user', content: 'hi' }]))),
      stream,
      instructions: fieldValue(fc.string({ maxLength: 10 })),
    },
    { required: ['model'] },
  );
  const duration = fc.oneof(fc.constantFrom('30s', '30m', '1h', '30d', '2w', '1mo', '1y', '1000y', '1001y', '300000y', '0s', '-1d', '1e9d', '999999999y', '1.5h', '30', 'd', ' 30d ', '30D', ''), oddString);
  const generateKeyBody = objectWith({
    models: fieldValue(fc.array(group, { maxLength: 3 })),
    user_id: fieldValue(fc.constantFrom('fuzz-user', 'fuzz-other', 'x'.repeat(257))),
    team_id: fieldValue(fc.constantFrom('fuzz-team', '')),
    key_alias: fieldValue(fc.string({ maxLength: 20 })),
    duration: fieldValue(duration),
    metadata: fieldValue(fc.dictionary(oddString, anyJson, { maxKeys: 3 })),
    rpm_limit: fieldValue(oddNumber),
    tpm_limit: fieldValue(oddNumber),
    max_budget: oddNumber,
  });
  const keyList = fc.array(fc.oneof(fc.nat(20).map((pick) => new Ref('minted-key', pick)), fc.nat(20).map((pick) => new Ref('minted-token', pick)), oddString), { maxLength: 3 });
  const deleteKeysBody = objectWith({ keys: fieldValue(keyList) }, { required: ['keys'] });
  const fileRef = fc.oneof({ weight: 6, arbitrary: fc.nat(50).map((pick) => new Ref('file', pick)) }, { weight: 1, arbitrary: fc.constantFrom('file-0000000000000000000000000', 'file-', '') }, { weight: 1, arbitrary: anyJson });
  const batchCreateBody = objectWith(
    {
      input_file_id: fieldValue(fileRef),
      endpoint: fieldValue(fc.oneof({ weight: 4, arbitrary: fc.constant('/v1/chat/completions') }, { weight: 1, arbitrary: fc.constantFrom('/v1/embeddings', '/v1/responses', '/v1/completions', '/chat/completions', '') })),
      completion_window: fieldValue(fc.oneof({ weight: 6, arbitrary: fc.constant('24h') }, { weight: 1, arbitrary: fc.constantFrom('1h', '48h', '') })),
      metadata: fieldValue(fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constant('x'.repeat(65))), fc.oneof(fc.string({ maxLength: 8 }), fc.constant('x'.repeat(513)), anyJson), { maxKeys: 17 })),
      output_expires_after: fieldValue(objectWith({ anchor: fieldValue(fc.constant('created_at')), seconds: fieldValue(oddNumber) })),
      model: fieldValue(group),
    },
    { required: ['input_file_id', 'endpoint', 'completion_window'] },
  );

  const fixed = (...segments: string[]) => fc.constant(segments);
  const withId = (head: string, kind: RefKind, tail?: string) => idSegment(kind).map((id) => (tail === undefined ? [head, id] : [head, id, tail]));
  return [
    { name: 'chat', weight: 10, method: 'POST', v1: true, segments: fixed('chat', 'completions'), body: jsonBody(chatBody) },
    { name: 'embeddings', weight: 3, method: 'POST', v1: true, segments: fixed('embeddings'), body: jsonBody(embeddingsBody) },
    { name: 'responses', weight: 3, method: 'POST', v1: true, segments: fixed('responses'), body: jsonBody(responsesBody) },
    { name: 'models.list', weight: 1, method: 'GET', v1: true, segments: fixed('models') },
    { name: 'models.retrieve', weight: 1, method: 'GET', v1: true, segments: fc.array(fc.oneof(group.map((name) => uriEncode(String(name))), fc.constantFrom('%zz', '', '..')), { minLength: 1, maxLength: 3 }).map((ids) => ['models', ...ids]) },
    { name: 'key.generate', weight: 4, method: 'POST', v1: false, segments: fixed('key', 'generate'), body: jsonBody(generateKeyBody) },
    { name: 'key.info', weight: 2, method: 'GET', v1: false, segments: fixed('key', 'info'), query: ['key'] },
    { name: 'key.delete', weight: 2, method: 'POST', v1: false, segments: fixed('key', 'delete'), body: jsonBody(deleteKeysBody) },
    { name: 'health', weight: 1, method: 'GET', v1: false, segments: fc.constantFrom(['health', 'liveliness'], ['health', 'liveness'], ['health', 'readiness'], ['health']) },
    { name: 'metrics', weight: 1, method: 'GET', v1: false, segments: fixed('metrics') },
    { name: 'files.upload', weight: 14, method: 'POST', v1: true, segments: fixed('files'), body: multipartUpload(world.models).map((spec) => ({ kind: 'multipart' as const, spec })) },
    { name: 'files.list', weight: 3, method: 'GET', v1: true, segments: fixed('files'), query: ['purpose', 'order', 'after', 'limit'] },
    { name: 'files.retrieve', weight: 2, method: 'GET', v1: true, segments: withId('files', 'file') },
    { name: 'files.delete', weight: 2, method: 'DELETE', v1: true, segments: withId('files', 'file') },
    { name: 'files.content', weight: 3, method: 'GET', v1: true, segments: withId('files', 'file', 'content') },
    { name: 'batches.create', weight: 8, method: 'POST', v1: true, segments: fixed('batches'), body: jsonBody(batchCreateBody) },
    { name: 'batches.list', weight: 2, method: 'GET', v1: true, segments: fixed('batches'), query: ['after', 'limit', 'target_model_names'] },
    { name: 'batches.retrieve', weight: 2, method: 'GET', v1: true, segments: withId('batches', 'batch') },
    { name: 'batches.cancel', weight: 2, method: 'POST', v1: true, segments: withId('batches', 'batch', 'cancel') },
    { name: 'unrouted', weight: 1, method: 'GET', v1: true, segments: fc.array(fc.oneof(fc.constantFrom('v2', 'files', 'batches', 'key', 'admin', '.env', '..', '%2e%2e', 'x'.repeat(3_000)), oddString.map((text) => uriEncode(text))), { maxLength: 4 }) },
  ];
}

const RAW_HEADS = [
  'GARBAGE\r\n\r\n',
  'GET / HTTP/1.1\r\n\r\n',
  'GET /v1/models HTTP/9.9\r\nhost: x\r\n\r\n',
  'GET /v1/models\r\n\r\n',
  'GET  /v1/models HTTP/1.1\r\nhost: x\r\n\r\n',
  'GET /v1/mo dels HTTP/1.1\r\nhost: x\r\n\r\n',
  'GET /v1/models HTTP/1.1\r\nhost: x\r\nx-bad\u0000: 1\r\n\r\n',
  'GET /v1/models HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n',
  'GET /v1/models HTTP/1.1\r\nhost: x\r\nx: a\rb\r\n\r\n',
  'GET /v1/models HTTP/1.1\nhost: x\n\n',
  'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab',
  'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n\r\n',
  'GET /v1/models HTTP/1.1\r\nhost: x\r\nx-long: ' + 'a'.repeat(20_000) + '\r\n\r\n',
  'GET /v1/models HTTP/1.1\r\nhost: x\r\n' + 'x-many: 1\r\n'.repeat(3_000) + '\r\n',
  'GET /' + 'a'.repeat(20_000) + ' HTTP/1.1\r\nhost: x\r\n\r\n',
  'GET /v1/\u00ff\u00fe HTTP/1.1\r\nhost: x\r\n\r\n',
  'get /v1/models HTTP/1.1\r\nhost: x\r\n\r\n',
  'BREW /v1/models HTTP/1.1\r\nhost: x\r\n\r\n',
  '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
];

export function fuzzCase(world: CaseWorld): fc.Arbitrary<FuzzCase> {
  const routed = fc.oneof(
    ...families(world).map((family) => ({
      weight: family.weight,
      arbitrary: fc.record({
        family: fc.constant(family.name),
        method: fc.oneof({ weight: 14, arbitrary: fc.constant(family.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
        prefix: family.v1 ? fc.oneof({ weight: 8, arbitrary: fc.constant('/v1') }, { weight: 2, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/V1', '//v1', '/v1/', '/v1/..', '/v2') }) : fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/v1', '/') }),
        segments: family.segments,
        query: family.query ? queryFor(family.query) : fc.oneof({ weight: 8, arbitrary: fc.constant([] as Array<[string, PathSegment]>) }, { weight: 1, arbitrary: queryFor(['limit', 'x']) }),
        auth,
        headers: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Array<[string, string]>) }, { weight: 1, arbitrary: extraHeaders }),
        contentType: family.body ? jsonContentType : fc.oneof({ weight: 12, arbitrary: fc.constant<FuzzCase['contentType']>(null) }, { weight: 1, arbitrary: jsonContentType }),
        body: family.body ?? fc.oneof({ weight: 12, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) }, { weight: 1, arbitrary: jsonBody(anyJson) }),
        chunked: fc.oneof({ weight: 14, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(1, 7, 1_000, 65_536) }),
        contentLength: fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('0', '-1', 'abc', '1e3', ' 0', '0x10', '00') }),
        version: fc.oneof({ weight: 20, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/1.2') }),
        rawHead: fc.constant(null),
      }),
    })),
  );
  const raw = fc.constantFrom(...RAW_HEADS).map(
    (rawHead): FuzzCase => ({
      family: 'raw-head',
      method: 'GET',
      prefix: '',
      segments: [],
      query: [],
      auth: { kind: 'none' },
      headers: [],
      contentType: null,
      body: { kind: 'none' },
      chunked: null,
      contentLength: null,
      version: null,
      rawHead,
    }),
  );
  return fc.oneof({ weight: 40, arbitrary: routed }, { weight: 1, arbitrary: raw }).map((value) => Object.assign(value, { [fc.toStringMethod]: () => describeCase(value) }));
}

/** A short, readable form of a case for the failure report (the values can be megabytes). */
export function describeCase(value: FuzzCase): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Uint8Array) return `<${item.length} bytes: ${Buffer.from(item.subarray(0, 40)).toString('hex')}>`;
    if (item instanceof Ref) return `Ref(${item.kind}#${item.pick})`;
    if (item instanceof Raw) return `Raw(${item.label})`;
    if (typeof item === 'string' && item.length > 120) return `${item.slice(0, 60)}...(${item.length} chars)`;
    return item;
  });
}
