/**
 * LiteLLM's `general_settings.forward_client_headers_to_llm_api`: with it, a client's `x-`
 * headers (and `anthropic-beta`) reach the upstream with its request, plain and streamed, through
 * the `openai` SDK; never the client's credentials for Portico, Portico's or LiteLLM's own
 * headers, or the SDK's `x-stainless-*`; the upstream key stays the deployment's. Without it,
 * nothing is forwarded.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-forward-headers-master-0123';

let simulator: OpenAISimulator;

before(async () => {
  simulator = await startOpenAISimulator();
});
after(() => simulator?.close());

async function chatWith(forward: boolean, headers: Record<string, string>): Promise<Record<string, string | string[] | undefined>> {
  const portico: PorticoUnderTest = await startPortico(`
model_list:
  - model_name: upstream
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY} }
general_settings:
  master_key: ${MASTER_KEY}
  forward_client_headers_to_llm_api: ${forward}
`);
  try {
    const client = portico.client(MASTER_KEY, { maxRetries: 0 });
    await client.chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: 'hi' }] }, { headers });
    const plain = simulator.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!.headers;
    const stream = await client.chat.completions.create({ model: 'upstream', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { headers });
    for await (const _chunk of stream) {
      // drained
    }
    const streamed = simulator.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)!.headers;
    assert.equal(streamed['x-trace-tenant'], plain['x-trace-tenant'], 'a stream forwards as a plain request does');
    return plain;
  } finally {
    await portico.close();
  }
}

const CLIENT_HEADERS = {
  'x-trace-tenant': 'acme',
  'anthropic-beta': 'prompt-caching-2024-07-31',
  'x-api-key': 'sk-the-clients-own-secret',
  // LiteLLM's own key header, read before Authorization: the Portico key, never sent upstream.
  'x-litellm-api-key': MASTER_KEY,
  'x-portico-anything': 'ours',
};

test("with forward_client_headers_to_llm_api, the client's x- headers and anthropic-beta go upstream; credentials, Portico's and the SDK's own do not", async () => {
  const sent = await chatWith(true, CLIENT_HEADERS);
  assert.equal(sent['x-trace-tenant'], 'acme');
  assert.equal(sent['anthropic-beta'], 'prompt-caching-2024-07-31');
  assert.equal(sent['x-api-key'], undefined);
  assert.equal(sent['x-litellm-api-key'], undefined);
  assert.equal(sent['x-portico-anything'], undefined);
  assert.ok(!Object.keys(sent).some((name) => name.startsWith('x-stainless')), 'the SDK sends x-stainless-* headers; none is forwarded');
  assert.equal(sent.authorization, `Bearer ${OPENAI_SIMULATOR_API_KEY}`, "the upstream key is the deployment's");
});

test('without it, no client header is forwarded', async () => {
  const sent = await chatWith(false, CLIENT_HEADERS);
  assert.equal(sent['x-trace-tenant'], undefined);
  assert.equal(sent['anthropic-beta'], undefined);
});
