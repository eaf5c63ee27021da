/**
 * Which model group a request may use: the key's allowlist first (403), then the config (404).
 * A restricted key learns nothing about groups outside its allowlist, not even whether they exist.
 */
import { NotFoundError, PermissionDeniedError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { Router } from '../routing/router.ts';

/** Client-supplied names are echoed in messages; a 5,000-character name is cut. */
const MAX_ECHOED_NAME = 200;

export function echoName(name: string): string {
  return name.length > MAX_ECHOED_NAME ? `${name.slice(0, MAX_ECHOED_NAME)}...` : name;
}

type ModelNames = Pick<Router, 'mayUse'>;

/**
 * Whether `principal` may use `model`: an alias and its target are one model here, so a key
 * allowed either may use both (and a wildcard in the allowlist matches names).
 */
export function mayUse(router: ModelNames, principal: Principal, model: string): boolean {
  return router.mayUse(principal, model);
}

export function assertModelUsable(router: Pick<Router, 'hasModelGroup'> & ModelNames, principal: Principal, model: string): void {
  if (!mayUse(router, principal, model)) {
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

/** What `/v1/models` shows this caller: the listed models (`Router.listedModels`) it may use, in config order. */
export function usableModelGroups(router: Pick<Router, 'listedModels'> & ModelNames, principal: Principal): string[] {
  return router.listedModels().filter((name) => mayUse(router, principal, name));
}
