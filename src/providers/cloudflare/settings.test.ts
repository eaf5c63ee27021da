import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { providerSettingsOf } from '../../config/provider-settings.ts';
import { cloudflareProvider } from './index.ts';
import { modelUrlOf } from './http-client.ts';

const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353';
const settingsOf = (params: Record<string, unknown>, env: Record<string, string> = {}) => providerSettingsOf(cloudflareProvider, { model: 'cloudflare/@cf/meta/llama-3.1-8b-instruct', ...params }, env);

describe('cloudflare/ settings', () => {
  it("without api_base, LiteLLM's default URL is built from CLOUDFLARE_ACCOUNT_ID (or account_id)", () => {
    assert.deepEqual(settingsOf({ api_key: 'k' }, { CLOUDFLARE_ACCOUNT_ID: ACCOUNT }), { apiKey: 'k', runUrlPrefix: `https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/run/` });
    assert.equal(settingsOf({ account_id: ACCOUNT }).runUrlPrefix, `https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/run/`);
    assert.equal(settingsOf({}, { CLOUDFLARE_ACCOUNT_ID: ACCOUNT }).apiKey, undefined);
  });

  it("api_base is LiteLLM's prefix (slash added); the OpenAI-compatible .../ai/v1 and the v4 API root are accepted too", () => {
    const base = `https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/run`;
    assert.equal(settingsOf({ api_base: base }).runUrlPrefix, `${base}/`);
    assert.equal(settingsOf({ api_base: `${base}/` }).runUrlPrefix, `${base}/`);
    assert.equal(settingsOf({ api_base: `https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/v1/` }).runUrlPrefix, `${base}/`);
    assert.equal(settingsOf({ api_base: 'http://127.0.0.1:9/client/v4' }, { CLOUDFLARE_ACCOUNT_ID: ACCOUNT }).runUrlPrefix, `http://127.0.0.1:9/client/v4/accounts/${ACCOUNT}/ai/run/`);
    // An api_base names its account: the environment's is not needed.
    assert.equal(settingsOf({ api_base: `${base}/` }, { CLOUDFLARE_ACCOUNT_ID: 'not-an-account' }).runUrlPrefix, `${base}/`);
  });

  it('neither api_base nor an account id is a start-up error naming both; so are a bad account id and a root without account', () => {
    assert.throws(() => settingsOf({ api_key: 'k' }), /api_base: .*api_base.*account_id.*CLOUDFLARE_ACCOUNT_ID/);
    assert.throws(() => settingsOf({ account_id: 'my-account' }), /account_id: must be a Cloudflare account id/);
    assert.throws(() => settingsOf({ api_base: 'https://api.cloudflare.com/client/v4' }), /api_base: is the v4 API root/);
    assert.throws(() => settingsOf({ api_base: 'ftp://x' }), /api_base: must be an http\(s\) URL/);
  });

  it("the model is appended as LiteLLM appends it, its @ and slashes kept", () => {
    assert.equal(modelUrlOf('https://h/ai/run/', '@cf/meta/llama-3.1-8b-instruct'), 'https://h/ai/run/@cf/meta/llama-3.1-8b-instruct');
    assert.equal(modelUrlOf('https://h/ai/run/', '@cf/x/a model?'), 'https://h/ai/run/@cf/x/a%20model%3F');
  });

  it('environment defaults: the key from CLOUDFLARE_API_KEY or CLOUDFLARE_API_TOKEN, the base from CLOUDFLARE_API_BASE; batches emulated', () => {
    assert.deepEqual(cloudflareProvider.environmentDefaults?.('cloudflare'), { apiKey: ['CLOUDFLARE_API_KEY', 'CLOUDFLARE_API_TOKEN'], apiBase: ['CLOUDFLARE_API_BASE'] });
    assert.equal(cloudflareProvider.defaultBatchMode, 'emulate');
    assert.ok(cloudflareProvider.unsupportedParams?.('cloudflare').includes('n'));
  });
});
