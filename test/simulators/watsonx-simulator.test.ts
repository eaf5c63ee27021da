/**
 * The watsonx.ai simulator answers IBM's official SDK (`@ibm-cloud/watsonx-ai`, its
 * `IamAuthenticator` from `ibm-cloud-sdk-core` exchanging the API key at the simulated IAM):
 * chat, a streamed chat, a tool call, embeddings, a deployment's chat, and the errors the SDK
 * reports as watsonx.ai's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WatsonXAI } from '@ibm-cloud/watsonx-ai';
import { IamAuthenticator } from 'ibm-cloud-sdk-core';
import { startWatsonxSimulator, WATSONX_SIMULATOR_API_KEY, WATSONX_SIMULATOR_PROJECT_ID, type WatsonxSimulator } from './watsonx-simulator.ts';

const MODEL = 'ibm/granite-3-8b-instruct';

describe('watsonx.ai simulator, through IBM\'s watsonx.ai SDK', () => {
  let sim: WatsonxSimulator;
  let service: WatsonXAI;
  before(async () => {
    sim = await startWatsonxSimulator();
    service = WatsonXAI.newInstance({ version: '2024-05-31', serviceUrl: sim.url, authenticator: new IamAuthenticator({ apikey: WATSONX_SIMULATOR_API_KEY, url: sim.url }) });
  });
  after(() => sim.close());

  it('chats, after exchanging the API key at IAM once', async () => {
    const answer = await service.textChat({ modelId: MODEL, projectId: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'user', content: 'Hello watsonx' }], maxTokens: 50 });
    assert.equal(answer.result.choices[0]!.message!.content, 'Hello watsonx');
    assert.equal(answer.result.model_id, MODEL);
    assert.ok(answer.result.usage!.total_tokens! > 0);
    await service.textChat({ modelId: MODEL, projectId: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'user', content: 'again' }] });
    assert.equal(sim.tokensIssued(), 1, 'the token is reused');
    const sent = sim.requests.findLast((request) => request.path === '/ml/v1/text/chat')!;
    assert.equal(sent.query.version, '2024-05-31');
    assert.deepEqual([(sent.json as { model_id: string }).model_id, (sent.json as { project_id: string }).project_id], [MODEL, WATSONX_SIMULATOR_PROJECT_ID]);
  });

  it('streams a chat as id / event / data events, its usage on the last', async () => {
    const stream = await service.textChatStream({ modelId: MODEL, projectId: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'user', content: 'Stream this please' }], returnObject: true });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.data.choices[0]?.delta?.content ?? '';
      usage = chunk.data.usage ?? usage;
    }
    assert.equal(text, 'Stream this please');
    assert.ok(usage);
  });

  it('calls a tool, chats with a deployed model, and embeds', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const called = await service.textChat({ modelId: MODEL, projectId: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'user', content: 'use tool for Paris' }], tools, toolChoiceOption: 'auto' });
    assert.equal(called.result.choices[0]!.message!.tool_calls![0]!.function.name, 'get_weather');
    const deployed = await service.deploymentsTextChat({ idOrName: 'my-deployment', messages: [{ role: 'user', content: 'Deployed hello' }] });
    assert.equal(deployed.result.choices[0]!.message!.content, 'Deployed hello');
    const embedded = await service.embedText({ modelId: 'ibm/slate-125m-english-rtrvr', projectId: WATSONX_SIMULATOR_PROJECT_ID, inputs: ['one', 'two'] });
    assert.equal(embedded.result.results.length, 2);
    assert.equal(embedded.result.results[0]!.embedding.length, 384);
    assert.ok(embedded.result.input_token_count > 0);
  });

  it('refuses a missing project, a failing prompt and a revoked token as watsonx.ai does', async () => {
    await assert.rejects(service.textChat({ modelId: MODEL, messages: [{ role: 'user', content: 'x' }] } as never), (error: { status?: number; message?: string }) => error.status === 400 && /space_id or project_id/.test(String(error.message)));
    await assert.rejects(service.textChat({ modelId: MODEL, projectId: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'user', content: 'FAIL:503' }] }), (error: { status?: number }) => error.status === 503);
    sim.revokeTokens();
    await assert.rejects(service.textChat({ modelId: MODEL, projectId: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'user', content: 'x' }] }), (error: { status?: number }) => error.status === 401);
  });
});
