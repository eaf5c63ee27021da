/** Console sessions over the real stores on an in-memory SQLite database, with a clock the tests move. */
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuthenticationError } from '../spec/errors.ts';
import { ConsoleSessionStore } from '../storage/console-session-store.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { KeyStore } from '../storage/key-store.ts';
import { ConsoleSessions } from './console-sessions.ts';
import { KeyService } from './key-service.ts';

const MASTER = 'sk-console-session-master';
const input = { models: [] as string[], userId: 'ada', teamId: null, keyAlias: null, durationMs: null, metadata: {} };

let database: Database;

function setup(masterKey = MASTER) {
  let now = Date.now();
  const clock = () => now;
  const keys = new KeyService(new KeyStore(database), { masterKey, now: clock });
  const store = new ConsoleSessionStore(database);
  const sessions = new ConsoleSessions(store, keys, { masterKey, lifetimeSeconds: 3600, now: clock });
  return { keys, store, sessions, advance: (ms: number) => (now += ms) };
}

const isInvalidSession = (error: unknown) => error instanceof AuthenticationError && error.code === 'invalid_session';

describe('ConsoleSessions', () => {
  before(async () => {
    database = await openDatabase('file::memory:');
  });
  after(async () => {
    await database?.close();
  });

  it('resolves a master key session to the master, and a virtual key session to that key', async () => {
    const { keys, sessions } = setup();
    const master = await sessions.signIn(MASTER);
    assert.equal((await sessions.resolve(master.token)).principal.isMaster, true);
    const { secret, record } = await keys.generate(input);
    const keyed = await sessions.signIn(secret);
    const resolved = await sessions.resolve(keyed.token);
    assert.equal(resolved.principal.keyId, record.id);
    assert.equal(resolved.principal.owner, 'user:ada');
    assert.equal(resolved.csrfToken, keyed.csrfToken);
  });

  it('refuses a wrong key exactly as the API does, and opens no session', async () => {
    const { sessions } = setup();
    await assert.rejects(sessions.signIn('sk-wrong'), (error: unknown) => error instanceof AuthenticationError && error.code === 'invalid_api_key');
  });

  it('expires: a session past its lifetime is refused, and removed by the next sign-in', async () => {
    const { sessions, store, advance } = setup();
    const session = await sessions.signIn(MASTER);
    advance(3599_000);
    await sessions.resolve(session.token);
    advance(2_000);
    await assert.rejects(sessions.resolve(session.token), isInvalidSession);
    const id = hash('sha256', session.token, 'hex');
    assert.ok(await store.findLive(id, 0), 'an expired row stays until the next sign-in');
    await sessions.signIn(MASTER);
    assert.equal(await store.findLive(id, 0), undefined, 'the expired row is gone');
  });

  it('a master key session ends when the master key changes', async () => {
    const before = setup('sk-console-old-master');
    const session = await before.sessions.signIn('sk-console-old-master');
    const after = setup('sk-console-new-master');
    await assert.rejects(after.sessions.resolve(session.token), isInvalidSession);
  });

  it('ends with its key: deleted or expired', async () => {
    const { keys, sessions, advance } = setup();
    const kept = await keys.generate({ ...input, durationMs: 60_000 });
    const session = await sessions.signIn(kept.secret);
    advance(61_000);
    await assert.rejects(sessions.resolve(session.token), (error: unknown) => error instanceof AuthenticationError && error.code === 'key_expired');
    const deleted = await keys.generate(input);
    const other = await sessions.signIn(deleted.secret);
    await keys.delete([deleted.record.id]);
    await assert.rejects(sessions.resolve(other.token), isInvalidSession);
  });

  it('checks the CSRF token against the session it was derived from', async () => {
    const { sessions } = setup();
    const one = await sessions.signIn(MASTER);
    const two = await sessions.signIn(MASTER);
    assert.equal(sessions.csrfMatches(one.token, one.csrfToken), true);
    assert.equal(sessions.csrfMatches(one.token, two.csrfToken), false);
    assert.equal(sessions.csrfMatches(one.token, undefined), false);
    assert.equal(sessions.csrfMatches(one.token, ''), false);
  });

  it('refuses tokens that are not session tokens without a lookup, and signs out', async () => {
    const { sessions } = setup();
    await assert.rejects(sessions.resolve('short'), isInvalidSession);
    const session = await sessions.signIn(MASTER);
    await sessions.signOut(session.token);
    await assert.rejects(sessions.resolve(session.token), isInvalidSession);
  });
});
