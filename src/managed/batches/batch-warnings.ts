/**
 * What the provider's translation of a batch's lines dropped or clamped (e.g. Anthropic's
 * `temperature` above 1 in 3 lines), kept where the client reads the batch: one metadata pair,
 * `portico_translation_warnings`, a short summary (`spec/translation-warnings.ts`) within
 * OpenAI's metadata limits. A metadata already holding its 16 pairs gets none (the create's log
 * line still names them): the client's own pairs are never displaced.
 */
import type { TranslationWarning } from '../../spec/provider.ts';
import { summariseWarnings } from '../../spec/translation-warnings.ts';
import { MAX_METADATA_PAIRS, MAX_METADATA_VALUE } from './batch-request.ts';

export const WARNINGS_METADATA_KEY = 'portico_translation_warnings';

/** `metadata` with the warnings' pair added, or `undefined` when it stays as it is. */
export function metadataWithWarnings(
  metadata: Readonly<Record<string, string>> | null,
  warnings: readonly TranslationWarning[] | undefined,
): Record<string, string> | undefined {
  if (warnings === undefined || warnings.length === 0) return undefined;
  if (Object.keys(metadata ?? {}).length >= MAX_METADATA_PAIRS) return undefined;
  return { ...metadata, [WARNINGS_METADATA_KEY]: summariseWarnings(warnings, MAX_METADATA_VALUE) };
}
