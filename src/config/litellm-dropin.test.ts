/**
 * LiteLLM configs run unchanged (issue 10): what LiteLLM itself starts with, Portico starts
 * with, serving what it can and warning, by path, about the rest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../spec/errors.ts';
import { batchCost } from '../managed/batches/batch-cost.ts';
import { parseConfig } from './load-config.ts';
import { placedByNameWarning } from './build-deployments.ts';
import { CATALOGUE_SOURCE, catalogueModel } from './model-catalogue.ts';
import { configError } from './testing/config-error.ts';

describe('LiteLLM drop-in: models without a provider prefix', () => {
  it('infers the provider of a bare name from the model catalogue, as LiteLLM does', () => {
    const config = parseConfig(
      `
model_list:
  - {model_name: gpt-4o, litellm_params: {model: gpt-4o, api_key: sk-o}}
  - {model_name: opus, litellm_params: {model: claude-3-opus-20240229, api_key: sk-a}}
  - {model_name: embed, litellm_params: {model: text-embedding-3-small, api_key: sk-o}}
`,
      {},
    );
    assert.deepEqual(
      config.deployments.map((d) => [d.modelGroup, d.providerName, d.upstreamModel]),
      [
        ['gpt-4o', 'openai', 'gpt-4o'],
        ['opus', 'anthropic', 'claude-3-opus-20240229'],
        ['embed', 'openai', 'text-embedding-3-small'],
      ],
    );
    assert.deepEqual(config.warnings, []);
  });

  it('prices a deployment from the catalogue unless model_info says otherwise, and batch cost reads those prices', () => {
    const config = parseConfig(
      `
model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o-mini}}
  - {model_name: b, litellm_params: {model: gpt-4o-mini}, model_info: {input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}}
  - {model_name: c, litellm_params: {model: azure/prod-4o, api_base: "https://r.openai.azure.com", api_key: k}, model_info: {base_model: azure/gpt-4o}}
  - {model_name: d, litellm_params: {model: azure/prod-4o-2, api_base: "https://r.openai.azure.com", api_key: k}}
`,
      {},
    );
    const [a, b, c, d] = config.deployments;
    const mini = catalogueModel('gpt-4o-mini');
    assert.ok(mini);
    assert.deepEqual(a.pricing, {
      inputCostPerToken: mini.inputCostPerToken,
      outputCostPerToken: mini.outputCostPerToken,
      inputCostPerTokenBatches: mini.inputCostPerTokenBatches,
      outputCostPerTokenBatches: mini.outputCostPerTokenBatches,
    });
    assert.equal(batchCost({ input_tokens: 1_000_000, output_tokens: 1_000_000, total_tokens: 2_000_000 } as never, a.pricing), 0.075 + 0.3);
    assert.deepEqual(b.pricing, { inputCostPerToken: 0.000001, outputCostPerToken: 0.000002 }, 'model_info overrides the catalogue');
    assert.equal(c.pricing.inputCostPerToken, catalogueModel('gpt-4o')?.inputCostPerToken, 'base_model names the catalogue model');
    assert.deepEqual(d.pricing, {}, 'an Azure deployment name is not a model name');
    assert.match(CATALOGUE_SOURCE.commit, /^[0-9a-f]{40}$/);
  });

  it("a bare name newer than the catalogue is placed on its vendor's provider by its family, with a warning; any other is skipped with a hint", () => {
    const config = parseConfig(
      `
model_list:
  - {model_name: ok, litellm_params: {model: mock/ok}}
  - {model_name: c, litellm_params: {model: claude-opus-9}}
  - {model_name: g, litellm_params: {model: gpt-9.4-mini}}
  - {model_name: x, litellm_params: {model: my-house-model}}
  - {model_name: v, litellm_params: {model: gemini-9-pro, vertex_project: p1, vertex_location: us-central1}}
  - {model_name: b, litellm_params: {model: us.anthropic.claude-opus-9-v1:0, aws_region_name: us-east-1}}
  - {model_name: o, litellm_params: {model: gpt-oss-120b}}
  - {model_name: l, litellm_params: {model: llama-9-70b}}
  - {model_name: q, litellm_params: {model: o9-mini}}
  - {model_name: r, litellm_params: {model: command-r-plus}}
`,
      {},
    );
    const warnings = config.warnings.join('\n');
    const placed = (index: number, model: string, provider: string) =>
      assert.ok(
        config.warnings.includes(`model_list[${index}].litellm_params.model: ${placedByNameWarning(model, provider)}`),
        `${model} placed on ${provider}:\n${warnings}`,
      );
    placed(1, 'claude-opus-9', 'anthropic');
    placed(2, 'gpt-9.4-mini', 'openai');
    placed(4, 'gemini-9-pro', 'vertex_ai');
    placed(5, 'us.anthropic.claude-opus-9-v1:0', 'bedrock');
    placed(8, 'o9-mini', 'openai');
    placed(9, 'command-r-plus', 'cohere');
    assert.doesNotMatch(warnings, /openai\/claude/);
    assert.match(warnings, /model_list\[3\]\.litellm_params\.model: "my-house-model" .*"<provider>\/my-house-model" \(supported providers: /);
    // Families served by many: a hint, never a guess.
    assert.match(warnings, /model_list\[6\]\.litellm_params\.model: "gpt-oss-120b" is not in Portico's model catalogue.*e\.g\. "openai\/gpt-oss-120b".*skipped$/m);
    assert.match(warnings, /model_list\[7\]\.litellm_params\.model: "llama-9-70b" is not in Portico's model catalogue.*e\.g\. "hosted_vllm\/llama-9-70b".*skipped$/m);
    assert.deepEqual(
      config.deployments.map((d) => [d.modelGroup, d.providerName, d.upstreamModel]),
      [
        ['ok', 'mock', 'ok'],
        ['c', 'anthropic', 'claude-opus-9'],
        ['g', 'openai', 'gpt-9.4-mini'],
        ['v', 'vertex_ai', 'gemini-9-pro'],
        ['b', 'bedrock', 'us.anthropic.claude-opus-9-v1:0'],
        ['q', 'openai', 'o9-mini'],
        ['r', 'cohere', 'command-r-plus'],
      ],
    );
    assert.deepEqual(config.deployments[1].pricing, {}, 'no price the catalogue does not have');
  });
});

describe('LiteLLM drop-in: entries for providers Portico lacks', () => {
  const text = `
model_list:
  - {model_name: gpt, litellm_params: {model: openai/gpt-4o, api_key: sk-1}}
  - {model_name: llama, litellm_params: {model: replicate/meta.llama3-70b, aws_region_name: os.environ/AWS_REGION}}
  - {model_name: gem, litellm_params: {model: gemini-pro, custom_llm_provider: sagemaker}}
`;

  it('skips each with a warning naming its path and provider, and loads the rest', () => {
    const config = parseConfig(text, {});
    assert.deepEqual(config.deployments.map((d) => d.modelGroup), ['gpt']);
    const warnings = config.warnings.join('\n');
    assert.match(warnings, /^model_list\[1\]\.litellm_params\.model: provider "replicate" is not supported by Portico .*; entry "llama" skipped$/m);
    assert.match(warnings, /^model_list\[2\]\.litellm_params\.custom_llm_provider: provider "sagemaker" is not supported by Portico .*; entry "gem" skipped$/m);
    assert.doesNotMatch(warnings, /aws_region_name: unknown key/, 'a skipped entry is not checked key by key');
  });

  it('portico_settings.strict_config: true refuses them instead', () => {
    const error = configError(() => parseConfig(`${text}portico_settings: {strict_config: true}\n`, {}));
    assert.match(error.message, /^model_list\[1\]\.litellm_params\.model: provider "replicate" is not supported by Portico/m);
    assert.match(error.message, /^model_list\[2\]\.litellm_params\.custom_llm_provider: provider "sagemaker"/m);
  });

  it('a config none of whose entries Portico can serve is refused, naming each', () => {
    const error = configError(() =>
      parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: replicate/x}}\n  - {model_name: b, litellm_params: {model: sagemaker/y}}\n', {}),
    );
    assert.match(error.message, /^model_list: Portico can serve none of its 2 entries/m);
    assert.match(error.message, /model_list\[0\]\.litellm_params\.model: provider "replicate"/);
    assert.match(error.message, /model_list\[1\]\.litellm_params\.model: provider "sagemaker"/);
  });
});

describe('LiteLLM drop-in: os.environ/ references', () => {
  it('an unset variable where Portico does not read it is a warning, not a refusal', () => {
    const config = parseConfig(
      `
model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_KEY, vertex_credentials: os.environ/VERTEX_CREDS}}
  - {model_name: b, litellm_params: {model: sagemaker/x, aws_secret_access_key: os.environ/AWS_SECRET}}
litellm_settings:
  success_callback: [langfuse]
  langfuse_secret: os.environ/LANGFUSE_SECRET
  cache_params: {type: redis, password: os.environ/CACHE_PASSWORD}
general_settings:
  alerting_webhook: os.environ/SLACK_WEBHOOK_URL
`,
      { OPENAI_KEY: 'sk-1' },
    );
    assert.equal(config.deployments[0].apiKey, 'sk-1');
    const warnings = config.warnings.join('\n');
    for (const [path, name] of [
      ['litellm_settings.langfuse_secret', 'LANGFUSE_SECRET'],
      ['general_settings.alerting_webhook', 'SLACK_WEBHOOK_URL'],
      ['model_list[0].litellm_params.vertex_credentials', 'VERTEX_CREDS'],
      ['model_list[1].litellm_params.aws_secret_access_key', 'AWS_SECRET'],
    ]) {
      const lines = config.warnings.filter((line) => line.startsWith(`${path}: environment variable ${name} is not set`));
      assert.equal(lines.length, 1, `${path} warned once:\n${warnings}`);
      assert.match(lines[0], /not used by Portico, left unresolved/);
    }
    // The response cache's settings are Portico's to read now: an unset one is taken as not set.
    assert.ok(config.warnings.includes('litellm_settings.cache_params.password: environment variable CACHE_PASSWORD is not set (referenced as os.environ/CACHE_PASSWORD); taken as not set, as LiteLLM does (calls that need it fail until it is set)'), warnings);
  });

  it('only references Portico reads are resolved: the others stay as written, out of the deployment', () => {
    const config = parseConfig(
      'model_list:\n  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_KEY, vertex_credentials: os.environ/VERTEX_CREDS}}\n',
      { OPENAI_KEY: 'sk-1', VERTEX_CREDS: '{"private_key": "secret"}' },
    );
    assert.equal(config.deployments[0].apiKey, 'sk-1');
    assert.equal(config.deployments[0].params.vertex_credentials, 'os.environ/VERTEX_CREDS');
    assert.doesNotMatch(JSON.stringify(config.deployments), /private_key/);
  });

  it("an unset variable a deployment reads is taken as not set, as LiteLLM does; the master key's is an error (the gateway must not open)", () => {
    const yaml = 'model_list:\n  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY, rpm: os.environ/RPM}}\n';
    const config = parseConfig(yaml, {});
    assert.equal(config.deployments[0].apiKey, undefined);
    assert.equal(config.deployments[0].rpm, undefined);
    for (const [path, name] of [['model_list[0].litellm_params.api_key', 'KEY'], ['model_list[0].litellm_params.rpm', 'RPM']]) {
      assert.ok(config.warnings.includes(`${path}: environment variable ${name} is not set (referenced as os.environ/${name}); taken as not set, as LiteLLM does (calls that need it fail until it is set)`), config.warnings.join('\n'));
    }
    const error = configError(() => parseConfig(`${yaml}general_settings: {master_key: os.environ/MASTER}\n`, {}));
    assert.match(error.message, /^general_settings\.master_key: environment variable MASTER is not set/m);
    assert.doesNotMatch(error.message, /RPM|KEY is not set/);
  });

  it('an entry that cannot do without a value whose variable is unset (an Azure endpoint) is skipped, saying which variable', () => {
    const config = parseConfig(
      'model_list:\n  - {model_name: az, litellm_params: {model: azure/gpt-4o, api_base: os.environ/AZURE_API_BASE, api_key: os.environ/AZURE_API_KEY}}\n  - {model_name: oa, litellm_params: {model: openai/gpt-4o, api_key: k}}\ngeneral_settings: {database_url: os.environ/DATABASE_URL}\n',
      {},
    );
    assert.deepEqual(config.deployments.map((d) => d.modelGroup), ['oa']);
    assert.equal(config.databaseUrl, undefined, 'an unset database_url is the default database, as LiteLLM starts without one');
    const warnings = config.warnings.join('\n');
    assert.match(warnings, /^model_list\[0\]\.litellm_params\.api_base: azure deployments need api_base [^\n]*; entry "az" skipped until AZURE_API_BASE is set$/m);
    assert.match(warnings, /^general_settings\.database_url: environment variable DATABASE_URL is not set [^\n]*taken as not set/m);
    // A value written wrong (not unset) is still an error.
    assert.match(configError(() => parseConfig('model_list:\n  - {model_name: az, litellm_params: {model: azure/gpt-4o, api_key: k}}\n', {})).message, /^model_list\[0\]\.litellm_params\.api_base: azure deployments need api_base/m);
  });

  it('an entry whose model is named by an unset variable is skipped, like one for a provider Portico lacks; a file of none servable is refused', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: os.environ/MODEL}}\n  - {model_name: b, litellm_params: {model: openai/gpt-4o, api_key: k}}\n', {});
    assert.deepEqual(config.deployments.map((d) => d.modelGroup), ['b']);
    assert.deepEqual(config.warnings, ['model_list[0].litellm_params.model: environment variable MODEL is not set (referenced as os.environ/MODEL); entry "a" skipped']);
    const error = configError(() => parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: os.environ/MODEL}}\n', {}));
    assert.match(error.message, /^model_list: Portico can serve none of its 1 entries:\n {2}model_list\[0\]\.litellm_params\.model: environment variable MODEL is not set/m);
  });
});

describe('LiteLLM drop-in: deployments that differ only in their API key', () => {
  it('load as separate deployments of the group; the first keeps the id it always had', () => {
    const single = parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: openai/gpt-4o, api_key: k1}}\n', {});
    const config = parseConfig(
      `
model_list:
  - {model_name: g, litellm_params: {model: openai/gpt-4o, api_key: k1}}
  - {model_name: g, litellm_params: {model: openai/gpt-4o, api_key: k2}}
  - {model_name: g, litellm_params: {model: openai/gpt-4o, api_key: k3}}
`,
      {},
    );
    const ids = config.deployments.map((d) => d.id);
    assert.equal(new Set(ids).size, 3);
    assert.equal(ids[0], single.deployments[0].id);
    assert.deepEqual(config.deployments.map((d) => d.apiKey), ['k1', 'k2', 'k3']);
  });
});

describe('LiteLLM drop-in: YAML 1.1 as PyYAML reads it', () => {
  it('tpm: 20_000 is 20000, and a date-like api_version stays its text', () => {
    const config = parseConfig(
      'model_list:\n  - model_name: a\n    litellm_params: {model: azure/dep, api_base: "https://r.openai.azure.com", api_key: k, tpm: 20_000, rpm: 1_000, api_version: 2024-10-21}\n',
      {},
    );
    assert.equal(config.deployments[0].tpm, 20000);
    assert.equal(config.deployments[0].rpm, 1000);
    assert.equal(config.deployments[0].apiVersion, '2024-10-21');
  });
});

describe('LiteLLM drop-in: messages name the key and the value', () => {
  const model = 'model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\n';

  it('a placeholder database_url is refused at load, naming the key, with its password masked', () => {
    const error = configError(() => parseConfig(`${model}general_settings: {database_url: "postgresql://<user>:s3cret@<host>:<port>/<dbname>"}\n`, {}));
    assert.match(error.message, /^general_settings\.database_url: "postgresql:\/\/<user>:\*\*\*\*@<host>:<port>\/<dbname>"/m);
    assert.doesNotMatch(error.message, /s3cret/);
    const mysql = configError(() => parseConfig(`${model}general_settings: {database_url: "mysql://u:pw@h/db"}\n`, {}));
    assert.match(mysql.message, /^general_settings\.database_url: "mysql:\/\/u:\*\*\*\*@h\/db": Accepted: /m);
  });

  it('an invalid value is named with its path and the value, a secret masked', () => {
    const error = configError(() =>
      parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: mock/a, rpm: lots, timeout: -5, api_key: true}}\n', {}),
    );
    assert.match(error.message, /^model_list\[0\]\.litellm_params\.rpm: .* \(value: "lots"\)$/m);
    assert.match(error.message, /^model_list\[0\]\.litellm_params\.timeout: .* \(value: -5\)$/m);
    assert.match(error.message, /^model_list\[0\]\.litellm_params\.api_key: .* \(value: "\*\*\*\*"\)$/m);
    const section = configError(() => parseConfig('model_list: []\nrouter_settings: {num_retries: many}\n', {}));
    assert.match(section.message, /^router_settings\.num_retries: .* \(value: "many"\)$/m);
  });

  it('a placeholder redis_host or redis_url is refused at load, naming the key', () => {
    const host = configError(() => parseConfig(`${model}router_settings: {redis_host: "<your-redis-host>", redis_password: pw}\n`, {}));
    assert.match(host.message, /^router_settings\.redis_host: "<your-redis-host>" is not a host name/m);
    const port = configError(() => parseConfig(`${model}router_settings: {redis_host: localhost, redis_port: "<port>"}\n`, {}));
    assert.match(port.message, /^router_settings\.redis_port: "<port>" is not a port number/m);
    const url = configError(() => parseConfig(`${model}router_settings: {redis_url: "redis://:hunter2@<host>:6379"}\n`, {}));
    assert.match(url.message, /^router_settings\.redis_url: "redis:\/\/:\*\*\*\*@<host>:6379"/m);
    assert.doesNotMatch(url.message, /hunter2/);
  });
});

describe("LiteLLM drop-in: what users' own configs write", () => {
  it('a key written twice in one mapping: the later one is used, as PyYAML does, with a warning naming both lines', () => {
    const config = parseConfig(
      `model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: sk-1}}
litellm_settings:
  drop_params: false
model_list:
  - {model_name: b, litellm_params: {model: openai/gpt-4o-mini, api_key: sk-2}}
litellm_settings:
  drop_params: true
`,
      {},
    );
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, d.dropParams]), [['b', true]]);
    assert.ok(config.warnings.includes("model_list: written twice in one mapping (lines 1 and 5); the later one is used, as LiteLLM's YAML loader does, and the earlier one ignored"), config.warnings.join('\n'));
    assert.ok(config.warnings.some((warning) => warning.startsWith('litellm_settings: written twice in one mapping (lines 3 and 7)')));
    const nested = parseConfig('model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-1\n      api_key: sk-2\n', {});
    assert.equal(nested.deployments[0].apiKey, 'sk-2');
    assert.ok(nested.warnings.some((warning) => warning.startsWith('model_list[0].litellm_params.api_key: written twice in one mapping (lines 5 and 6)')));
  });

  it("num_retries in an entry's litellm_params is its max_retries, as LiteLLM passes it to the call; max_retries wins", () => {
    const config = parseConfig(
      `model_list:
  - {model_name: a, litellm_params: {model: openai/gpt-4o, num_retries: 5}}
  - {model_name: b, litellm_params: {model: openai/gpt-4o, num_retries: 5, max_retries: 1}}
  - {model_name: c, litellm_params: {model: openai/gpt-4o}}
router_settings: {num_retries: 2}
`,
      {},
    );
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, d.maxRetries]), [['a', 5], ['b', 1], ['c', 2]]);
    assert.deepEqual(config.warnings.filter((warning) => warning.includes('retries')), []);
  });

  it('a model_group_alias written as a list is an alias of its first group, with a warning that names the rest as fallbacks to write', () => {
    const config = parseConfig(
      `model_list:
  - {model_name: llm-primary, litellm_params: {model: mock/a}}
  - {model_name: llm-fallback, litellm_params: {model: mock/b}}
router_settings:
  model_group_alias:
    llm: ["llm-primary", "llm-fallback"]
    one: ["llm-fallback"]
`,
      {},
    );
    assert.deepEqual(config.router.modelGroupAlias, { llm: { model: 'llm-primary', hidden: false }, one: { model: 'llm-fallback', hidden: false } });
    assert.deepEqual(config.warnings, [
      'router_settings.model_group_alias.llm: a list: an alias names one model group, so "llm-primary" is used and "llm-fallback" not; to try it when "llm-primary" fails, write router_settings.fallbacks: [{"llm-primary": ["llm-fallback"]}]',
      'router_settings.model_group_alias.one: a list: an alias names one model group, so "llm-fallback" is used',
    ]);
  });

  it("an anthropic/ api_base ending in /v1 is called as LiteLLM calls it, with a warning; one ending in /v1/messages is that URL", () => {
    const config = parseConfig(
      `model_list:
  - {model_name: a, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "http://host.docker.internal:8790/v1"}}
  - {model_name: b, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "http://proxy.test/anthropic/v1/messages"}}
`,
      {},
    );
    assert.equal(config.warnings.length, 1, config.warnings.join('\n'));
    assert.match(config.warnings[0], /^model_list\[0\]\.litellm_params\.api_base: "http:\/\/host\.docker\.internal:8790\/v1" ends in \/v1, .* requests go to http:\/\/host\.docker\.internal:8790\/v1\/v1\/messages/);
    assert.deepEqual(config.deployments.map((d) => (d.settings as { apiBase: string }).apiBase), ['http://host.docker.internal:8790/v1', 'http://proxy.test/anthropic']);
  });

  it('fallbacks written as one mapping, without its list, are read as that list, with a warning; litellm_settings.drop_params as a list drops those params everywhere', () => {
    const config = parseConfig(
      `model_list:
  - {model_name: small, litellm_params: {model: mock/small, additional_drop_params: [user]}}
  - {model_name: large, litellm_params: {model: mock/large}}
router_settings:
  context_window_fallbacks: {small: [large]}
  fallbacks: [{small: [large]}]
litellm_settings:
  drop_params: ["temperature", "user"]
`,
      {},
    );
    assert.deepEqual(config.router.contextWindowFallbacks, { small: ['large'] });
    assert.deepEqual(config.router.fallbacks, { small: ['large'] });
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, d.dropParams, d.additionalDropParams]), [
      ['small', false, ['user', 'temperature']],
      ['large', false, ['temperature', 'user']],
    ]);
    assert.deepEqual(config.warnings, [
      'router_settings.context_window_fallbacks: a mapping: read as the list of one mapping LiteLLM takes ([{"group": ["fallback", ...]}]); write it as a list, as LiteLLM cannot read this form',
      "litellm_settings.drop_params: a list: taken as every deployment's additional_drop_params (these parameters are removed from every request); drop_params itself is true or false",
    ]);
  });

  it('a fallback written as one group instead of a list is that list; max_budget: 0 with budget_duration: 0 is no budget, not an error', () => {
    const config = parseConfig(
      `model_list:
  - {model_name: local-qwen, litellm_params: {model: mock/q}}
  - {model_name: gpt-4o-mini, litellm_params: {model: mock/m}}
router_settings:
  context_window_fallbacks:
    "local-qwen": "gpt-4o-mini"
litellm_settings:
  max_budget: 0
  budget_duration: 0
`,
      {},
    );
    assert.deepEqual(config.router.contextWindowFallbacks, { 'local-qwen': ['gpt-4o-mini'] });
    assert.equal(config.proxyBudget, undefined);
    assert.ok(config.warnings.includes('litellm_settings.max_budget: is 0: LiteLLM checks a proxy budget only above 0, and so does Portico (no proxy budget, budget_duration ignored)'), config.warnings.join('\n'));
    assert.throws(() => parseConfig('model_list: []\nlitellm_settings: {max_budget: 10, budget_duration: 0}\n', {}), /litellm_settings\.budget_duration: "0" is not a duration/);
  });

  it('an organization list is one deployment per organization, as LiteLLM balances across OpenAI organizations', () => {
    const config = parseConfig(
      `model_list:
  - model_name: "*"
    litellm_params:
      model: openai/*
      api_key: sk-1
      organization: ["org-1", "org-2"]
  - {model_name: one, litellm_params: {model: openai/gpt-4o, api_key: sk-2, organization: org-3}}
`,
      {},
    );
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, (d.settings as { organization?: string }).organization]), [['*', 'org-1'], ['*', 'org-2'], ['one', 'org-3']]);
    assert.equal(new Set(config.deployments.map((d) => d.id)).size, 3, 'each its own deployment');
    assert.deepEqual(config.warnings, []);
    assert.throws(() => parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: sagemaker/x, organization: [o1, o2]}}\n', {}), /none of its 1 entries:\n {2}model_list\[0\]\.litellm_params\.model: provider "sagemaker"[^\n]*$/);
  });

  it("user_header_mappings' customer header names the end user (over user_header_name); rpm and tpm in model_info are the deployment's limits", () => {
    const config = parseConfig(
      `model_list:
  - {model_name: a, litellm_params: {model: mock/a}, model_info: {rpm: 100, tpm: 1000000}}
  - {model_name: b, litellm_params: {model: mock/b, rpm: 5}, model_info: {rpm: 100}}
general_settings:
  user_header_mappings:
    - header_name: X-OpenWebUI-User-Id
      litellm_user_role: internal_user
    - header_name: X-OpenWebUI-User-Email
      litellm_user_role: customer
`,
      {},
    );
    assert.equal(config.userHeaderName, 'x-openwebui-user-email');
    assert.deepEqual(config.warnings, ['general_settings.user_header_mappings[0]: the "internal_user" role is not implemented (ignored): only "customer", the header naming the end user, is read']);
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, d.rpm, d.tpm]), [['a', 100, 1_000_000], ['b', 5, undefined]]);
    const both = parseConfig('model_list: []\ngeneral_settings:\n  user_header_name: X-User\n  user_header_mappings: [{header_name: X-Other, litellm_user_role: customer}]\n', {});
    assert.equal(both.userHeaderName, 'x-other', "the mapping overrides user_header_name, as LiteLLM's field description says");
  });

  it('drop_params written as a list of names is read as additional_drop_params, with a warning', () => {
    const config = parseConfig(
      `model_list:
  - model_name: kimi
    litellm_params:
      model: openai/kimi-k3
      api_base: https://api.example.test/v1
      temperature: 1.0
      drop_params: ["temperature"]
      additional_drop_params: ["user"]
  - {model_name: plain, litellm_params: {model: openai/gpt-4o, drop_params: true}}
`,
      {},
    );
    assert.deepEqual(
      config.deployments.map((d) => [d.modelGroup, d.dropParams, d.additionalDropParams]),
      [
        ['kimi', false, ['user', 'temperature']],
        ['plain', true, []],
      ],
    );
    assert.deepEqual(
      config.warnings.filter((warning) => warning.includes('drop_params')),
      ['model_list[0].litellm_params.drop_params: a list: taken as additional_drop_params (these parameters are removed from every request to this deployment); drop_params itself is true or false'],
    );
  });

  it('callbacks given as one name (a custom callback class) or under success_callback load; otel in any of them turns tracing on', () => {
    const custom = parseConfig('model_list: []\nlitellm_settings:\n  callbacks: custom_callbacks.proxy_handler_instance\n', {});
    assert.equal(custom.otelCallback, false);
    assert.ok(custom.warnings.includes('litellm_settings.callbacks[0]: "custom_callbacks.proxy_handler_instance" is not supported by Portico and is ignored (it knows "otel", OpenTelemetry traces over OTLP, "langfuse_otel", and "prometheus")'), custom.warnings.join('\n'));
    const success = parseConfig('model_list: []\nlitellm_settings:\n  success_callback: ["otel", "langfuse"]\n  failure_callback: langfuse\n', {});
    assert.equal(success.otelCallback, true);
    assert.deepEqual(success.warnings.filter((warning) => warning.includes('callback')).map((warning) => warning.split(':')[0]), ['litellm_settings.success_callback[1]', 'litellm_settings.failure_callback[0]']);
    assert.equal(success.prometheusCallback, false);
  });

  it('"prometheus" in any callback list turns LiteLLM\'s metrics on, without a warning; require_auth_for_metrics_endpoint: false opens /metrics', () => {
    for (const setting of ['callbacks', 'success_callback', 'failure_callback']) {
      const config = parseConfig(`model_list: []\nlitellm_settings:\n  ${setting}: ["prometheus"]\n  require_auth_for_metrics_endpoint: false\n`, {});
      assert.equal(config.prometheusCallback, true, setting);
      assert.equal(config.metricsPublic, true);
      assert.deepEqual(config.warnings.filter((warning) => warning.includes('prometheus') || warning.includes('require_auth')), []);
    }
    assert.equal(parseConfig('model_list: []\nlitellm_settings:\n  require_auth_for_metrics_endpoint: true\n', {}).metricsPublic, undefined);
  });

  it('keys written empty are keys not given: an Anthropic-format server without a key, Bedrock without static AWS keys', () => {
    const config = parseConfig(
      `model_list:
  - {model_name: local, litellm_params: {model: anthropic/qwen3-local, api_base: "http://127.0.0.1:8000", api_key: ""}}
  - {model_name: claude, litellm_params: {model: "anthropic/*"}}
  - {model_name: titan, litellm_params: {model: bedrock/amazon.titan-text-express-v1, aws_access_key_id: "", aws_secret_access_key: "", aws_region_name: us-east-1}}
`,
      {},
    );
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, d.providerName, d.apiKey]), [
      ['local', 'anthropic', undefined],
      ['claude', 'anthropic', undefined],
      ['titan', 'bedrock', undefined],
    ]);
  });

  it('an api_base that is not an http(s) URL (a placeholder, a shell-style variable) loads, as in LiteLLM, with a warning', () => {
    const config = parseConfig('model_list:\n  - {model_name: o, litellm_params: {model: ollama/llama3, api_base: "${OLLAMA_BASE_URL}"}}\n  - {model_name: v, litellm_params: {model: hosted_vllm/x, api_base: your_api_base}}\n', {});
    assert.deepEqual(config.deployments.map((d) => d.modelGroup), ['o', 'v']);
    assert.deepEqual(config.warnings, [
      'model_list[0].litellm_params.api_base: "${OLLAMA_BASE_URL}" is not an http(s) URL (a shell-style variable: nothing expands it, write os.environ/NAME); calls to this deployment fail until it is one',
      'model_list[1].litellm_params.api_base: "your_api_base" is not an http(s) URL (a placeholder left in?); calls to this deployment fail until it is one',
    ]);
  });

  it('a key Portico does not read, set on many entries, is one warning naming them, not one per entry', () => {
    const entries = Array.from({ length: 7 }, (_, i) => `  - {model_name: m${i}, litellm_params: {model: openai/gpt-4o, api_key: k, tpm_limit: ${i}}}`).join('\n');
    const config = parseConfig(`model_list:\n${entries}\n  - {model_name: x, litellm_params: {model: openai/gpt-4o, api_key: k, rpm_limit: 5}}\n`, {});
    assert.deepEqual(config.warnings, [
      'model_list[*].litellm_params.tpm_limit: unknown key, not used by Portico (ignored), in model_list[0], [1], [2], [3], [4], ... (7 entries)',
      'model_list[7].litellm_params.rpm_limit: unknown key, not used by Portico (ignored)',
    ]);
  });

  it('a bare Gemini name with a Vertex project runs on Vertex AI, as in LiteLLM; without one, on the Gemini API', () => {
    const config = parseConfig(
      `model_list:
  - {model_name: v, litellm_params: {model: gemini-2.5-flash, vertex_project: my-project, vertex_location: us-central1}}
  - {model_name: g, litellm_params: {model: gemini-2.5-flash, api_key: k}}
`,
      {},
    );
    assert.deepEqual(config.deployments.map((d) => [d.modelGroup, d.providerName, d.upstreamModel]), [
      ['v', 'vertex_ai', 'gemini-2.5-flash'],
      ['g', 'gemini', 'gemini-2.5-flash'],
    ]);
    assert.equal(config.deployments[0].pricing.inputCostPerToken, catalogueModel('vertex_ai/gemini-2.5-flash')?.inputCostPerToken);
  });

  it('general_settings.global_max_parallel_requests is read (a positive whole number), not warned about as unimplemented', () => {
    const model = 'model_list:\n  - {model_name: m, litellm_params: {model: openai/gpt-4o, api_key: k}}\n';
    const config = parseConfig(`${model}general_settings: {global_max_parallel_requests: 100}\n`, {});
    assert.equal(config.server.globalMaxParallelRequests, 100);
    assert.deepEqual(config.warnings, []);
    assert.equal(parseConfig(model, {}).server.globalMaxParallelRequests, undefined);
    for (const bad of ['0', '-3', '2.5', 'many']) {
      assert.match(configError(() => parseConfig(`${model}general_settings: {global_max_parallel_requests: ${bad}}\n`, {})).message, /general_settings\.global_max_parallel_requests/);
    }
  });

  it('litellm_settings.max_budget and budget_duration are the proxy budget; 0, alone or without the ledger, as LiteLLM would: none', () => {
    const model = 'model_list:\n  - {model_name: m, litellm_params: {model: openai/gpt-4o, api_key: k}}\n';
    const read = (settings: string, general = '') => parseConfig(`${model}litellm_settings: {${settings}}\n${general}`, {});
    const budgeted = read('max_budget: 100, budget_duration: 30d');
    assert.deepEqual(budgeted.proxyBudget, { maxBudget: 100, windowMs: 30 * 86_400_000 });
    assert.deepEqual(budgeted.warnings, []);
    assert.deepEqual(read('max_budget: 2.5').proxyBudget, { maxBudget: 2.5 });
    const zero = read('max_budget: 0, budget_duration: 30d');
    assert.equal(zero.proxyBudget, undefined);
    assert.match(zero.warnings.join('\n'), /litellm_settings\.max_budget: is 0: LiteLLM checks a proxy budget only above 0/);
    assert.match(read('budget_duration: 30d').warnings.join('\n'), /litellm_settings\.budget_duration: no max_budget beside it/);
    const noLedger = read('max_budget: 5', 'general_settings: {disable_spend_logs: true}\n');
    assert.equal(noLedger.proxyBudget, undefined);
    assert.match(noLedger.warnings.join('\n'), /needs the spend ledger/);
    assert.match(configError(() => read('max_budget: 5, budget_duration: soon')).message, /litellm_settings\.budget_duration: "soon" is not a duration/);
    assert.match(configError(() => read('max_budget: -1')).message, /litellm_settings\.max_budget/);
  });
});
