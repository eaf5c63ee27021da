/**
 * Calls to Portico's own public API from the console. The session cookie (HttpOnly) goes along by
 * itself; every change carries the session's CSRF token in `x-portico-csrf`. Errors arrive in
 * OpenAI's envelope and become `ApiError`s with its message.
 */

let csrfToken = null;
let onSignedOut = () => {};

export function useSession(session, signedOut) {
  csrfToken = session?.csrf_token ?? null;
  onSignedOut = signedOut;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `Portico answered HTTP ${status}.`);
    this.status = status;
    this.code = body?.error?.code ?? null;
  }
}

/** `fetch` with the console's headers; throws `ApiError` unless the answer is 2xx. */
export async function request(path, { method = 'GET', json, form } = {}) {
  const headers = {};
  if (method !== 'GET' && csrfToken !== null) headers['x-portico-csrf'] = csrfToken;
  let body;
  if (form !== undefined) body = form;
  else if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  if (!response.ok) {
    let envelope = null;
    try {
      envelope = await response.json();
    } catch {
      // Not JSON: the status says enough.
    }
    const error = new ApiError(response.status, envelope);
    if (response.status === 401 && path !== '/ui/api/session') onSignedOut();
    throw error;
  }
  return response;
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function sendJson(method, path, json) {
  return (await request(path, { method, json })).json();
}
