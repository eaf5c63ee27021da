/**
 * Portico's model catalogue (`model-catalogue-data.ts`): what a bare model name means. Config
 * loading reads it to infer a provider as LiteLLM does (`model: gpt-4o` is OpenAI's,
 * `model: claude-3-opus-20240229` Anthropic's), to price deployments whose `model_info` names no
 * prices (batch cost reads those prices), and to hint at the prefix of a name it does not know.
 */
import { BARE_NAME_PLACEMENTS, CATALOGUE_ENTRIES, MODEL_NAME_FAMILIES, type CatalogueEntry } from './model-catalogue-data.ts';

export { CATALOGUE_SOURCE, type CatalogueEntry, type CatalogueMode } from './model-catalogue-data.ts';

export interface CatalogueModel extends CatalogueEntry {
  readonly name: string;
}

const MODELS: ReadonlyMap<string, CatalogueModel> = new Map(Object.entries(CATALOGUE_ENTRIES).map(([name, entry]) => [name, Object.freeze({ name, ...entry })]));

/** The catalogue's entry for a bare model name (`gpt-4o`, not `openai/gpt-4o`). */
export function catalogueModel(name: string): CatalogueModel | undefined {
  return MODELS.get(name);
}

/** Every catalogue model, in catalogue order. */
export function catalogueModels(): readonly CatalogueModel[] {
  return [...MODELS.values()];
}

/** The provider a bare catalogue name runs on, given its entry's params (`BARE_NAME_PLACEMENTS`). */
export function bareNameProvider(model: { readonly provider: string }, params: Readonly<Record<string, unknown>>): string {
  const placement = BARE_NAME_PLACEMENTS.find(({ from, whenParam }) => model.provider === from && params[whenParam] != null && params[whenParam] !== '');
  return placement?.to ?? model.provider;
}

/** The provider prefix a bare name most likely needs, when a family says so. */
export function likelyProviderOf(name: string): string | undefined {
  return MODEL_NAME_FAMILIES.find(([pattern]) => pattern.test(name))?.[1];
}

/** The provider a bare name the catalogue does not know runs on, when its family is one vendor's alone. */
export function vendorOfName(name: string): string | undefined {
  const family = MODEL_NAME_FAMILIES.find(([pattern]) => pattern.test(name));
  return family?.[2] === 'placed' ? family[1] : undefined;
}
