/**
 * LiteLLM's `litellm_settings.ssl_verify` for an internal OpenAI-compatible upstream served over
 * HTTPS with a certificate no public CA signed (`test/fixtures/tls/`): refused by default (the
 * client gets a 5xx in OpenAI's envelope, not a hang), served with `ssl_verify: false`, and served
 * with `ssl_verify: <the CA bundle's path>`; an unreadable bundle is a start-up error naming it.
 * The upstream is a small HTTPS server answering OpenAI's chat completion shape.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { parseConfig } from '../../src/config/load-config.ts';
import { startPortico } from '../helpers/portico.ts';

const CERT = new URL('../fixtures/tls/localhost-cert.pem', import.meta.url);
const KEY = new URL('../fixtures/tls/localhost-key.pem', import.meta.url);
const MASTER_KEY = 'sk-upstream-tls-master-0123';

let upstream: Server;
let upstreamUrl: string;

before(async () => {
  upstream = createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          id: 'chatcmpl-tls',
          object: 'chat.completion',
          created: 1,
          model: 'internal-model',
          choices: [{ index: 0, message: { role: 'assistant', content: 'over TLS' }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
});

after(() => upstream.close());

function config(litellmSettings: string): string {
  return `
model_list:
  - model_name: internal
    litellm_params: { model: hosted_vllm/internal-model, api_base: "${upstreamUrl}", api_key: sk-internal }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
${litellmSettings}`;
}

async function ask(litellmSettings: string): Promise<OpenAI.Chat.ChatCompletion> {
  const portico = await startPortico(config(litellmSettings));
  try {
    return await portico.client(MASTER_KEY, { maxRetries: 0 }).chat.completions.create({ model: 'internal', messages: [{ role: 'user', content: 'hi' }] });
  } finally {
    await portico.close();
  }
}

test("a certificate no public CA signed is refused by default, with a 5xx in OpenAI's envelope", async () => {
  await assert.rejects(ask(''), (error: unknown) => error instanceof OpenAI.APIError && (error.status ?? 0) >= 500 && typeof error.message === 'string');
});

test('ssl_verify: false serves it (and says at start that certificates are not verified)', async () => {
  assert.equal((await ask('litellm_settings: {ssl_verify: false}')).choices[0].message.content, 'over TLS');
  assert.ok(parseConfig(config('litellm_settings: {ssl_verify: false}'), {}).warnings.some((warning) => warning.includes('ssl_verify') && warning.includes('not verified')));
});

test("ssl_verify: the CA bundle's path serves it, verified against that CA; a default config after it verifies again", async () => {
  assert.equal((await ask(`litellm_settings: {ssl_verify: "${CERT.pathname}"}`)).choices[0].message.content, 'over TLS');
  await assert.rejects(ask(''), (error: unknown) => error instanceof OpenAI.APIError && (error.status ?? 0) >= 500);
});

test('an unreadable CA bundle is a start-up error naming the key and the path', () => {
  assert.throws(() => parseConfig(config('litellm_settings: {ssl_verify: /nonexistent/ca.pem}'), {}), /litellm_settings\.ssl_verify: cannot read the CA bundle "\/nonexistent\/ca\.pem"/);
});
