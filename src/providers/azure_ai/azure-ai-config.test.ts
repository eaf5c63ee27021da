/**
 * `azure_ai/` (Azure AI Foundry's model inference API), as LiteLLM's `AzureAIStudioConfig` calls
 * it: under `/models` with the key in `api-key` on a `*.services.ai.azure.com` resource, at the base
 * with Bearer on a serverless endpoint, `api_version` as the `api-version` query parameter, and a
 * pasted operation URL read back to its base. End to end against the OpenAI simulator serving
 * Foundry's API (`keyHeader: 'api-key'`, proven with the openai SDK in `simulators.test.ts`),
 * under the resource's host name (this test answers that name's lookups itself).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
import { answerLookups } from '../../../test/helpers/fake-dns.ts';
import { parseConfig } from '../../config/load-config.ts';
import { providerFor } from '../registry.ts';
import { chatStreamText, collectSseData, withSettings } from '../testing/provider-test-helpers.ts';

const RESOURCE = 'contoso-ai.services.ai.azure.com';

function clientOf(apiBase: string, extra = '') {
  const deployment = parseConfig(`model_list:\n  - {model_name: g, litellm_params: {model: azure_ai/Mistral-Large-2411, api_base: "${apiBase}", api_key: ${OPENAI_SIMULATOR_API_KEY}${extra}}}\n`, {}).deployments[0];
  return providerFor('azure_ai')!.createClient(...withSettings(deployment));
}

describe('azure_ai/', () => {
  let foundry: OpenAISimulator;
  let serverless: OpenAISimulator;
  let restoreLookups = () => {};

  before(async () => {
    [foundry, serverless] = await Promise.all([startOpenAISimulator({ basePath: '/models', keyHeader: 'api-key' }), startOpenAISimulator({ basePath: '/' })]);
    restoreLookups = answerLookups(RESOURCE, [{ address: '127.0.0.1', family: 4 }]);
  });
  after(async () => {
    restoreLookups();
    await Promise.all([foundry.close(), serverless.close()]);
  });

  const port = () => new URL(foundry.origin).port;

  it('on a services.ai.azure.com resource: /models/chat/completions, the key in api-key, api_version as api-version', async () => {
    const client = clientOf(`http://${RESOURCE}:${port()}`, ', api_version: 2024-05-01-preview');
    const answer = await client.chatCompletions({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hello ' }, { type: 'text', text: 'foundry' }] }] });
    assert.equal((answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, 'hello foundry');
    const request = foundry.requests.at(-1)!;
    assert.equal(request.path, '/models/chat/completions');
    assert.equal(request.query['api-version'], '2024-05-01-preview');
    assert.equal(request.headers['api-key'], OPENAI_SIMULATOR_API_KEY);
    assert.equal(request.headers.authorization, undefined, 'no Bearer beside it');
    assert.equal((request.json as { messages: Array<{ content: unknown }> }).messages[0].content, 'hello foundry', 'text parts sent as one string');
    const stream = await client.chatCompletionsStream({ messages: [{ role: 'user', content: 'streamed' }] });
    assert.equal(chatStreamText(await collectSseData(stream.body)), 'streamed');
    await client.embeddings!({ input: 'x' });
    assert.equal(foundry.requests.at(-1)!.path, '/models/embeddings');
  });

  it("reads a pasted operation URL back to its base, its api-version kept", async () => {
    const client = clientOf(`http://${RESOURCE}:${port()}/models/chat/completions?api-version=2024-10-01-preview`);
    await client.chatCompletions({ messages: [{ role: 'user', content: 'x' }] });
    const request = foundry.requests.at(-1)!;
    assert.equal(request.path, '/models/chat/completions');
    assert.equal(request.query['api-version'], '2024-10-01-preview');
  });

  it('on a serverless endpoint elsewhere: the base itself, Bearer', async () => {
    const client = clientOf(serverless.origin);
    await client.chatCompletions({ messages: [{ role: 'user', content: 'x' }] });
    const request = serverless.requests.at(-1)!;
    assert.equal(request.path, '/chat/completions');
    assert.equal(request.headers.authorization, `Bearer ${OPENAI_SIMULATOR_API_KEY}`);
    assert.equal(request.headers['api-key'], undefined);
  });

  it('needs an api_base, from the config or AZURE_AI_API_BASE', () => {
    assert.throws(() => parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: azure_ai/m, api_key: k}}\n', {}), /azure_ai deployments need api_base/);
    const fromEnv = parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: azure_ai/m}}\n', { AZURE_AI_API_KEY: 'k', AZURE_AI_API_BASE: `https://${RESOURCE}` }).deployments[0];
    assert.equal(fromEnv.apiKey, 'k');
  });
});
