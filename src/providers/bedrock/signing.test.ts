import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCredentialCache } from './credentials.ts';
import { signatureHeaders } from './signing.ts';

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AT = new Date(Date.UTC(2015, 7, 30, 12, 36, 0));
const URL_ = 'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse';

describe('SigV4 signing of Bedrock requests', () => {
  it('adds authorization, x-amz-date and the body hash; the scope is the region and service bedrock', async () => {
    const headers = await signatureHeaders({ method: 'POST', url: URL_, headers: { 'content-type': 'application/json' }, body: '{"messages":[]}' }, KEYS, { region: 'us-east-1' }, AT);
    assert.equal(headers['x-amz-date'], '20150830T123600Z');
    assert.equal(headers['x-amz-content-sha256'], createHash('sha256').update('{"messages":[]}').digest('hex'));
    assert.match(headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    assert.equal(headers.host, undefined, 'the agent sends the host of the URL');
  });

  it('is deterministic for one moment, and changes with the body, the path, the secret and the region', async () => {
    const sign = (overrides: { url?: string; body?: string; secret?: string; region?: string } = {}) =>
      signatureHeaders({ method: 'POST', url: overrides.url ?? URL_, headers: {}, body: overrides.body ?? '{}' }, { ...KEYS, secretAccessKey: overrides.secret ?? KEYS.secretAccessKey }, { region: overrides.region ?? 'us-east-1' }, AT).then((h) => h.authorization);
    const base = await sign();
    assert.equal(await sign(), base);
    for (const other of [{ body: '{ }' }, { url: URL_.replace('converse', 'converse-stream') }, { secret: 'x' }, { region: 'us-west-2' }]) assert.notEqual(await sign(other), base, JSON.stringify(other));
  });

  it('a session token is sent and signed as x-amz-security-token', async () => {
    const headers = await signatureHeaders({ method: 'GET', url: 'https://bedrock.us-east-1.amazonaws.com/model-invocation-job/abc', headers: {} }, { ...KEYS, sessionToken: 'TOKEN' }, { region: 'us-east-1' }, AT);
    assert.equal(headers['x-amz-security-token'], 'TOKEN');
    assert.match(headers.authorization, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  });
});

describe('AWS credential cache', () => {
  it('keeps expiring credentials until shortly before they end, then fetches once for all callers', async () => {
    let now = 0;
    let fetches = 0;
    const cache = createCredentialCache(async () => {
      fetches += 1;
      return { accessKeyId: `K${fetches}`, secretAccessKey: 's', sessionToken: 't', expiration: new Date(now + 3_600_000) };
    }, () => now);
    assert.equal((await cache.get()).accessKeyId, 'K1');
    now = 3_600_000 - 6 * 60_000;
    assert.equal((await cache.get()).accessKeyId, 'K1', 'six minutes left: still good');
    now = 3_600_000 - 4 * 60_000;
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    assert.equal(a.accessKeyId, 'K2');
    assert.equal(b.accessKeyId, 'K2');
    assert.equal(fetches, 2, 'one fetch for both callers');
  });

  it('credentials without an expiration are kept until dropped as stale', async () => {
    let fetches = 0;
    const cache = createCredentialCache(async () => ({ accessKeyId: `K${++fetches}`, secretAccessKey: 's' }));
    const first = await cache.get();
    assert.equal((await cache.get()).accessKeyId, 'K1');
    cache.invalidate(first);
    assert.equal((await cache.get()).accessKeyId, 'K2');
  });
});
