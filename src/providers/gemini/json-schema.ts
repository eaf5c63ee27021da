/**
 * A JSON Schema (OpenAI's `response_format.json_schema.schema`, a tool's `parameters`) -> the
 * OpenAPI 3.0 subset Gemini takes as `responseSchema` / function `parameters`
 * (https://ai.google.dev/api/caching#Schema, `docs/specs/gemini-api.md` §Schema). Pure.
 *
 * Kept: type, format, title, description, nullable, enum (strings), properties, required, items,
 * anyOf (and oneOf, as anyOf), minItems/maxItems, minimum/maximum, minLength/maxLength, pattern,
 * minProperties/maxProperties, default, example. A type list with "null" becomes the type plus
 * `nullable`; local `$ref`s (`#/$defs/...`, `#/definitions/...`) are inlined. Everything else
 * (`additionalProperties`, `const`, `allOf`, `not`, `$schema`, recursive references, non-string
 * enums...) has no place in Gemini's schema and is dropped; each dropped keyword is named in the
 * returned `dropped` list with its path, for the translation warning. `propertyOrdering` keeps the
 * client's property order (Gemini otherwise orders properties by name).
 */
import type { GeminiSchema } from './wire-types.ts';
import { isRecord } from './json.ts';

export interface SchemaTranslation {
  schema: GeminiSchema;
  /** `path: keyword` of every keyword that was dropped. */
  dropped: string[];
}

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);
const COPIED_STRINGS = ['format', 'title', 'description', 'pattern'] as const;
const COPIED_NUMBERS = ['minimum', 'maximum'] as const;
const COPIED_COUNTS = ['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties'] as const;
/** Keywords read elsewhere in this module, or that carry nothing to translate. */
const HANDLED = new Set([
  'type', 'properties', 'required', 'items', 'anyOf', 'oneOf', 'enum', 'nullable', '$ref', '$defs', 'definitions', 'default', 'example', 'examples',
  ...COPIED_STRINGS, ...COPIED_NUMBERS, ...COPIED_COUNTS,
]);
const MAX_REF_DEPTH = 16;

export function translateJsonSchema(schema: unknown): SchemaTranslation {
  const dropped: string[] = [];
  const root = isRecord(schema) ? schema : {};
  const definitions = { ...(isRecord(root.definitions) ? root.definitions : {}), ...(isRecord(root.$defs) ? root.$defs : {}) };
  const translated = translateNode(root, '$', { dropped, definitions, refDepth: 0 });
  return { schema: translated, dropped };
}

interface Context {
  dropped: string[];
  definitions: Record<string, unknown>;
  refDepth: number;
}

function translateNode(node: Record<string, unknown>, path: string, context: Context): GeminiSchema {
  if (typeof node.$ref === 'string') return translateReference(node, path, context);
  const out: GeminiSchema = {};
  translateType(node, path, out, context);
  for (const key of COPIED_STRINGS) if (typeof node[key] === 'string') out[key] = node[key] as string;
  for (const key of COPIED_NUMBERS) if (typeof node[key] === 'number') out[key] = node[key] as number;
  // int64 fields: Google's JSON mapping writes them as strings.
  for (const key of COPIED_COUNTS) if (typeof node[key] === 'number') out[key] = String(node[key]);
  if (node.nullable === true) out.nullable = true;
  if (node.default !== undefined) out.default = node.default;
  if (node.example !== undefined) out.example = node.example;
  else if (Array.isArray(node.examples) && node.examples.length > 0) out.example = node.examples[0];
  if (Array.isArray(node.enum)) {
    if (node.enum.every((value) => typeof value === 'string')) out.enum = node.enum as string[];
    else context.dropped.push(`${path}: enum (Gemini enums hold strings only)`);
  }
  if (isRecord(node.properties)) {
    out.properties = {};
    for (const [name, property] of Object.entries(node.properties)) {
      out.properties[name] = translateNode(isRecord(property) ? property : {}, `${path}.properties.${name}`, context);
    }
    out.propertyOrdering = Object.keys(node.properties);
  }
  if (Array.isArray(node.required) && node.required.every((name) => typeof name === 'string')) out.required = node.required as string[];
  if (isRecord(node.items)) out.items = translateNode(node.items, `${path}.items`, context);
  else if (node.items !== undefined) context.dropped.push(`${path}: items (only a single schema is supported)`);
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (alternatives !== undefined) translateAlternatives(alternatives, path, out, context);
  for (const key of Object.keys(node)) {
    if (!HANDLED.has(key)) context.dropped.push(`${path}: ${key}`);
  }
  return out;
}

function translateType(node: Record<string, unknown>, path: string, out: GeminiSchema, context: Context): void {
  const types = typeof node.type === 'string' ? [node.type] : Array.isArray(node.type) ? node.type.filter((t): t is string => typeof t === 'string') : [];
  if (types.length === 0) {
    if (node.type !== undefined) context.dropped.push(`${path}: type`);
    return;
  }
  const nonNull = types.filter((type) => type !== 'null');
  if (nonNull.length < types.length) out.nullable = true;
  if (nonNull.length === 0) {
    out.type = 'NULL';
    return;
  }
  if (nonNull.length > 1) context.dropped.push(`${path}: type (${nonNull.slice(1).join(', ')}: one type only)`);
  if (TYPES.has(nonNull[0])) out.type = nonNull[0].toUpperCase();
  else context.dropped.push(`${path}: type (${nonNull[0]})`);
}

function translateAlternatives(alternatives: unknown[], path: string, out: GeminiSchema, context: Context): void {
  const schemas = alternatives.filter(isRecord);
  // `anyOf: [X, {type: null}]` is how JSON Schema says "nullable X".
  const nonNull = schemas.filter((schema) => schema.type !== 'null');
  if (nonNull.length < schemas.length) out.nullable = true;
  if (nonNull.length === 1 && out.type === undefined) {
    Object.assign(out, { ...translateNode(nonNull[0], path, context), ...(out.nullable ? { nullable: true } : {}) });
    return;
  }
  out.anyOf = nonNull.map((schema, index) => translateNode(schema, `${path}.anyOf[${index}]`, context));
}

function translateReference(node: Record<string, unknown>, path: string, context: Context): GeminiSchema {
  const ref = node.$ref as string;
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = match ? context.definitions[decodeURIComponent(match[1])] : undefined;
  if (!isRecord(target) || context.refDepth >= MAX_REF_DEPTH) {
    context.dropped.push(`${path}: $ref (${ref}${isRecord(target) ? ', nested too deep or recursive' : ', not a local definition'})`);
    return {};
  }
  const { $ref: _ref, ...siblings } = node;
  return translateNode({ ...target, ...siblings }, path, { ...context, refDepth: context.refDepth + 1 });
}
