/**
 * The web console (issue 13), served by Portico itself under `/ui`:
 * - `GET /ui`, `/ui/`: the page; `/ui/assets/<path>` and `/ui/vendor/<name>`: its files
 *   (`server/console-assets.ts`), with a strict Content-Security-Policy and no framing.
 * - `POST /ui/api/session` `{"key": "..."}`: checks the key exactly as the API does and answers
 *   the session cookie (`server/console-cookie.ts`); the key itself is never stored or sent back.
 * - `GET /ui/api/session`: who the session is, and its CSRF token (for the page, after a reload).
 * - `DELETE /ui/api/session`: signs out (a change: the CSRF token is required, by the auth hook).
 * Everything else the console shows comes from Portico's public API, which takes the session
 * cookie in place of a key (`server/authenticate.ts`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PermissionDeniedError, NotFoundError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';
import { loadConsoleAssets, type ConsoleAsset } from '../console-assets.ts';
import { clearedSessionCookie, overTls, sessionCookie, sessionTokenOf } from '../console-cookie.ts';
import { parseInput } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { RouteModule } from '../services.ts';

const signInBody = z.strictObject({ key: z.string().min(1).max(4096) });

/** Headers of every console page and file: no sniffing, no framing, no referrer leaving the console. */
const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

export const consoleRoutes: RouteModule = {
  name: 'console',
  async register(app, services) {
    const sessions = services.consoleSessions;
    if (sessions === undefined) return;
    const assets = await loadConsoleAssets();

    const send = (request: FastifyRequest, reply: FastifyReply, file: ConsoleAsset) => {
      reply.headers(PAGE_HEADERS).header('cache-control', 'no-cache').header('etag', file.etag);
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.type(file.contentType).send(file.body);
    };

    for (const url of ['/ui', '/ui/']) {
      app.get(url, { config: { auth: 'none' } }, (request, reply) => {
        reply.header('content-security-policy', assets.contentSecurityPolicy);
        return send(request, reply, assets.index);
      });
    }
    app.get('/ui/assets/*', { config: { auth: 'none' } }, (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
      const file = assets.files.get(request.params['*']);
      if (file === undefined) throw new NotFoundError(`No console file '${request.params['*'].slice(0, 100)}'.`);
      return send(request, reply, file);
    });
    app.get('/ui/vendor/:name', { config: { auth: 'none' } }, (request: FastifyRequest<{ Params: { name: string } }>, reply) => {
      const file = assets.vendor.get(request.params.name);
      if (file === undefined) throw new NotFoundError(`No console file '${request.params.name.slice(0, 100)}'.`);
      return send(request, reply, file);
    });

    app.post('/ui/api/session', { config: { auth: 'none' } }, async (request, reply) => {
      refuseForeignOrigin(request);
      const { key } = parseInput(signInBody, request.body);
      const session = await sessions.signIn(key.trim());
      reply.header('set-cookie', sessionCookie(session.token, sessions.lifetimeSeconds, overTls(request)));
      reply.header('cache-control', 'no-store');
      return sessionView(session.principal, session.csrfToken, session.expiresAt);
    });

    app.get('/ui/api/session', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const session = request.portico.session;
      return sessionView(principalOf(request), session?.csrfToken ?? null, session?.expiresAt ?? null);
    });

    app.delete('/ui/api/session', async (request, reply) => {
      const token = sessionTokenOf(request);
      if (token !== undefined) await sessions.signOut(token);
      reply.header('set-cookie', clearedSessionCookie(overTls(request)));
      reply.header('cache-control', 'no-store');
      return { signed_out: true };
    });
  },
};

/**
 * A sign-in form posted from another site (login CSRF) is refused when the browser says where it
 * comes from; the JSON body alone already keeps plain HTML forms out.
 */
function refuseForeignOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || originHost !== host) {
    throw new PermissionDeniedError('Sign-in is accepted only from the console itself.', { code: 'foreign_origin' });
  }
}

function sessionView(principal: Principal, csrfToken: string | null, expiresAt: number | null) {
  return {
    object: 'console.session',
    is_master: principal.isMaster,
    key_id: principal.keyId,
    owner: principal.owner,
    user_id: principal.userId,
    team_id: principal.teamId,
    models: principal.allowedModels === null ? null : [...principal.allowedModels],
    csrf_token: csrfToken,
    expires_at: expiresAt === null ? null : Math.floor(expiresAt),
  };
}
