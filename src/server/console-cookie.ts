/**
 * The console's session cookie (RFC 6265): `HttpOnly` (no script reads it), `SameSite=Strict`
 * (no other site's page sends it), `Secure` when the request came over TLS (directly, or as a
 * proxy in front says with `X-Forwarded-Proto: https`: a false claim only makes a browser keep
 * the cookie off plain HTTP, never the other way), `Path=/` (the console calls the public API).
 */
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';

export const SESSION_COOKIE = 'portico_session';
/** The header every cookie-authenticated change must carry (`auth/console-sessions.ts`). */
export const CSRF_HEADER = 'x-portico-csrf';

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator < 0 || pair.slice(0, separator).trim() !== name) continue;
    const value = pair.slice(separator + 1).trim();
    return value.length > 0 ? value : undefined;
  }
  return undefined;
}

export function sessionTokenOf(request: FastifyRequest): string | undefined {
  return cookieValue(request.headers.cookie, SESSION_COOKIE);
}

export function overTls(request: FastifyRequest): boolean {
  if ((request.raw.socket as TLSSocket).encrypted === true) return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',', 1)[0]?.trim().toLowerCase();
  return first === 'https';
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${Math.floor(maxAgeSeconds)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
