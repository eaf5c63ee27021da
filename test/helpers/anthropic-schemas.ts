/**
 * Validate bodies against Anthropic's API schemas, from the UNOFFICIAL Nov 2024 copy of
 * Anthropic's Stainless spec (test/fixtures/anthropic/, see test/fixtures/SOURCE.md).
 *
 *   validateAnthropic('BetaMessageBatch', body) -> string[] of errors ([] when valid)
 *
 * Adjustments, and why: the copy declares `Model` with `"type": null` next to its `anyOf`, which
 * is not valid JSON Schema, so `type: null` is dropped; `discriminator` is left unchecked (the
 * `oneOf` it annotates still is). Formats (`date-time`) are not checked. Otherwise as published:
 * this 2024 spec predates later additions (e.g. `usage.service_tier`), which pass because the
 * schemas allow extra properties.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';

export type AnthropicSchemaName =
  | 'BetaMessageBatch'
  | 'BetaListResponse_MessageBatch_'
  | 'BetaMessageBatchIndividualResponse'
  | 'BetaErrorResponse'
  | 'ErrorResponse'
  | 'Message'
  | 'MessageStreamEvent';

let ajv: InstanceType<typeof Ajv2020> | null = null;
const compiled = new Map<string, ValidateFunction>();

export function validateAnthropic(schemaName: AnthropicSchemaName, body: unknown): string[] {
  let validate = compiled.get(schemaName);
  if (!validate) {
    validate = load().getSchema(`anthropic#/components/schemas/${schemaName}`);
    if (!validate) throw new Error(`unknown schema ${schemaName}`);
    compiled.set(schemaName, validate);
  }
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`);
}

function load(): InstanceType<typeof Ajv2020> {
  if (ajv) return ajv;
  const spec = JSON.parse(readFileSync(new URL('../fixtures/anthropic/anthropic-hosted_spec.2024-11.json', import.meta.url), 'utf8')) as {
    components: Record<string, unknown>;
  };
  ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'anthropic', components: clean(spec.components) });
  return ajv;
}

function clean(node: unknown): any {
  if (Array.isArray(node)) return node.map(clean);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'type' && v === null) || k === 'discriminator' || k === 'examples' || k.startsWith('x-')) continue;
    out[k] = clean(v);
  }
  return out;
}
