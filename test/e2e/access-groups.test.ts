/**
 * LiteLLM's model access groups (https://docs.litellm.ai/docs/proxy/model_access): deployments
 * name groups in `model_info.access_groups`, and a key whose `models` names an access group may
 * use every model group in it, as if it had listed them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

describe('model access groups', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(`
model_list:
  - {model_name: beta-chat, litellm_params: {model: mock/beta-chat}, model_info: {access_groups: [beta-models]}}
  - {model_name: beta-embed, litellm_params: {model: mock/beta-embed}, model_info: {access_groups: [beta-models, embeddings]}}
  - {model_name: stable, litellm_params: {model: mock/stable}}
  - {model_name: "lab/*", litellm_params: {model: "mock/*"}, model_info: {access_groups: [lab]}}
general_settings:
  master_key: sk-access-groups-master-0123
`);
  });
  after(() => portico.close());

  it('a key naming an access group uses every model group in it, and nothing else', async () => {
    assert.deepEqual(portico.config.warnings, [], 'access_groups is read, not warned about');
    const { key } = await portico.generateKey({ models: ['beta-models'] });
    const client = portico.client(key);
    const chat = await client.chat.completions.create({ model: 'beta-chat', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(chat.choices.length, 1);
    const embedding = await client.embeddings.create({ model: 'beta-embed', input: 'hi' });
    assert.equal(embedding.data.length, 1);
    const refused = await client.chat.completions.create({ model: 'stable', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.APIError && [401, 403].includes(refused.status ?? 0), String(refused));
    assert.deepEqual((await client.models.list()).data.map((model) => model.id).sort(), ['beta-chat', 'beta-embed']);
  });

  it('an access group of a wildcard route covers the names it serves; an unknown name is still refused at /key/generate', async () => {
    const { key } = await portico.generateKey({ models: ['lab'] });
    const answer = await portico.client(key).chat.completions.create({ model: 'lab/anything', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices.length, 1);
    const refused = await portico.fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ models: ['no-such-group'] }) });
    assert.equal(refused.status, 400);
  });
});
