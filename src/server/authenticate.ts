/**
 * The auth hook: reads the caller's key, resolves it to a `Principal` (from memory on the hot
 * path) and enforces the route's `auth` requirement. Runs before the body is read, so an
 * unauthenticated client cannot make Portico parse anything.
 *
 * A request without a key may carry the web console's session cookie instead: it resolves to the
 * session key's `Principal`, so the console's calls to the public API are authorised exactly as
 * the key's own calls would be. A change (any method but GET/HEAD) made with the cookie must
 * carry the session's CSRF token in `x-portico-csrf`; a key in a header needs none (no other
 * site can make a browser send one).
 */
import type { FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { PermissionDeniedError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { KeyService } from '../auth/key-service.ts';
import type { ConsoleSessions } from '../auth/console-sessions.ts';
import { presentedKeyOf } from '../auth/presented-key.ts';
import { CSRF_HEADER, sessionTokenOf } from './console-cookie.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function authenticateRequest(
  request: FastifyRequest,
  keys: KeyService,
  metricsPublic: boolean,
  done: HookHandlerDoneFunction,
  sessions?: ConsoleSessions,
): void {
  const context = request.portico;
  const requirement = context.auth;
  // Unknown routes answer 404 without asking for a key: the route table is public anyway.
  if (requirement === 'none' || context.route === undefined || (requirement === 'metrics' && metricsPublic)) {
    done();
    return;
  }
  const presented = presentedKeyOf(request.headers);
  const sessionToken = presented === undefined && sessions !== undefined ? sessionTokenOf(request) : undefined;
  if (sessionToken !== undefined && sessions !== undefined) {
    sessions.resolve(sessionToken).then(
      (session) => {
        context.principal = session.principal;
        context.session = session;
        if (!SAFE_METHODS.has(request.method) && !sessions.csrfMatches(sessionToken, headerText(request.headers[CSRF_HEADER]))) {
          done(new PermissionDeniedError('This change needs the console session\'s CSRF token in the x-portico-csrf header.', { code: 'csrf_token_invalid' }));
          return;
        }
        done(requirement === 'key' ? undefined : requireMaster(session.principal));
      },
      (error: Error) => done(error),
    );
    return;
  }
  keys.authenticate(presented).then(
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

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
