/**
 * The web console at the HTTP level, on SQLite and PostgreSQL: a key exchanged for a session
 * cookie (its flags, nothing of the key stored or echoed), the cookie standing for the key on the
 * public API with the same authorization, CSRF refused without the session's token, sign-out,
 * sessions shared by two instances on one database, the console's files and its admin endpoints
 * (`/deployments`, `/key/list`, a file's placement).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startPortico, startPorticoWithStorage, type PorticoUnderTest, type PorticoWithStorage } from '../helpers/portico.ts';
import { ALL_DIALECTS } from '../helpers/databases.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../scale-out/redis-helpers.ts';

const MASTER_KEY = 'sk-console-master-0123456789';

const configFor = (storageDir: string) => `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat, rpm: 600, tpm: 100000 }
    model_info: { id: chat-a }
  - model_name: embed
    litellm_params: { model: mock/embed }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files: { storage_dir: ${storageDir} }
`;

interface SessionView {
  is_master: boolean;
  key_id: string | null;
  csrf_token: string | null;
}

/** Signs in with `key`; answers the cookie pair (`portico_session=...`), the raw Set-Cookie and the body. */
async function signIn(portico: PorticoUnderTest, key: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${portico.url}/ui/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ key }),
  });
  const setCookie = response.headers.get('set-cookie');
  const body = (await response.json()) as SessionView & { error?: { code: string } };
  return { status: response.status, setCookie, cookie: setCookie?.split(';', 1)[0] ?? '', body };
}

function withCookie(portico: PorticoUnderTest, path: string, cookie: string, init: RequestInit = {}) {
  return portico.fetch(path, { ...init, apiKey: null, headers: { ...(init.headers as Record<string, string>), cookie } });
}

async function uploadBatchFile(portico: PorticoUnderTest, apiKey: string | undefined, lines: number): Promise<string> {
  const text = Array.from({ length: lines }, (_, i) => JSON.stringify({ custom_id: `l-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'chat', messages: [{ role: 'user', content: `hi ${i}` }] } })).join('\n');
  const file = await portico.client(apiKey).files.create({ file: new File([text], 'in.jsonl'), purpose: 'batch' });
  return file.id;
}

for (const dialect of ALL_DIALECTS) {
  describe(`web console over HTTP [${dialect}]`, () => {
    let portico: PorticoWithStorage;
    before(async () => {
      portico = await startPorticoWithStorage(configFor, { dialect });
    });
    after(async () => {
      await portico?.close();
    });

    test('signing in answers an HttpOnly, SameSite=Strict session cookie, never the key, and stores no key', async () => {
      const session = await signIn(portico, MASTER_KEY);
      assert.equal(session.status, 200);
      assert.match(session.setCookie ?? '', /^portico_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
      assert.ok(!/Secure/.test(session.setCookie ?? ''), 'no Secure flag over plain HTTP');
      assert.equal(session.body.is_master, true);
      assert.ok(session.body.csrf_token);
      assert.ok(!JSON.stringify(session.body).includes(MASTER_KEY));
      const rows = await sql<Record<string, unknown>>`select * from console_sessions`.execute(portico.services.database.kysely);
      const token = session.cookie.split('=')[1];
      for (const row of rows.rows) {
        const text = JSON.stringify(row);
        assert.ok(!text.includes(MASTER_KEY) && !text.includes(token), `a session row holds no key and no token: ${text}`);
      }
    });

    test('behind TLS (X-Forwarded-Proto: https) the cookie is Secure too', async () => {
      const session = await signIn(portico, MASTER_KEY, { 'x-forwarded-proto': 'https' });
      assert.match(session.setCookie ?? '', /; HttpOnly; SameSite=Strict; Secure$/);
    });

    test('a wrong key gets the API\'s 401 and no cookie; a sign-in posted from another site is refused', async () => {
      const wrong = await signIn(portico, 'sk-not-a-key');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.setCookie, null);
      const foreign = await signIn(portico, MASTER_KEY, { origin: 'https://evil.example' });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.body.error?.code, 'foreign_origin');
      assert.equal(foreign.setCookie, null);
      const form = await fetch(`${portico.url}/ui/api/session`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `{"key":"${MASTER_KEY}"}` });
      assert.equal(form.status, 400);
      assert.equal(form.headers.get('set-cookie'), null);
    });

    test('with the cookie, reads work; a change without the CSRF token (or with another session\'s) is refused with 403', async () => {
      const session = await signIn(portico, MASTER_KEY);
      const other = await signIn(portico, MASTER_KEY);
      assert.equal((await withCookie(portico, '/v1/batches', session.cookie)).status, 200);
      const generate = (headers: Record<string, string>) =>
        withCookie(portico, '/key/generate', session.cookie, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ key_alias: 'csrf' }) });
      const missing = await generate({});
      assert.equal(missing.status, 403);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'csrf_token_invalid');
      assert.equal((await generate({ 'x-portico-csrf': other.body.csrf_token as string })).status, 403);
      assert.equal((await generate({ 'x-portico-csrf': 'x'.repeat(43) })).status, 403);
      const listed = async () => ((await (await portico.fetch('/key/list?return_full_object=true&size=100')).json()) as { keys: { key_alias: string | null }[] }).keys;
      assert.equal((await listed()).filter((key) => key.key_alias === 'csrf').length, 0, 'the refused changes changed nothing');
      const accepted = await generate({ 'x-portico-csrf': session.body.csrf_token as string });
      assert.equal(accepted.status, 200);
      assert.equal((await listed()).filter((key) => key.key_alias === 'csrf').length, 1);
    });

    test('uploads and deletes with the cookie need the CSRF token too; a key in a header needs none, cookie or not', async () => {
      const session = await signIn(portico, MASTER_KEY);
      const upload = (headers: Record<string, string>) => {
        const form = new FormData();
        form.append('purpose', 'batch');
        form.append('file', new Blob([JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'chat', messages: [] } })]), 'a.jsonl');
        return withCookie(portico, '/v1/files', session.cookie, { method: 'POST', headers, body: form });
      };
      assert.equal((await upload({})).status, 403);
      const uploaded = await upload({ 'x-portico-csrf': session.body.csrf_token as string });
      assert.equal(uploaded.status, 200);
      const { id } = (await uploaded.json()) as { id: string };
      assert.equal((await withCookie(portico, `/v1/files/${id}`, session.cookie, { method: 'DELETE' })).status, 403);
      assert.equal((await withCookie(portico, `/v1/files/${id}`, session.cookie)).status, 200, 'still there');
      const byKey = await portico.fetch(`/v1/files/${id}`, { method: 'DELETE', headers: { cookie: session.cookie } });
      assert.equal(byKey.status, 200, 'the Authorization header decides: no CSRF token needed');
    });

    test('a virtual key\'s session is that key: its own batches only, no master routes; deleting the key ends it', async () => {
      const first = await portico.generateKey({ key_alias: 'first', user_id: 'ada' });
      const second = await portico.generateKey({ key_alias: 'second', user_id: 'bob' });
      const firstFile = await uploadBatchFile(portico, first.key, 2);
      const firstBatch = await portico.client(first.key).batches.create({ input_file_id: firstFile, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const secondSession = await signIn(portico, second.key);
      assert.equal(secondSession.body.is_master, false);
      assert.equal(secondSession.body.key_id, second.token);
      const list = (await (await withCookie(portico, '/v1/batches', secondSession.cookie)).json()) as { data: { id: string }[] };
      assert.ok(!list.data.some((batch) => batch.id === firstBatch.id));
      assert.equal((await withCookie(portico, `/v1/batches/${firstBatch.id}`, secondSession.cookie)).status, 404);
      assert.equal((await withCookie(portico, `/v1/files/${firstFile}/placement`, secondSession.cookie)).status, 404);
      assert.equal((await withCookie(portico, '/key/list', secondSession.cookie)).status, 403);
      assert.equal((await withCookie(portico, '/deployments', secondSession.cookie)).status, 403);
      const info = (await (await withCookie(portico, '/key/info', secondSession.cookie)).json()) as { key: string };
      assert.equal(info.key, second.token);
      const firstSession = await signIn(portico, first.key);
      const own = (await (await withCookie(portico, `/v1/batches/${firstBatch.id}`, firstSession.cookie)).json()) as { id: string; portico: { provider: string } };
      assert.equal(own.id, firstBatch.id);
      assert.equal(own.portico.provider, 'mock');
      await portico.fetch('/key/delete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [second.token] }) });
      const gone = await withCookie(portico, '/v1/batches', secondSession.cookie);
      assert.equal(gone.status, 401);
    });

    test('signing out clears the cookie and ends the session; the same cookie no longer works', async () => {
      const session = await signIn(portico, MASTER_KEY);
      const refused = await withCookie(portico, '/ui/api/session', session.cookie, { method: 'DELETE' });
      assert.equal(refused.status, 403, 'signing out is a change: it needs the CSRF token too');
      const out = await withCookie(portico, '/ui/api/session', session.cookie, { method: 'DELETE', headers: { 'x-portico-csrf': session.body.csrf_token as string } });
      assert.equal(out.status, 200);
      assert.match(out.headers.get('set-cookie') ?? '', /^portico_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
      const after = await withCookie(portico, '/ui/api/session', session.cookie);
      assert.equal(after.status, 401);
      assert.equal(((await after.json()) as { error: { code: string } }).error.code, 'invalid_session');
    });

    test('the console page and its files: a strict CSP, the three vendored modules, nothing else from disk', async () => {
      const page = await fetch(`${portico.url}/ui`);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.match(await page.text(), /<script type="importmap">/);
      for (const name of ['preact.js', 'preact-hooks.js', 'htm.js']) {
        const vendor = await fetch(`${portico.url}/ui/vendor/${name}`);
        assert.equal(vendor.status, 200, name);
        assert.match(vendor.headers.get('content-type') ?? '', /^text\/javascript/);
      }
      const app = await fetch(`${portico.url}/ui/assets/app.js`);
      assert.equal(app.status, 200);
      const again = await fetch(`${portico.url}/ui/assets/app.js`, { headers: { 'if-none-match': app.headers.get('etag') as string } });
      assert.equal(again.status, 304);
      for (const path of ['/ui/assets/../package.json', '/ui/assets/%2e%2e/package.json', '/ui/vendor/preact', '/ui/vendor/..%2fpackage.json', '/ui/assets/lib/batch-state.test.js']) {
        assert.equal((await fetch(`${portico.url}${path}`)).status, 404, path);
      }
    });

    test('/deployments (master): health, cooldowns and rpm/tpm use against the limits', async () => {
      await portico.client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'count me' }] });
      const answer = (await (await portico.fetch('/deployments')).json()) as { data: Record<string, unknown>[] };
      const chat = answer.data.find((deployment) => deployment.id === 'chat-a');
      assert.ok(chat);
      assert.equal(chat.status, 'healthy');
      assert.equal(chat.cooldown_until, null);
      assert.equal(chat.provider, 'mock');
      assert.equal(chat.rpm_limit, 600);
      assert.equal(chat.tpm_limit, 100000);
      assert.ok((chat.rpm_used as number) >= 1, `rpm used: ${chat.rpm_used}`);
      assert.ok((chat.tpm_used as number) > 0, `tpm used: ${chat.tpm_used}`);
      const embed = answer.data.find((deployment) => deployment.model_name === 'embed');
      assert.equal(embed?.rpm_limit, null);
      assert.equal(embed?.rpm_used, null);
      assert.ok(!JSON.stringify(answer).includes('api_key'));
    });

    test('a file\'s placement: what the upload learnt and whether Portico holds it', async () => {
      const id = await uploadBatchFile(portico, undefined, 3);
      const placement = (await (await portico.fetch(`/v1/files/${id}/placement`)).json()) as Record<string, unknown>;
      assert.equal(placement.id, id);
      assert.equal(placement.line_count, 3);
      assert.equal(placement.batch_endpoint, '/v1/chat/completions');
      assert.equal(placement.stored_in_gateway, true);
      assert.deepEqual(placement.copies, []);
      assert.match(placement.checksum_sha256 as string, /^[0-9a-f]{64}$/);
    });
  });
}

describe('console sessions on one PostgreSQL shared by two instances', () => {
  let first: PorticoWithStorage;
  let second: PorticoUnderTest;
  before(async () => {
    first = await startPorticoWithStorage(configFor, { dialect: 'postgres' });
    second = await startPortico(configFor(first.storageDir), { databaseUrl: first.databaseUrl });
  });
  after(async () => {
    await second?.close();
    await first?.close();
  });

  test('a session opened on one instance works on the other, and signing out on one ends it on both', async () => {
    const session = await signIn(first, MASTER_KEY);
    assert.equal((await withCookie(second, '/v1/files', session.cookie)).status, 200);
    const out = await withCookie(second, '/ui/api/session', session.cookie, { method: 'DELETE', headers: { 'x-portico-csrf': session.body.csrf_token as string } });
    assert.equal(out.status, 200);
    assert.equal((await withCookie(first, '/v1/files', session.cookie)).status, 401);
  });
});

/** A deployment nobody answers for (connection refused): one failure cools it down. */
const coolingConfig = (storageDir: string) => `
model_list:
  - model_name: dead
    litellm_params: { model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", api_key: sk-unreachable-upstream-0000000000, max_retries: 0 }
    model_info: { id: dead-a }
  - model_name: chat
    litellm_params: { model: mock/chat }
general_settings:
  master_key: ${MASTER_KEY}
router_settings: { allowed_fails: 1, cooldown_time: 30, num_retries: 0 }
portico_settings:
  files: { storage_dir: ${storageDir} }
`;

for (const shared of ['in memory', 'in Redis'] as const) {
  describe(`/deployments shows a cooldown (${shared})`, () => {
    let portico: PorticoWithStorage;
    const prefix = uniqueRedisPrefix('console-cooldown');
    before(async () => {
      portico = await startPorticoWithStorage(coolingConfig, shared === 'in Redis' ? { redisUrl: TEST_REDIS_URL, redisPrefix: prefix } : {});
    });
    after(async () => {
      await portico?.close();
      if (shared === 'in Redis') await deleteRedisKeys(prefix);
    });

    test('a deployment that failed is cooling down, with when it ends; the others are healthy', async () => {
      const failed = await portico.fetch('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dead', messages: [{ role: 'user', content: 'hi' }] }) });
      assert.ok(failed.status >= 500, `the unreachable upstream fails: ${failed.status}`);
      const answer = (await (await portico.fetch('/deployments')).json()) as { data: { id: string; model_name: string; status: string; cooldown_until: string | null; cooldown_remaining_seconds: number | null }[] };
      const dead = answer.data.find((deployment) => deployment.id === 'dead-a');
      assert.equal(dead?.status, 'cooling_down');
      assert.ok(dead.cooldown_remaining_seconds !== null && dead.cooldown_remaining_seconds > 20 && dead.cooldown_remaining_seconds <= 30, `remaining: ${dead.cooldown_remaining_seconds}`);
      const until = Date.parse(dead.cooldown_until as string);
      assert.ok(until > Date.now() + 20_000 && until <= Date.now() + 31_000);
      assert.equal(answer.data.find((deployment) => deployment.model_name === 'chat')?.status, 'healthy');
    });
  });
}
