/**
 * LiteLLM's wildcard routes and model group aliases through the HTTP layer (issue 10): what a
 * request names reaches the right upstream with the right model, `/v1/models` lists what a
 * client can send, and key allowlists treat patterns and aliases consistently.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { startOpenAISimulator, type OpenAISimulator } from '../../test/simulators/openai-simulator.ts';
import { startAnthropicSimulator, type AnthropicSimulator } from '../../test/simulators/anthropic-simulator.ts';
import { buildApp } from './app.ts';
import { ROUTE_MODULES } from './routes/index.ts';
import { createServices } from './start.ts';

const MASTER = 'sk-master-model-routes';

function configYaml(openai: OpenAISimulator, anthropic: AnthropicSimulator, storageDir: string): string {
  return `
model_list:
  - model_name: fake-openai-endpoint-3
    litellm_params: {model: openai/my-fake-model, api_base: "${openai.url}", api_key: k}
  - model_name: "*"
    litellm_params: {model: "openai/*", api_base: "${openai.url}", api_key: k}
  - model_name: "anthropic/*"
    litellm_params: {model: "anthropic/*", api_base: "${anthropic.url}", api_key: k}
  - model_name: "claude-*"
    litellm_params: {model: "anthropic/claude-*", api_base: "${anthropic.url}", api_key: k}
  - model_name: primary
    litellm_params: {model: openai/primary, api_base: "http://127.0.0.1:9", api_key: k}
  - model_name: backup
    litellm_params: {model: openai/backup-model, api_base: "${openai.url}", api_key: k}
general_settings: {master_key: ${MASTER}}
router_settings:
  num_retries: 0
  fallbacks: [{primary: [backup]}]
  model_group_alias:
    my-alias: fake-openai-endpoint-3
    secret-alias: {model: fake-openai-endpoint-3, hidden: true}
    backup-alias: backup
portico_settings: {files: {storage_dir: ${storageDir}}}
`;
}

describe('wildcard routes and model group aliases', () => {
  let app: FastifyInstance;
  let database: Database;
  let openai: OpenAISimulator;
  let anthropic: AnthropicSimulator;
  let storageDir: string;
  const auth = { authorization: `Bearer ${MASTER}` };
  const messages = [{ role: 'user', content: 'hello' }];

  before(async () => {
    openai = await startOpenAISimulator({ apiKey: 'k' });
    anthropic = await startAnthropicSimulator({ apiKey: 'k' });
    storageDir = await mkdtemp(join(tmpdir(), 'portico-model-routes-'));
    const config = parseConfig(configYaml(openai, anthropic, storageDir), {});
    database = await openDatabase('file::memory:');
    const services = await createServices(config, database, createLogger({ level: 'silent' }));
    app = await buildApp(services, { routes: ROUTE_MODULES });
  });
  after(async () => {
    await app?.close();
    await database?.close();
    await openai?.close();
    await anthropic?.close();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  async function chat(model: string, headers: Record<string, string> = auth) {
    return app.inject({ method: 'POST', url: '/v1/chat/completions', headers, payload: { model, messages, max_tokens: 5 } });
  }

  function lastUpstreamModel(simulator: { requests: Array<{ method: string; json?: unknown }> }): unknown {
    const last = simulator.requests.filter((request) => request.method === 'POST').at(-1);
    return (last?.json as { model?: unknown } | undefined)?.model;
  }

  it('a wildcard route sends the requested name to its provider, the most specific route first', async () => {
    const plain = await chat('gpt-4o');
    assert.equal(plain.statusCode, 200, plain.body);
    assert.equal(lastUpstreamModel(openai), 'gpt-4o', '"*" -> openai/* passes the name through');

    const prefixed = await chat('anthropic/claude-3-5-haiku-20241022');
    assert.equal(prefixed.statusCode, 200, prefixed.body);
    assert.equal(lastUpstreamModel(anthropic), 'claude-3-5-haiku-20241022', '"anthropic/*" wins over "*" and strips nothing the provider needs');

    const family = await chat('claude-3-opus-20240229');
    assert.equal(family.statusCode, 200, family.body);
    assert.equal(lastUpstreamModel(anthropic), 'claude-3-opus-20240229', '"claude-*" -> anthropic/claude-*');

    const exact = await chat('fake-openai-endpoint-3');
    assert.equal(exact.statusCode, 200, exact.body);
    assert.equal(lastUpstreamModel(openai), 'my-fake-model', 'an exact model group wins over every pattern');
  });

  it('an alias routes to its target; /v1/models lists visible aliases and what the patterns serve', async () => {
    const aliased = await chat('my-alias');
    assert.equal(aliased.statusCode, 200, aliased.body);
    assert.equal(lastUpstreamModel(openai), 'my-fake-model');
    assert.equal((await chat('secret-alias')).statusCode, 200, 'a hidden alias works');

    const listed = (await app.inject({ method: 'GET', url: '/v1/models', headers: auth })).json() as { data: Array<{ id: string }> };
    const ids = listed.data.map((model) => model.id);
    assert.ok(ids.includes('fake-openai-endpoint-3'));
    assert.ok(ids.includes('my-alias'));
    assert.ok(!ids.includes('secret-alias'), 'hidden aliases are not listed');
    assert.ok(!ids.some((id) => id.includes('*')), `patterns are not model names a client can send: ${ids.join(', ')}`);
    assert.ok(ids.includes('gpt-4o'), 'the catalogue models "*" (openai/*) serves');
    assert.ok(ids.includes('anthropic/claude-3-opus-20240229'), 'the catalogue models anthropic/* serves');
    assert.ok(ids.includes('claude-3-opus-20240229'), 'the catalogue models claude-* serves');
    const retrieved = await app.inject({ method: 'GET', url: '/v1/models/openai/some-future-model', headers: auth });
    assert.equal(retrieved.statusCode, 200, 'any name a route serves can be retrieved');
  });

  it('key allowlists may hold patterns, and an alias and its target are one model for them', async () => {
    async function keyFor(models: string[]): Promise<Record<string, string>> {
      const response = await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { models } });
      assert.equal(response.statusCode, 200, response.body);
      return { authorization: `Bearer ${(response.json() as { key: string }).key}` };
    }
    const claudeOnly = await keyFor(['anthropic/*']);
    assert.equal((await chat('anthropic/claude-3-haiku-20240307', claudeOnly)).statusCode, 200);
    assert.equal((await chat('gpt-4o', claudeOnly)).statusCode, 403);
    const models = (await app.inject({ method: 'GET', url: '/v1/models', headers: claudeOnly })).json() as { data: Array<{ id: string }> };
    assert.ok(models.data.length > 0 && models.data.every((model) => model.id.startsWith('anthropic/')), JSON.stringify(models.data));

    const targetOnly = await keyFor(['fake-openai-endpoint-3']);
    assert.equal((await chat('my-alias', targetOnly)).statusCode, 200, 'the target allows its alias');
    const aliasOnly = await keyFor(['my-alias']);
    assert.equal((await chat('fake-openai-endpoint-3', aliasOnly)).statusCode, 200, 'the alias allows its target');
    assert.equal((await chat('gpt-4o', aliasOnly)).statusCode, 403);

    // Managed files take the same view: a batch file placed on the alias, by a key listing its target.
    const boundary = 'portico-boundary';
    const line = JSON.stringify({ custom_id: '1', method: 'POST', url: '/v1/chat/completions', body: { model: 'my-alias', messages } });
    const payload = [
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`,
      `--${boundary}\r\ncontent-disposition: form-data; name="target_model_names"\r\n\r\nmy-alias\r\n`,
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="b.jsonl"\r\ncontent-type: application/jsonl\r\n\r\n${line}\n\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/files',
      headers: { ...targetOnly, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    assert.equal(upload.statusCode, 200, upload.body);

    // A fallback reaches a group the key allows under its alias.
    const withFallback = await keyFor(['primary', 'backup-alias']);
    const fellBack = await chat('primary', withFallback);
    assert.equal(fellBack.statusCode, 200, fellBack.body);
    assert.equal(lastUpstreamModel(openai), 'backup-model');

    const typo = await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { models: ['claude-*', 'nope-*x'] } });
    assert.equal(typo.statusCode, 200, 'patterns the routes serve are accepted');
  });
});
