/**
 * OpenAI's `metadata` (batches, stored chat completions, responses): at most 16 pairs, keys of at
 * most 64 characters, string values of at most 512, or null; its 400s as the real API words them.
 */
import type { OpenAIErrorFields } from './errors.ts';

type Json = Record<string, unknown>;

/** `metadata`: up to 16 string pairs, keys <= 64 chars, values <= 512 chars, or null. */
export function checkMetadata(metadata: unknown): OpenAIErrorFields | null {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    return { message: `Invalid type for 'metadata': expected an object, but got ${typeName(metadata)} instead.`, param: 'metadata', code: 'invalid_type' };
  }
  const entries = Object.entries(metadata as Json);
  if (entries.length > 16) {
    return {
      message: `Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with ${entries.length} properties instead.`,
      param: 'metadata',
      code: 'object_above_max_properties',
    };
  }
  for (const [key, value] of entries) {
    if (key.length > 64) {
      return {
        message: `Invalid 'metadata': string too long. Expected a string with maximum length 64, but got a string with length ${key.length} instead.`,
        param: 'metadata',
        code: 'string_above_max_length',
      };
    }
    if (typeof value !== 'string') {
      return { message: `Invalid type for 'metadata.${key}': expected a string, but got ${typeName(value)} instead.`, param: `metadata.${key}`, code: 'invalid_type' };
    }
    if (value.length > 512) {
      return {
        message: `Invalid 'metadata.${key}': string too long. Expected a string with maximum length 512, but got a string with length ${value.length} instead.`,
        param: `metadata.${key}`,
        code: 'string_above_max_length',
      };
    }
  }
  return null;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}

