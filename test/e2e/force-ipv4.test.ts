/**
 * LiteLLM's `litellm_settings.force_ipv4`: upstream connections go over IPv4 only. The upstream's
 * host name resolves to both `::1` and `127.0.0.1` (this test answers the name lookups of its own
 * process, so no system file changes), with an OpenAI-compatible server on each address saying
 * which one it is: by default Node tries the IPv6 address first (happy eyeballs); with
 * `force_ipv4: true` Portico reaches the IPv4 one.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { answerLookups } from '../helpers/fake-dns.ts';
import { startPortico } from '../helpers/portico.ts';

const HOST = 'dual-stack.portico.test';
const MASTER_KEY = 'sk-force-ipv4-master-0123';

const servers: Server[] = [];
let port = 0;
let restoreLookups = () => {};

function answering(family: string): Server {
  return createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          id: 'chatcmpl-family',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: `over ${family}` }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
        }),
      );
    });
  });
}

before(async () => {
  const v6 = answering('IPv6');
  await new Promise<void>((resolve) => v6.listen(0, '::1', resolve));
  port = (v6.address() as AddressInfo).port;
  const v4 = answering('IPv4');
  await new Promise<void>((resolve) => v4.listen(port, '127.0.0.1', resolve));
  servers.push(v6, v4);
  // net.connect resolves host names through dns.lookup: HOST has an address of each family.
  restoreLookups = answerLookups(HOST, [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ]);
});

after(async () => {
  restoreLookups();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function answerWith(litellmSettings: string): Promise<string | null> {
  const portico = await startPortico(`
model_list:
  - model_name: m
    litellm_params: { model: hosted_vllm/m, api_base: "http://${HOST}:${port}/v1", api_key: sk-upstream }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
${litellmSettings}`);
  try {
    const answer = await portico.client(MASTER_KEY, { maxRetries: 0 }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'which family?' }] });
    return answer.choices[0].message.content;
  } finally {
    await portico.close();
  }
}

test('without force_ipv4 the upstream is reached over IPv6, the address Node tries first', async () => {
  assert.equal(await answerWith(''), 'over IPv6');
});

test('force_ipv4: true reaches it over IPv4, and warns about nothing', async () => {
  assert.equal(await answerWith('litellm_settings: {force_ipv4: true}'), 'over IPv4');
  assert.equal(await answerWith(''), 'over IPv6', 'a later config without it uses both families again');
});
