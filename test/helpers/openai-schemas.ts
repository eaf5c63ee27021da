/**
 * Validate response bodies against OpenAI's published schemas (copies in test/fixtures/, see
 * test/fixtures/SOURCE.md).
 *
 *   validateOpenAI('Batch', body)           -> string[] of errors ([] when valid)
 *   validateBatchLine('BatchRequestOutput', line)
 *
 * One leniency, and why: the spec types optional fields such as `Batch.output_file_id` or
 * `OpenAIFile.expires_at` as plain `string`/`integer`, yet the real API sends every Batch key
 * with `null` for unset values (WIRE.md §1.2) and the official SDKs type them `| null`. So a
 * property that is NOT in its schema's `required` list may also be `null`. The list cursors
 * `first_id`/`last_id` may be `null` too (the API's answer for an empty list). Required
 * properties stay strict. Formats (`unixtime`, `binary`) are not checked.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';

export type OpenAISchemaName = 'OpenAIFile' | 'Batch' | 'ListFilesResponse' | 'ListBatchesResponse' | 'DeleteFileResponse';
export type BatchLineSchemaName = 'BatchRequestInput' | 'BatchRequestOutput';

type Schema = Record<string, unknown>;

const FIXTURES = new URL('../fixtures/', import.meta.url);
const NULLABLE_CURSORS = new Set(['first_id', 'last_id']);

let ajv: InstanceType<typeof Ajv2020> | null = null;
const compiled = new Map<string, ValidateFunction>();

/** Errors of `body` against the named schema of openai-files-batches.excerpt.json; [] when valid. */
export function validateOpenAI(schemaName: OpenAISchemaName, body: unknown): string[] {
  return run(`openai-files-batches#/components/schemas/${schemaName}`, body);
}

/** Errors of one JSONL line against `BatchRequestInput` / `BatchRequestOutput` (June 2025 spec); [] when valid. */
export function validateBatchLine(schemaName: BatchLineSchemaName, line: unknown): string[] {
  return run(`openai-batch-request-io#/components/schemas/${schemaName}`, line);
}

function run(ref: string, body: unknown): string[] {
  let validate = compiled.get(ref);
  if (!validate) {
    const instance = loadAjv();
    validate = instance.getSchema(ref);
    if (!validate) throw new Error(`unknown schema ${ref}`);
    compiled.set(ref, validate);
  }
  return validate(body) ? [] : (validate.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  return `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`;
}

function loadAjv(): InstanceType<typeof Ajv2020> {
  if (ajv) return ajv;
  const instance = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const spec = JSON.parse(readFileSync(new URL('openai-files-batches.excerpt.json', FIXTURES), 'utf8')) as Schema;
  const lines = parseYaml(readFileSync(new URL('openai-batch-request-io.2025-06.yaml', FIXTURES), 'utf8')) as Schema;
  instance.addSchema({ $id: 'openai-files-batches', components: lenient((spec.components ?? {}) as Schema) });
  instance.addSchema({ $id: 'openai-batch-request-io', components: lenient((lines.components ?? {}) as Schema) });
  ajv = instance;
  return instance;
}

/** Deep copy applying the leniency described at the top (and OpenAPI 3.0 `nullable`). */
function lenient(node: unknown): Schema {
  return transform(node) as Schema;
}

function transform(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(transform);
  if (!node || typeof node !== 'object') return node;
  const src = node as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'nullable' || k.startsWith('x-') || k === 'example') continue;
    out[k] = transform(v);
  }
  if (src.properties && typeof src.properties === 'object') {
    const required = new Set(Array.isArray(src.required) ? (src.required as string[]) : []);
    const props: Schema = {};
    for (const [name, prop] of Object.entries(out.properties as Schema)) {
      props[name] = !required.has(name) || NULLABLE_CURSORS.has(name) ? orNull(prop) : prop;
    }
    out.properties = props;
  }
  return src.nullable === true ? orNull(out) : out;
}

function orNull(schema: unknown): Schema {
  return { anyOf: [schema, { type: 'null' }] };
}
