/**
 * Which model group a batch runs on. A batch runs on one group, but a file may be placed on
 * several (`target_model_names`) or name several in its lines. The rules, in order:
 *
 * 1. `model` in the create body (LiteLLM's extra field) wins: it must be one of the file's groups
 *    and allowed to the key, else a 400 listing the choices.
 * 2. Else, when the lines all name one of the file's groups, that one.
 * 3. Else, a file with a single group runs there.
 * 4. Else a 400 (`param: model`) listing the choices: the caller must say.
 *
 * Pure: the router and the principal are asked only whether a group exists and is allowed.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';
import type { FileRecord } from '../../storage/file-store.ts';

export interface ModelGroupCatalog {
  hasModelGroup(name: string): boolean;
  /** The key's allowlist, an alias and its target being one model (`Router.mayUse`). */
  mayUse(principal: Principal, name: string): boolean;
}

/** The group to run on; it may still be unknown to the router or denied to the key (the caller checks and answers 400/403). */
export function chooseBatchModelGroup(file: Pick<FileRecord, 'id' | 'modelGroups' | 'lineModels'>, requested: string | null, principal: Principal, catalog: ModelGroupCatalog): string {
  const groups = file.modelGroups ?? [];
  const choices = groups.filter((group) => catalog.hasModelGroup(group) && catalog.mayUse(principal, group));
  if (requested !== null) {
    if (!choices.includes(requested)) {
      throw new InvalidRequestError(`The model '${requested.slice(0, 100)}' is not one this batch can run on: the input file ${file.id} is placed on ${describeChoices(choices)}.`, {
        param: 'model',
        code: 'invalid_value',
      });
    }
    return requested;
  }
  const lineModels = file.lineModels ?? [];
  if (lineModels.length === 1 && groups.includes(lineModels[0])) return lineModels[0];
  if (groups.length === 1) return groups[0];
  if (groups.length === 0) {
    throw new InvalidRequestError(`A batch runs on one model; the input file ${file.id} names none.`, { param: 'input_file_id', code: 'model_mismatch' });
  }
  throw new InvalidRequestError(`A batch runs on one model, and the input file ${file.id} is placed on several: pass 'model', one of ${describeChoices(choices)}.`, {
    param: 'model',
    code: 'missing_required_parameter',
  });
}

function describeChoices(choices: readonly string[]): string {
  return choices.length === 0 ? 'no model this key may use' : choices.map((group) => `'${group}'`).join(', ');
}
