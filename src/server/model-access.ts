/**
 * Which model group a request may use: the key's allowlist first (403), then the config (404).
 * A restricted key learns nothing about groups outside its allowlist, not even whether they exist.
 */
import { NotFoundError, PermissionDeniedError } from '../spec/errors.ts';
import { mayUseModel, type Principal } from '../spec/principal.ts';
import type { Router } from '../routing/router.ts';

/** Client-supplied names are echoed in messages; a 5,000-character name is cut. */
const MAX_ECHOED_NAME = 200;

export function echoName(name: string): string {
  return name.length > MAX_ECHOED_NAME ? `${name.slice(0, MAX_ECHOED_NAME)}...` : name;
}

export function assertModelUsable(router: Pick<Router, 'hasModelGroup'>, principal: Principal, model: string): void {
  if (!mayUseModel(principal, model)) {
    throw new PermissionDeniedError(`This API key is not allowed to use the model \`${echoName(model)}\`.`, {
      param: 'model',
      code: 'model_not_allowed',
    });
  }
  if (!router.hasModelGroup(model)) {
    throw new NotFoundError(`The model \`${echoName(model)}\` does not exist or you do not have access to it.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
}

/** The configured model groups this caller may use, in config order. */
export function usableModelGroups(router: Pick<Router, 'modelGroups'>, principal: Principal): string[] {
  return [...router.modelGroups()].filter((group) => mayUseModel(principal, group));
}
