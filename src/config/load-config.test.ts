import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../spec/errors.ts';
import { loadConfig, parseConfig } from './load-config.ts';
import { configError } from './testing/config-error.ts';

const LITELLM_CONFIG = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: https://api.openai.com/v1
      api_key: os.environ/OPENAI_API_KEY
      rpm: 600
      tpm: 100000
    model_info:
      id: my-stable-id
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
      input_cost_per_token_batches: 0.000000075
      output_cost_per_token_batches: 0.0000003
  - model_name: gpt-4o
    litellm_params:
      model: azure/my-gpt-4o
      api_base: os.environ/AZURE_API_BASE
      api_key: os.environ/AZURE_API_KEY
      api_version: "2025-03-01-preview"
      timeout: 30
      max_retries: 5
      weight: 3
general_settings:
  master_key: os.environ/PORTICO_MASTER_KEY
router_settings:
  num_retries: 2
  timeout: 60
  routing_strategy: simple-shuffle
  fallbacks: [{gpt-4o: [gpt-4o-mini]}]
  allowed_fails: 3
  cooldown_time: 30
`;

const ENV = {
  OPENAI_API_KEY: 'sk-openai',
  AZURE_API_BASE: 'https://res.openai.azure.com',
  AZURE_API_KEY: 'azure-key',
  PORTICO_MASTER_KEY: 'sk-master',
};

describe('loading a LiteLLM proxy config', () => {
  it('loads a LiteLLM config unchanged, with environment references resolved', () => {
    const config = parseConfig(LITELLM_CONFIG, ENV);
    assert.equal(config.masterKey, 'sk-master');
    assert.deepEqual(config.warnings, []);
    const [openai, azure] = config.deployments;
    assert.equal(openai.id, 'my-stable-id');
    assert.equal(openai.modelGroup, 'gpt-4o-mini');
    assert.equal(openai.providerName, 'openai');
    assert.equal(openai.upstreamModel, 'gpt-4o-mini');
    assert.equal(openai.apiKey, 'sk-openai');
    assert.equal(openai.rpm, 600);
    assert.equal(openai.tpm, 100000);
    assert.equal(openai.timeoutMs, 60_000, 'router_settings.timeout is the default');
    assert.equal(openai.maxRetries, 2);
    assert.equal(openai.weight, 1);
    assert.equal(openai.batchMode, 'native');
    assert.deepEqual(openai.pricing, {
      inputCostPerToken: 0.00000015,
      outputCostPerToken: 0.0000006,
      inputCostPerTokenBatches: 0.000000075,
      outputCostPerTokenBatches: 0.0000003,
    });
    assert.equal(azure.providerName, 'azure');
    assert.equal(azure.upstreamModel, 'my-gpt-4o');
    assert.equal(azure.apiBase, 'https://res.openai.azure.com');
    assert.equal(azure.apiVersion, '2025-03-01-preview');
    assert.equal(azure.timeoutMs, 30_000);
    assert.equal(azure.maxRetries, 5);
    assert.equal(azure.weight, 3);
    assert.deepEqual(config.router, {
      numRetries: 2,
      timeoutMs: 60_000,
      routingStrategy: 'simple-shuffle',
      preCallChecks: false,
      fallbacks: { 'gpt-4o': ['gpt-4o-mini'] },
      contextWindowFallbacks: {},
      contentPolicyFallbacks: {},
      defaultFallbacks: [],
      allowedFails: 3,
      cooldownMs: 30_000,
      disableCooldowns: false,
      tagFiltering: false,
      maxFallbacks: 5,
      modelGroupAlias: {},
    });
  });

  it('an azure/ model is an Azure deployment without custom_llm_provider', () => {
    const config = parseConfig(
      'model_list:\n  - model_name: m\n    litellm_params: {model: azure/dep-1, api_base: https://r.openai.azure.com, api_key: k}\n',
      {},
    );
    assert.equal(config.deployments[0].providerName, 'azure');
    assert.equal(config.deployments[0].upstreamModel, 'dep-1');
    assert.equal(config.deployments[0].batchMode, 'native');
  });

  it('custom_llm_provider overrides the prefix and the model keeps its slashes', () => {
    const config = parseConfig(
      'model_list:\n  - model_name: llama\n    litellm_params: {model: meta-llama/Llama-3-8B, custom_llm_provider: hosted_vllm, api_base: http://127.0.0.1:8000/v1}\n',
      {},
    );
    const [deployment] = config.deployments;
    assert.equal(deployment.providerName, 'hosted_vllm');
    assert.equal(deployment.upstreamModel, 'meta-llama/Llama-3-8B');
    assert.equal(deployment.batchMode, 'emulate', 'servers without a batch API emulate by default');
  });

  it("a deployment's missing environment variable is taken as not set, as LiteLLM does, with a warning naming the variable and the key", () => {
    const config = parseConfig(LITELLM_CONFIG, { ...ENV, AZURE_API_KEY: undefined });
    assert.match(config.warnings.join('\n'), /^model_list\[1\]\.litellm_params\.api_key: environment variable AZURE_API_KEY is not set \(referenced as os\.environ\/AZURE_API_KEY\); taken as not set/m);
    assert.equal(config.deployments.find((deployment) => deployment.providerName === 'azure')?.apiKey, undefined);
  });

  it('an empty or blank master key, literal or from the environment, is an error: it must not open the gateway', () => {
    const model = 'model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\n';
    for (const [settings, env] of [
      ['general_settings:\n  master_key: os.environ/PORTICO_MASTER_KEY\n', { PORTICO_MASTER_KEY: '' }],
      ['general_settings:\n  master_key: os.environ/PORTICO_MASTER_KEY\n', { PORTICO_MASTER_KEY: ' \t\n' }],
      ['general_settings:\n  master_key: ""\n', {}],
      ['general_settings:\n  master_key: "   "\n', {}],
      ['general_settings:\n  master_key:\n', {}],
    ] as const) {
      const error = configError(() => parseConfig(model + settings, env));
      assert.match(error.message, /^general_settings\.master_key: .*empty/m, `${settings} ${JSON.stringify(env)}`);
    }
    assert.equal(parseConfig(model, {}).masterKey, undefined, 'no master_key at all: open mode (warned about at start)');
    assert.equal(parseConfig(`${model}general_settings: {database_url: file:x.db}\n`, {}).masterKey, undefined);
  });

  it('master_key: null written out is no master key, as in LiteLLM, with a warning; a later value wins', () => {
    const model = 'model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\n';
    for (const written of ['null  # no auth for now', '~', 'Null']) {
      const config = parseConfig(`${model}general_settings:\n  master_key: ${written}\n  store_model_in_db: false\n`, {});
      assert.equal(config.masterKey, undefined, written);
      assert.ok(config.warnings.some((warning) => warning.startsWith('general_settings.master_key: null: no master key, so the gateway runs open')), config.warnings.join('\n'));
    }
    const later = parseConfig(`${model}general_settings:\n  master_key: null\ngeneral_settings:\n  master_key: sk-later\n`, {});
    assert.equal(later.masterKey, 'sk-later');
    assert.ok(!later.warnings.some((warning) => warning.includes('runs open')), later.warnings.join('\n'));
  });

  it('an entry with a provider Portico lacks is skipped with a warning naming the path and the provider', () => {
    const text = `
model_list:
  - {model_name: a, litellm_params: {model: mock/a}}
  - {model_name: b, litellm_params: {model: mock/b}}
  - {model_name: c, litellm_params: {model: azur/my-deployment}}
`;
    const config = parseConfig(text, {});
    assert.deepEqual(config.deployments.map((d) => d.modelGroup), ['a', 'b']);
    assert.match(config.warnings.join('\n'), /^model_list\[2\]\.litellm_params\.model: provider "azur" is not supported by Portico \(supported: .*\bazure\b.*\bopenai\b.*\); entry "c" skipped$/m);
  });

  it('reports every problem of the file at once', () => {
    const text = `
model_list:
  - {model_name: a, litellm_params: {model: mock/a, timeout: never}}
  - {model_name: b, litellm_params: {model: mock/b, rpm: lots}}
  - {model_name: c, litellm_params: {model: azure/dep}}
`;
    const error = configError(() => parseConfig(text, {}));
    assert.match(error.message, /model_list\[0\]\.litellm_params\.timeout: /);
    assert.match(error.message, /model_list\[1\]\.litellm_params\.rpm: /);
    assert.match(error.message, /model_list\[2\]\.litellm_params\.api_base: azure deployments need api_base/);
  });

  it('unknown keys are warnings naming their path (a LiteLLM setting Portico lacks said as such, not as a typo), and the config still loads', () => {
    const text = `
model_list:
  - model_name: a
    litellm_params: {model: mock/a, api_bse: http://typo}
    model_info: {id: a, mode: chat, supports_vision: true, colour: blue}
litellm_settings: {max_internal_user_budget: 5, num_retries: 4}
portico_settings: {files: {storage_dir: /tmp/x, max_files: 3}}
surprise: 1
`;
    const config = parseConfig(text, {});
    assert.deepEqual([...config.warnings].sort(), [
      'litellm_settings.max_internal_user_budget: a LiteLLM setting Portico does not implement (ignored)',
      'model_list[0].litellm_params.api_bse: unknown key, not used by Portico (ignored)',
      'model_list[0].model_info.colour: unknown key, not used by Portico (ignored)',
      'portico_settings.files.max_files: unknown key, not used by Portico (ignored)',
      'surprise: unknown key, not used by Portico (ignored)',
    ]);
    assert.equal(config.router.numRetries, 4, 'litellm_settings.num_retries is used when router_settings has none');
    assert.equal(config.files.storageDir, '/tmp/x');
  });

  it('a key written in the wrong section is warned about with the section Portico reads it in', () => {
    const text = `
model_list:
  - {model_name: a, litellm_params: {model: mock/a}}
general_settings: {max_budget: 100, budget_duration: 30d}
litellm_settings: {master_key: sk-misplaced}
router_settings: {request_timeout: 30}
`;
    const config = parseConfig(text, {});
    assert.deepEqual([...config.warnings].sort(), [
      'general_settings.budget_duration: Portico reads this key under litellm_settings, not here (ignored here)',
      'general_settings.max_budget: Portico reads this key under litellm_settings, not here (ignored here)',
      'litellm_settings.master_key: Portico reads this key under general_settings, not here (ignored here)',
      'router_settings.request_timeout: Portico reads this key under litellm_settings, not here (ignored here)',
    ]);
    assert.equal(config.masterKey, undefined, 'a master key in the wrong section protects nothing: the gateway runs open');
    assert.equal(config.proxyBudget, undefined);
  });

  it("LiteLLM's database_url and Redis settings name where state lives, environment references included", () => {
    const base = 'model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\n';
    const plain = parseConfig(base, {});
    assert.deepEqual([plain.databaseUrl, plain.redisUrl], [undefined, undefined]);
    const byParts = parseConfig(
      `${base}general_settings: {database_url: os.environ/DATABASE_URL}\nrouter_settings: {redis_host: os.environ/REDIS_HOST, redis_port: os.environ/REDIS_PORT, redis_password: "p@ss:word"}\n`,
      { DATABASE_URL: 'postgres://db.internal/portico', REDIS_HOST: 'cache.internal', REDIS_PORT: '6380' },
    );
    assert.equal(byParts.databaseUrl, 'postgres://db.internal/portico');
    assert.equal(byParts.redisUrl, 'redis://:p%40ss%3Aword@cache.internal:6380');
    assert.deepEqual(byParts.warnings, [], 'LiteLLM keys Portico uses are not "unknown"');
    assert.equal(parseConfig(`${base}router_settings: {redis_host: 10.0.0.5}\n`, {}).redisUrl, 'redis://10.0.0.5:6379');
    assert.equal(parseConfig(`${base}router_settings: {redis_url: "rediss://r.example:6390/2", redis_host: ignored}\n`, {}).redisUrl, 'rediss://r.example:6390/2');
  });

  it('files.blob_store picks where file bytes live, and names the accepted values when wrong', () => {
    const text = (store: string) => `model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\nportico_settings: {files: {blob_store: ${store}}}\n`;
    assert.equal(parseConfig(text('database'), {}).files.blobStore, 'database');
    assert.equal(parseConfig(text('directory'), {}).files.blobStore, 'directory');
    const error = configError(() => parseConfig(text('gcs'), {}));
    assert.match(error.message, /portico_settings\.files\.blob_store/);
    assert.match(error.message, /directory/);
  });

  it('batch reservations and quotas: batch_max_enqueued_tokens per deployment, estimated_output_tokens and quota_exceeded under portico_settings.batch, with no warning; wrong values name their path', () => {
    const text = (params: string, batch: string) => `model_list:\n  - {model_name: a, litellm_params: {model: mock/a${params}}}\nportico_settings: {batch: {${batch}}}\n`;
    const config = parseConfig(text(', batch_max_enqueued_tokens: 5000000', 'estimated_output_tokens: 256, quota_exceeded: wait'), {});
    assert.equal(config.deployments[0].batchMaxEnqueuedTokens, 5_000_000);
    assert.equal(config.batch.estimatedOutputTokens, 256);
    assert.equal(config.batch.quotaExceeded, 'wait');
    assert.deepEqual(config.warnings.filter((w) => /batch_max_enqueued_tokens|estimated_output_tokens|quota_exceeded/.test(w)), []);
    assert.equal(parseConfig(text('', ''), {}).deployments[0].batchMaxEnqueuedTokens, undefined);
    assert.match(configError(() => parseConfig(text(', batch_max_enqueued_tokens: 0', ''), {})).message, /model_list\[0\]\.litellm_params\.batch_max_enqueued_tokens/);
    const wrongPolicy = configError(() => parseConfig(text('', 'quota_exceeded: queue'), {}));
    assert.match(wrongPolicy.message, /portico_settings\.batch\.quota_exceeded/);
    assert.match(wrongPolicy.message, /refuse/);
  });

  it('blob_store s3 reads its bucket section, with os.environ/ credentials, and says what is missing by path', () => {
    const head = `model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\n`;
    const config = parseConfig(
      `${head}portico_settings:\n  files:\n    blob_store: s3\n    s3: {bucket: files, prefix: portico/, endpoint: "http://127.0.0.1:9000", force_path_style: true, access_key_id: os.environ/S3_KEY, secret_access_key: os.environ/S3_SECRET}\n`,
      { S3_KEY: 'AKIA', S3_SECRET: 'shh' },
    );
    assert.deepEqual(config.files.s3, {
      bucket: 'files',
      prefix: 'portico/',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      accessKeyId: 'AKIA',
      secretAccessKey: 'shh',
      partBytes: 5 * 1024 * 1024,
      queueSize: 2,
    });
    assert.deepEqual(config.warnings, []);
    const noKeys = parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {bucket: b, region: eu-west-1}}}\n`, {});
    assert.equal(noKeys.files.s3?.accessKeyId, undefined, 'no keys: the AWS default credential chain');
    assert.match(configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: s3}}\n`, {})).message, /portico_settings\.files\.s3: required when blob_store is s3/);
    assert.match(configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {prefix: x}}}\n`, {})).message, /portico_settings\.files\.s3\.bucket/);
    assert.match(
      configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {bucket: b, access_key_id: os.environ/S3_KEY, secret_access_key: os.environ/S3_SECRET}}}\n`, { S3_KEY: 'k' })).message,
      /portico_settings\.files\.s3\.secret_access_key: environment variable S3_SECRET is not set/,
    );
    assert.match(configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {bucket: b, access_key_id: k}}}\n`, {})).message, /s3\.secret_access_key: access_key_id and secret_access_key go together/);
    assert.match(configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {bucket: b, part_bytes: 1000}}}\n`, {})).message, /portico_settings\.files\.s3\.part_bytes/);
    assert.match(configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {bucket: b, endpoint: "<minio>"}}}\n`, {})).message, /portico_settings\.files\.s3\.endpoint/);
    const typo = parseConfig(`${head}portico_settings: {files: {blob_store: s3, s3: {bucket: b, force_path_styl: true}}}\n`, {});
    assert.ok(typo.warnings.some((warning) => warning.includes('portico_settings.files.s3.force_path_styl')), typo.warnings.join('\n'));
  });

  it('blob_store azure_blob takes a connection string, or an account URL with a key or a SAS token', () => {
    const head = `model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\n`;
    const azure = (section: string, env: Record<string, string> = {}) => parseConfig(`${head}portico_settings: {files: {blob_store: azure_blob, azure_blob: ${section}}}\n`, env);
    assert.deepEqual(azure('{container: files, connection_string: os.environ/AZ}', { AZ: 'UseDevelopmentStorage=true' }).files.azureBlob, {
      container: 'files',
      prefix: '',
      connectionString: 'UseDevelopmentStorage=true',
      blockBytes: 4 * 1024 * 1024,
      concurrency: 2,
    });
    const byKey = azure('{container: files, prefix: p/, account_url: "https://acme.blob.core.windows.net", account_key: a2V5}').files.azureBlob;
    assert.equal(byKey?.accountName, 'acme', 'the account name is read from the URL');
    assert.equal(azure('{container: files, account_url: "https://acme.blob.core.windows.net", sas_token: "?sv=1&sig=x"}').files.azureBlob?.sasToken, '?sv=1&sig=x');
    assert.match(configError(() => azure('{container: files}')).message, /portico_settings\.files\.azure_blob: connection_string, or account_url/);
    assert.match(configError(() => azure('{container: files, account_url: "https://acme.blob.core.windows.net"}')).message, /azure_blob: account_url needs exactly one of account_key and sas_token/);
    assert.match(configError(() => azure('{container: files, connection_string: x, account_url: "https://acme.blob.core.windows.net"}')).message, /azure_blob: either connection_string/);
    assert.match(configError(() => azure('{connection_string: x}')).message, /portico_settings\.files\.azure_blob\.container/);
    assert.match(configError(() => parseConfig(`${head}portico_settings: {files: {blob_store: azure_blob}}\n`, {})).message, /portico_settings\.files\.azure_blob: required when blob_store is azure_blob/);
  });

  it('provider-specific params are known to their provider and not warned about', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: mock/a, mock_response: hi, mock_latency_ms: 5}}\n', {});
    assert.deepEqual(config.warnings, []);
    assert.equal(config.deployments[0].params.mock_response, 'hi');
  });

  it('derived deployment ids are stable and do not change when the API key is rotated', () => {
    const text = (key: string) =>
      `model_list:\n  - {model_name: g, litellm_params: {model: openai/gpt-4o, api_base: "https://example.test/v1", api_key: ${key}}}\n`;
    const before = parseConfig(text('sk-old'), {}).deployments[0].id;
    const after = parseConfig(text('sk-new'), {}).deployments[0].id;
    assert.equal(before, after);
    assert.match(before, /^[0-9a-f]{16}$/);
    const otherBase = parseConfig(text('sk-old').replace('example.test', 'other.test'), {}).deployments[0].id;
    assert.notEqual(otherBase, before, 'another api_base is another deployment');
  });

  it('a duplicate model_info.id is a config error', () => {
    const text = `
model_list:
  - {model_name: a, litellm_params: {model: mock/a}, model_info: {id: same}}
  - {model_name: b, litellm_params: {model: mock/b}, model_info: {id: same}}
`;
    const error = configError(() => parseConfig(text, {}));
    assert.match(error.message, /model_list\[1\]\.model_info\.id: deployment id "same" is also used by model_list\[0\]/);
  });

  it('applies the documented defaults', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/gpt-4o-mini}}\n', {});
    const [deployment] = config.deployments;
    assert.equal(deployment.timeoutMs, 600_000);
    assert.equal(deployment.maxRetries, 2);
    assert.equal(deployment.weight, 1);
    assert.equal(config.masterKey, undefined);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.redisUrl, undefined);
    assert.deepEqual(config.files, {
      blobStore: 'directory',
      storageDir: './data/files',
      maxFileBytes: 512 * 1024 * 1024,
      maxBatchFileBytes: 200 * 1024 * 1024,
      maxBatchFileLines: 50_000,
      maxBatchLineBytes: 20 * 1024 * 1024,
      maxConcurrentUploads: 8,
      maxConcurrentUploadsPerKey: 4,
      batchFileDefaultExpirySeconds: 30 * 24 * 3600,
      deleteRetryBaseSeconds: 5,
    });
    assert.deepEqual(config.batch, { refreshAfterSeconds: 2, pollIntervalMs: 1000, liveTrafficShare: 0.2, estimatedOutputTokens: 1000, quotaExceeded: 'refuse' });
    assert.deepEqual(config.server, { headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000, bodyMinBytesPerSecond: 1024, maxConnections: 10_000, useForwardedFor: false });
    const tuned = parseConfig(
      'model_list: []\nportico_settings: {server: {headers_timeout_seconds: 5, body_timeout_seconds: 2.5, body_min_bytes_per_second: 0, max_connections: 64, max_conections: 1}}\n',
      {},
    );
    assert.deepEqual(tuned.server, { headersTimeoutMs: 5_000, bodyTimeoutMs: 2_500, bodyMinBytesPerSecond: 0, maxConnections: 64, useForwardedFor: false });
    assert.ok(tuned.warnings.some((warning) => warning.startsWith('portico_settings.server.max_conections: unknown key')), tuned.warnings.join('\n'));
    assert.deepEqual(config.database, { queryTimeoutMs: 30_000 });
    assert.deepEqual(parseConfig('model_list: []\nportico_settings: {database: {query_timeout_seconds: 2.5}}\n', {}).database, { queryTimeoutMs: 2_500 });
    assert.deepEqual(parseConfig('model_list: []\nportico_settings: {database: {query_timeout_seconds: 0}}\n', {}).database, { queryTimeoutMs: 0 }, '0: no bound');
    assert.match(configError(() => parseConfig('model_list: []\nportico_settings: {database: {query_timeout_seconds: -1}}\n', {})).message, /portico_settings\.database\.query_timeout_seconds/);
    assert.equal(config.router.numRetries, 2);
    assert.equal(config.router.timeoutMs, 600_000);
  });

  it('reads a provider key from its usual environment variable when the config names none', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/gpt-4o-mini}}\n', { OPENAI_API_KEY: 'sk-env' });
    assert.equal(config.deployments[0].apiKey, 'sk-env');
  });

  it('numbers may come from environment variables', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: mock/a, rpm: os.environ/RPM}}\n', { RPM: '42' });
    assert.equal(config.deployments[0].rpm, 42);
  });

  it('the resolved config and its deployments are frozen', () => {
    const config = parseConfig(LITELLM_CONFIG, ENV);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.deployments));
    assert.ok(Object.isFrozen(config.deployments[0]));
    assert.ok(Object.isFrozen(config.deployments[0].params));
    assert.ok(Object.isFrozen(config.router.fallbacks));
    assert.throws(() => {
      (config.deployments[0] as { weight: number }).weight = 9;
    }, TypeError);
  });

  it('a fallback to a group that does not exist is a warning', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\nrouter_settings: {fallbacks: [{a: [b]}]}\n', {});
    assert.deepEqual(config.warnings, ['router_settings.fallbacks.a: fallback model group "b" is not in model_list']);
  });

  it('invalid YAML is a ConfigError', () => {
    const error = configError(() => parseConfig('model_list: [\n', {}));
    assert.match(error.message, /YAML/);
  });

  it('loadConfig names the file in its error, and loads the example config without any environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-config-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'model_list:\n  - {model_name: a, litellm_params: {model: azur/x}}\n');
    await assert.rejects(loadConfig(bad, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(error.message, /model_list\[0\]\.litellm_params\.model: provider "azur" is not supported by Portico/);
      return true;
    });
    await assert.rejects(loadConfig(join(dir, 'missing.yaml'), {}), /cannot read config file .*ENOENT/);

    const example = await loadConfig(new URL('../../config.example.yaml', import.meta.url).pathname, {});
    assert.equal(example.masterKey, 'sk-portico-example');
    assert.deepEqual(example.warnings, []);
    const groups = new Map<string, number>();
    for (const d of example.deployments) {
      assert.equal(d.providerName, 'mock');
      groups.set(d.modelGroup, (groups.get(d.modelGroup) ?? 0) + 1);
    }
    assert.equal(groups.get('gpt-4o-mini'), 2);
    assert.equal(groups.get('text-embedding-3-small'), 1);
  });
});
