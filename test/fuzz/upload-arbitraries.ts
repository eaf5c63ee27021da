/**
 * `POST /v1/files` bodies: multipart/form-data shapes (fields before and after the file, repeated
 * fields, odd file names, RFC 5987 `filename*=`, missing or wrong boundaries, LF line ends, no
 * closing delimiter) around JSONL batch input (valid lines, broken JSON, duplicate ids, mixed
 * endpoints, unknown models, huge lines, invalid UTF-8, a BOM, CRLF).
 */
import fc from 'fast-check';
import { anyJson, deeplyNested, objectWith, oddString, toJsonText, uriEncode, type Resolve } from './hostile-json.ts';

export interface UploadWorldModels {
  chat: readonly string[];
  embeddings: readonly string[];
}

export type FileContent =
  | { kind: 'jsonl'; lines: LineSpec[]; separator: '\n' | '\r\n'; trailingNewline: boolean; bom: boolean }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'repeat'; text: string; times: number };

export type LineSpec =
  | { kind: 'request'; value: Record<string, unknown> }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array };

export type PartSpec =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; disposition: string; contentType: string | null; content: FileContent };

export interface MultipartSpec {
  boundary: string;
  /** What the content-type header says about the boundary. */
  header: 'boundary' | 'quoted' | 'missing' | 'other' | 'not-multipart';
  parts: PartSpec[];
  lineEnd: '\r\n' | '\n';
  closed: boolean;
  preamble: string;
}

const AUTO_ID = '\u0000auto';

const batchEndpoint = fc.constantFrom('/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/completions', '/chat/completions', 'https://evil.example/v1/chat/completions', '');

function requestLine(models: UploadWorldModels): fc.Arbitrary<Record<string, unknown>> {
  const model = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...models.chat, ...models.embeddings) }, { weight: 1, arbitrary: oddString }, { weight: 1, arbitrary: anyJson });
  const chatBody = objectWith(
    {
      model,
      messages: fc.oneof(
        { weight: 6, arbitrary: fc.constant([{ role: 'user', content: 'hello' }]) },
        { weight: 1, arbitrary: fc.array(anyJson, { maxLength: 3 }) },
        { weight: 1, arbitrary: anyJson },
        { weight: 1, arbitrary: deeplyNested },
      ),
      input: fc.oneof(fc.constant('hello'), anyJson),
      stream: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: anyJson }),
      max_tokens: fc.oneof(fc.constant(16), anyJson),
    },
    { required: ['model', 'messages'] },
  );
  return objectWith(
    {
      custom_id: fc.oneof({ weight: 8, arbitrary: fc.constant(AUTO_ID) }, { weight: 1, arbitrary: fc.constant('duplicate') }, { weight: 1, arbitrary: anyJson }),
      method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'post', '') }, { weight: 1, arbitrary: anyJson }),
      url: fc.oneof({ weight: 4, arbitrary: fc.constant('/v1/chat/completions') }, { weight: 2, arbitrary: batchEndpoint }, { weight: 1, arbitrary: anyJson }),
      body: fc.oneof({ weight: 8, arbitrary: chatBody }, { weight: 1, arbitrary: anyJson }),
    },
    { required: ['custom_id', 'method', 'url', 'body'] },
  );
}

function lineSpec(models: UploadWorldModels): fc.Arbitrary<LineSpec> {
  return fc.oneof(
    { weight: 12, arbitrary: requestLine(models).map((value) => ({ kind: 'request' as const, value })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', '   ', '{', '}', 'null', '[]', '"x"', '1', '{"custom_id": "a"', '\u0000', '\ufeff{}', '{"__proto__": {"polluted": 1}}', 'x'.repeat(200_000))
        .map((text) => ({ kind: 'text' as const, text })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  );
}

export function fileContent(models: UploadWorldModels): fc.Arbitrary<FileContent> {
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        kind: fc.constant('jsonl' as const),
        lines: fc.oneof({ weight: 9, arbitrary: fc.array(lineSpec(models), { minLength: 1, maxLength: 5 }) }, { weight: 1, arbitrary: fc.array(lineSpec(models), { maxLength: 60 }) }),
        separator: fc.constantFrom('\n' as const, '\r\n' as const),
        trailingNewline: fc.boolean(),
        bom: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('repeat' as const), text: fc.constantFrom('\n', 'a', '{}\n'), times: fc.constantFrom(1_000, 100_000, 3_000_000) }),
    },
  );
}

export function renderFileContent(content: FileContent, resolve: Resolve): Buffer {
  if (content.kind === 'bytes') return Buffer.from(content.bytes);
  if (content.kind === 'repeat') return Buffer.from(content.text.repeat(content.times));
  const separator = Buffer.from(content.separator);
  const parts: Buffer[] = content.bom ? [Buffer.from('\ufeff')] : [];
  content.lines.forEach((line, index) => {
    if (index > 0) parts.push(separator);
    if (line.kind === 'text') parts.push(Buffer.from(line.text));
    else if (line.kind === 'bytes') parts.push(Buffer.from(line.bytes));
    else parts.push(Buffer.from(toJsonText(withAutoId(line.value, index), resolve)));
  });
  if (content.trailingNewline) parts.push(separator);
  return Buffer.concat(parts);
}

function withAutoId(value: Record<string, unknown>, index: number): Record<string, unknown> {
  if (value.custom_id !== AUTO_ID) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === 'custom_id' ? `request-${index}` : item]));
}

const fileName = fc.oneof(
  { weight: 8, arbitrary: fc.constant('requests.jsonl') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('data.JSONL', 'notes.txt', 'noext', '', ' ', '.jsonl', 'données.jsonl', 'файл.jsonl', '\u{1F600}.jsonl', '../../../etc/passwd.jsonl', 'a\\b.jsonl', 'C:\\temp\\x.jsonl', 'x'.repeat(5_000) + '.jsonl'),
  },
  { weight: 1, arbitrary: oddString.map((name) => `${name}.jsonl`) },
);

/** The Content-Disposition of the file part: plain, RFC 5987, both, quoted oddly, raw bytes. */
const fileDisposition = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fileName.map((filename) => `form-data; name="${name}"; filename="${filename.replace(/["\\]/g, (c) => `\\${c}`)}"`) },
    { weight: 2, arbitrary: fileName.map((filename) => `form-data; name="${name}"; filename*=UTF-8''${uriEncode(filename)}`) },
    { weight: 1, arbitrary: fileName.map((filename) => `form-data; name="${name}"; filename="fallback.jsonl"; filename*=utf-8''${uriEncode(filename)}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `form-data; name="${name}"`,
        `form-data; name="${name}"; filename=requests.jsonl`,
        `form-data; name="${name}"; filename="unterminated.jsonl`,
        `form-data; name="${name}"; filename*=latin1''%E9t%E9.jsonl`,
        `form-data; name="${name}"; filename*=UTF-8''%ZZ.jsonl`,
        `form-data; name="${name}"; filename*=''`,
        `attachment; name="${name}"; filename="requests.jsonl"`,
        `form-data; name="${name}"; filename="\u00e9t\u00e9.jsonl"`,
      ),
    },
  );

const FIELD_NAMES = ['purpose', 'expires_after[anchor]', 'expires_after[seconds]', 'expires_after.anchor', 'expires_after.seconds', 'target_model_names'];

function fieldPart(models: UploadWorldModels): fc.Arbitrary<PartSpec> {
  const purpose = fc.oneof({ weight: 8, arbitrary: fc.constant('batch') }, { weight: 2, arbitrary: fc.constantFrom('assistants', 'fine-tune', 'vision', 'user_data', 'evals', 'batch_output', 'BATCH', ' batch') }, { weight: 1, arbitrary: oddString });
  const seconds = fc.oneof(fc.constantFrom('3600', '86400', '2592000', '3599', '2592001', '-1', '1e5', '3600.5', '99999999999999999999', ''), oddString);
  const targets = fc.oneof(
    fc.constantFrom(...models.chat, models.chat.join(','), `[${models.chat.map((m) => JSON.stringify(m)).join(',')}]`, '[1,2]', '[', ',,,', 'unknown-group'),
    oddString,
  );
  return fc.oneof(
    { weight: 8, arbitrary: purpose.map((value) => ({ kind: 'field' as const, name: 'purpose', value })) },
    { weight: 1, arbitrary: fc.constantFrom('created_at', 'last_active_at', '').map((value) => ({ kind: 'field' as const, name: 'expires_after[anchor]', value })) },
    { weight: 1, arbitrary: seconds.map((value) => ({ kind: 'field' as const, name: 'expires_after[seconds]', value })) },
    { weight: 1, arbitrary: targets.map((value) => ({ kind: 'field' as const, name: 'target_model_names', value })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FIELD_NAMES, 'file', '', 'x'.repeat(300)), oddString).map(([name, value]) => ({ kind: 'field' as const, name, value })) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(70_000)).map((value) => ({ kind: 'field' as const, name: 'purpose', value })) },
  );
}

function filePart(models: UploadWorldModels): fc.Arbitrary<PartSpec> {
  return fc
    .record({
      name: fc.oneof({ weight: 12, arbitrary: fc.constant('file') }, { weight: 1, arbitrary: fc.constantFrom('files', 'purpose', 'File', '') }),
      contentType: fc.constantFrom('application/jsonl', 'application/octet-stream', 'text/plain', null),
      content: fileContent(models),
    })
    .chain((part) => fileDisposition(part.name).map((disposition) => ({ kind: 'file' as const, ...part, disposition })));
}

export function multipartUpload(models: UploadWorldModels): fc.Arbitrary<MultipartSpec> {
  const typical = fc
    .tuple(fieldPart(models), filePart(models), fc.array(fieldPart(models), { maxLength: 2 }), fc.boolean())
    .map(([purpose, file, more, fileFirst]) => (fileFirst ? [file, purpose, ...more] : [purpose, ...more, file]));
  const anyShape = fc.array(fc.oneof({ weight: 3, arbitrary: fieldPart(models) }, { weight: 1, arbitrary: filePart(models) }), { maxLength: 6 });
  return fc.record({
    boundary: fc.oneof({ weight: 6, arbitrary: fc.constant('----portico-fuzz-boundary') }, { weight: 1, arbitrary: fc.constantFrom('a', 'x'.repeat(70), 'x'.repeat(200), "'()+_,-./:=?", 'with space') }),
    header: fc.oneof({ weight: 12, arbitrary: fc.constant('boundary' as const) }, { weight: 1, arbitrary: fc.constantFrom('quoted' as const, 'missing' as const, 'other' as const, 'not-multipart' as const) }),
    parts: fc.oneof({ weight: 6, arbitrary: typical }, { weight: 1, arbitrary: anyShape }),
    lineEnd: fc.oneof({ weight: 12, arbitrary: fc.constant('\r\n' as const) }, { weight: 1, arbitrary: fc.constant('\n' as const) }),
    closed: fc.oneof({ weight: 12, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    preamble: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('preamble\r\n', '\r\n', '--') }),
  });
}

export function multipartContentType(spec: MultipartSpec): string {
  switch (spec.header) {
    case 'boundary':
      return `multipart/form-data; boundary=${spec.boundary.includes(' ') ? `"${spec.boundary}"` : spec.boundary}`;
    case 'quoted':
      return `multipart/form-data; boundary="${spec.boundary}"`;
    case 'missing':
      return 'multipart/form-data';
    case 'other':
      return 'multipart/form-data; boundary=something-else';
    case 'not-multipart':
      return 'multipart/mixed; boundary=' + spec.boundary;
  }
}

export function renderMultipart(spec: MultipartSpec, resolve: Resolve): { body: Buffer; fileBytes: Buffer | null } {
  const eol = spec.lineEnd;
  const chunks: Buffer[] = [Buffer.from(spec.preamble)];
  let fileBytes: Buffer | null = null;
  for (const part of spec.parts) {
    chunks.push(Buffer.from(`--${spec.boundary}${eol}`));
    if (part.kind === 'field') {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${part.name}"${eol}${eol}`), Buffer.from(part.value), Buffer.from(eol));
    } else {
      const bytes = renderFileContent(part.content, resolve);
      fileBytes ??= bytes;
      const type = part.contentType === null ? '' : `Content-Type: ${part.contentType}${eol}`;
      chunks.push(Buffer.from(`Content-Disposition: ${part.disposition}${eol}${type}${eol}`), bytes, Buffer.from(eol));
    }
  }
  if (spec.closed) chunks.push(Buffer.from(`--${spec.boundary}--${eol}`));
  return { body: Buffer.concat(chunks), fileBytes };
}
