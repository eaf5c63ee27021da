/**
 * The auth hook: reads the caller's key, resolves it to a `Principal` (from memory on the hot
 * path) and enforces the route's `auth` requirement. Runs before the body is read, so an
 * unauthenticated client cannot make Portico parse anything.
 */
import type { FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { PermissionDeniedError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { KeyService } from '../auth/key-service.ts';
import { presentedKeyOf } from '../auth/presented-key.ts';

export function authenticateRequest(
  request: FastifyRequest,
  keys: KeyService,
  metricsPublic: boolean,
  done: HookHandlerDoneFunction,
): void {
  const context = request.portico;
  const requirement = context.auth;
  // Unknown routes answer 404 without asking for a key: the route table is public anyway.
  if (requirement === 'none' || context.route === undefined || (requirement === 'metrics' && metricsPublic)) {
    done();
    return;
  }
  keys.authenticate(presentedKeyOf(request.headers)).then(
    (principal) => {
      context.principal = principal;
      done(requirement === 'key' ? undefined : requireMaster(principal));
    },
    (error: Error) => done(error),
  );
}

function requireMaster(principal: Principal): Error | undefined {
  if (principal.isMaster) return undefined;
  return new PermissionDeniedError('This operation requires the master key.', { code: 'master_key_required' });
}
