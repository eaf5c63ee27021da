/**
 * Fallbacks never take a key outside its `models` allowlist: a key limited to `cheap`, with
 * `fallbacks: [{cheap: [premium]}]`, gets `cheap`'s failure (here its rpm used up, which a client
 * can do on purpose), never `premium`'s answer. Keys that may use `premium` still fall back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const CONFIG = `
model_list:
  - model_name: cheap
    litellm_params: { model: mock/cheap, rpm: 1, mock_response: cheap answer }
  - model_name: premium
    litellm_params: { model: mock/premium, mock_response: premium answer }
router_settings:
  num_retries: 0
  fallbacks: [{cheap: [premium]}]
general_settings:
  master_key: sk-fallback-access-master-0123456789
`;

describe('fallbacks and the key allowlist', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(CONFIG);
  });
  after(async () => {
    await portico.close();
  });

  const ask = (client: OpenAI, stream = false) =>
    stream
      ? client.chat.completions.create({ model: 'cheap', stream: true, messages: [{ role: 'user', content: 'hello' }] })
      : client.chat.completions.create({ model: 'cheap', messages: [{ role: 'user', content: 'hello' }] });

  it("a key limited to the failing group gets its error, never a fallback group's answer (plain and streamed)", async () => {
    const cheapOnly = portico.client((await portico.generateKey({ models: ['cheap'] })).key);
    const first = (await ask(cheapOnly)) as OpenAI.ChatCompletion;
    assert.equal(first.choices[0].message.content, 'cheap answer');
    // cheap's one request a minute is used up: its group fails with 429.
    await assert.rejects(ask(cheapOnly), (error: unknown) => error instanceof OpenAI.RateLimitError && /every deployment is at its configured rpm/.test(error.message));
    await assert.rejects(ask(cheapOnly, true), OpenAI.RateLimitError);

    // Keys that may use premium (the master, a key listing both, a key without a list) fall back.
    const both = portico.client((await portico.generateKey({ models: ['cheap', 'premium'] })).key);
    const unrestricted = portico.client((await portico.generateKey({})).key);
    for (const client of [portico.client(), both, unrestricted]) {
      const answer = (await ask(client)) as OpenAI.ChatCompletion;
      assert.equal(answer.choices[0].message.content, 'premium answer');
    }
  });
});
