/**
 * The corpus of real LiteLLM configs (test/fixtures/litellm-configs, sources in SOURCE.md): each
 * one loads, or is refused for a reason LiteLLM could not run it either (broken YAML, a
 * placeholder left in) or because Portico can serve none of its entries; for each that loads,
 * `GET /v1/models` of the real HTTP app (built from the config in-process and asked through
 * Fastify's `inject()`, with the config's master key) lists the names LiteLLM would, less the
 * entries Portico skips, each of which is warned about by path and provider.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import type { PorticoConfig } from '../../src/config/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { buildApp } from '../../src/server/app.ts';
import { createServices } from '../../src/server/start.ts';
import { openDatabase } from '../../src/storage/database.ts';

const DIR = new URL('../fixtures/litellm-configs/', import.meta.url);

/** What the docs of these configs tell users to set. */
const ENV = {
  OPENAI_API_KEY: 'sk-openai',
  ANTHROPIC_API_KEY: 'sk-ant',
  ANTHROPIC_API_KEY_REGULAR: 'sk-ant-2',
  AZURE_API_KEY: 'azure-key',
  AZURE_API_BASE: 'https://example.openai.azure.com',
  AZURE_API_KEY_EU: 'azure-eu',
  AZURE_API_KEY_CA: 'azure-ca',
  GROQ_API_KEY: 'gsk-groq',
  GEMINI_API_KEY: 'gemini-key',
  SILICONFLOW_API_KEY: 'sk-siliconflow',
  ZHIPU_API_KEY: 'zhipu-key',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  FAKE_OPENAI_API_BASE: 'http://127.0.0.1:8090',
  LITELLM_MASTER_KEY: 'sk-master',
  REDIS_HOST: 'localhost',
  REDIS_PORT: '6379',
  REDIS_PASSWORD: 'redis-pw',
};

interface Loads {
  /** Model groups and visible aliases, in order (wildcard routes left out). */
  models: string[];
  /** Names a wildcard route serves that must be listed (a few of the catalogue's). */
  wildcardSamples?: string[];
  /** `path: provider` of each entry skipped for a provider Portico lacks. */
  skipped?: string[];
}
interface Refused {
  refused: RegExp;
}

const CORPUS: Record<string, Loads | Refused> = {
  '_health_check_test_config.yaml': { models: ['text-embedding-ada-002'] },
  'aliases_config.yaml': { models: ['text-davinci-003', 'gpt-4', 'gpt-3.5-turbo'] },
  'anthropic_custom_user_agent_config.yaml': { models: ['claude-code', 'claude-regular', 'claude-env'] },
  'azure_config.yaml': { models: ['gpt-4-team1', 'gpt-4-team2'] },
  'azure_config_with_tpm.yaml': { models: ['gpt-3.5-turbo'] },
  'china_domestic_free_sources.yaml': {
    models: ['sf-deepseek-r1', 'sf-qwen2.5-72b'],
    skipped: ['model_list[2].litellm_params.model: zhipu', 'model_list[3].litellm_params.model: zhipu'],
  },
  'disable_schema_update.yaml': { models: ['fake-openai-endpoint', 'gpt-4'] },
  'docs_configs_azure_embeddings.yaml': { refused: /^model_list\[0\]\.litellm_params\.api_base: "your-azure-api-base" is not an http\(s\) URL/m },
  'docs_configs_load_balancing.yaml': { refused: /^router_settings\.redis_host: "<your redis host>" is not a host name/m },
  'docs_configs_model_params.yaml': { models: ['gpt-4-team1', 'gpt-4-team2', 'openai-gpt-4o', 'mistral-7b'] },
  'docs_configs_openai_embeddings.yaml': { models: ['text-embedding-ada-002'] },
  'docs_configs_quick_start.yaml': {
    models: ['gpt-4o', 'bedrock-claude-v1', 'anthropic-claude', 'vllm-models'],
    wildcardSamples: ['gpt-4o-mini', 'claude-3-opus-20240229', 'text-embedding-3-small'],
  },
  'docs_custom_pricing_azure.yaml': { models: ['azure-model'] },
  'docs_custom_pricing_sagemaker.yaml': { refused: /^model_list: Portico can serve none of its 2 entries:\n.*provider "sagemaker"/m },
  'docs_embedding_huggingface.yaml': { models: ['deployed-codebert-base', 'codebert-base'] },
  'docs_embedding_quick_start.yaml': {
    models: ['amazon-embeddings', 'azure-embeddings'],
    skipped: ['model_list[0].litellm_params.model: sagemaker'],
  },
  'enterprise_config.yaml': { models: ['gpt-4'] },
  'hosted_litellm.yaml': { refused: /^YAML: Missing closing "quote/m },
  'load_balancer.yaml': { models: ['gpt-3.5-turbo'], skipped: ['model_list[3].litellm_params.model: mistralai'] },
  'macos_optimized_config.yaml': { models: ['gpt-4', 'claude-3-opus', 'gemini-pro', 'local-llama'] },
  'multi_instance_simple_config.yaml': { models: ['fake-openai-endpoint'] },
  // Its Bedrock batch entry reads its S3 keys from variables the corpus run does not set.
  'oai_misc_config.yaml': {
    models: ['gpt-5-mini-end-user-test', 'bedrock/batch-us.anthropic.claude-haiku-4-5-20251001-v1:0'],
    wildcardSamples: ['gpt-4o', 'anthropic/claude-3-opus-20240229'],
  },
  'okta_jwt_auth_config.yaml': { models: ['gpt-4o'] },
  'otel_test_config.yaml': { models: ['fake-openai-endpoint', 'rerank-english-v3.0', 'llava-hf'] },
  'pass_through_config.yaml': {
    models: ['fake-openai-endpoint', 'claude-sonnet-4-5-20250929', 'claude-special-alias', 'claude-sonnet-4-6'],
    wildcardSamples: ['anthropic/claude-haiku-4-5-20251001', 'openai/gpt-4o'],
  },
  'prometheus_test_config.yaml': { models: ['fake-openai-endpoint'] },
  'proxy_server_config.yaml': {
    models: [
      'gpt-3.5-turbo-end-user-test',
      'gpt-3.5-turbo',
      'gpt-3.5-turbo-large',
      'gpt-4',
      'text-embedding-ada-002',
      'openai-dall-e-3',
      'fake-openai-endpoint',
      'fake-openai-endpoint-2',
      'fake-openai-endpoint-3',
      'bad-model',
      'mistral-embed',
      'gpt-instruct',
      'my-special-fake-model-alias-name',
    ],
    wildcardSamples: ['gpt-4o', 'anthropic/claude-3-opus-20240229'],
    skipped: ['model_list[5].litellm_params.model: sagemaker'],
  },
  'queue.yaml': { models: ['gpt-3.5-turbo'] },
  'reject_metadata_tags_config.yaml': { models: ['gpt-3.5-turbo'] },
  'simple_config.yaml': { models: ['gpt-3.5-turbo'] },
  'spend_tracking_config.yaml': { models: ['fake-openai-endpoint'] },
  'store_model_db_config.yaml': { models: ['fake-openai-endpoint'] },
  'test_pipeline_config.yaml': { models: ['fake-openai-endpoint', 'fake-blocked-endpoint'] },
  'tool_permission_example.yaml': { models: ['claude-3-5-sonnet'] },
  'websearch_interception_config.yaml': { models: ['claude-3-5-sonnet'] },
};

/**
 * The ids `GET /v1/models` answers the config's master key (no key when the config runs open),
 * from the app as the server builds it, on a database in memory.
 */
async function servedModels(config: PorticoConfig): Promise<string[]> {
  const database = await openDatabase('file::memory:');
  try {
    const app = await buildApp(await createServices(config, database, createLogger({ level: 'silent' })));
    try {
      const headers = config.masterKey === undefined ? {} : { authorization: `Bearer ${config.masterKey}` };
      const response = await app.inject({ method: 'GET', url: '/v1/models', headers });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as { object: string; data: Array<{ id: string; object: string }> };
      assert.equal(body.object, 'list');
      assert.ok(body.data.every((model) => model.object === 'model'));
      return body.data.map((model) => model.id);
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}

function wildcardOf(name: string): RegExp {
  return new RegExp(`^${name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

describe('the corpus of real LiteLLM configs', () => {
  const files = readdirSync(DIR).filter((name) => name.endsWith('.yaml')).sort();

  it('has at least 30 configs, each with an expectation and a source', () => {
    assert.ok(files.length >= 30, `${files.length} configs`);
    assert.deepEqual(files, Object.keys(CORPUS).sort());
    const sources = readFileSync(new URL('SOURCE.md', DIR), 'utf8');
    for (const file of files) assert.match(sources, new RegExp(`\\| \`${file.replace(/\./g, '\\.')}\` \\|`), `${file} in SOURCE.md`);
  });

  for (const [file, expected] of Object.entries(CORPUS)) {
    it(file, async () => {
      const text = readFileSync(new URL(file, DIR), 'utf8');
      if ('refused' in expected) {
        assert.throws(() => parseConfig(text, ENV), (error: Error) => {
          assert.match(error.message, expected.refused);
          return true;
        });
        return;
      }
      const config = parseConfig(text, ENV);
      const listed = await servedModels(config);
      assert.equal(new Set(listed).size, listed.length, `no name listed twice: ${listed.join(', ')}`);
      const patterns = config.deployments.map((d) => d.modelGroup).filter((group) => group.includes('*'));
      const exact = listed.filter((name) => !patterns.some((pattern) => wildcardOf(pattern).test(name)) || expected.models.includes(name));
      assert.deepEqual(exact, expected.models, 'model groups and visible aliases');
      for (const sample of expected.wildcardSamples ?? []) assert.ok(listed.includes(sample), `${sample} listed for a wildcard route`);
      if (!expected.wildcardSamples) assert.deepEqual(patterns, [], 'no wildcard route');
      const skips = config.warnings
        .filter((warning) => / skipped$/.test(warning) && /provider "/.test(warning))
        .map((warning) => `${warning.slice(0, warning.indexOf(': '))}: ${/provider "([^"]+)"/.exec(warning)?.[1]}`);
      assert.deepEqual(skips, expected.skipped ?? []);
    });
  }
});
