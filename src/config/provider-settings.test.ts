/**
 * Providers' typed settings (`Provider.settings`) as the config loader parses them: issues at
 * their config path, `os.environ/` values, environment fallbacks, unknown keys still warnings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../spec/errors.ts';
import type { Provider } from '../spec/provider.ts';
import { parseConfig } from './load-config.ts';
import { providerParamKeys, providerSettingsOf } from './provider-settings.ts';

function configErrorOf(yaml: string, env: Record<string, string> = {}): string {
  try {
    parseConfig(yaml, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  assert.fail('the config loaded');
}

describe('provider settings', () => {
  it("a provider's settings issue names its config path", () => {
    const message = configErrorOf(
      'model_list:\n  - {model_name: a, litellm_params: {model: mock/m}}\n  - {model_name: v, litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: p, vertex_location: "US Central"}}\n',
    );
    assert.match(message, /^model_list\[1\]\.litellm_params\.vertex_location: must be a Vertex AI location/m);
  });

  it('os.environ/ values reach the settings; an unset one is taken as not set, with a warning naming the variable and the key', () => {
    const config = parseConfig('model_list:\n  - {model_name: m, litellm_params: {model: mock/m, mock_latency_ms: os.environ/LATENCY}}\n', { LATENCY: '7' });
    assert.deepEqual(config.deployments[0].settings, { mockResponse: undefined, latencyMs: 7, embeddingDimensions: 1536 });
    const unset = parseConfig('model_list:\n  - {model_name: m, litellm_params: {model: mock/m, mock_latency_ms: os.environ/LATENCY}}\n', {});
    assert.equal((unset.deployments[0].settings as { latencyMs: number }).latencyMs, 0);
    assert.deepEqual(unset.warnings.filter((warning) => warning.includes('LATENCY')), ['model_list[0].litellm_params.mock_latency_ms: environment variable LATENCY is not set (referenced as os.environ/LATENCY); taken as not set, as LiteLLM does (calls that need it fail until it is set)']);
  });

  it("the provider's environment fallbacks fill in keys the params leave out; written values win", () => {
    const yaml = (extra: string) => `model_list:\n  - {model_name: v, litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: p${extra}}}\n`;
    const fromEnv = parseConfig(yaml(''), { VERTEXAI_LOCATION: 'europe-west4' });
    assert.equal((fromEnv.deployments[0].settings as { location: string }).location, 'europe-west4');
    const written = parseConfig(yaml(', vertex_location: asia-east1'), { VERTEXAI_LOCATION: 'europe-west4' });
    assert.equal((written.deployments[0].settings as { location: string }).location, 'asia-east1');
  });

  it('keys of the schema are known; other keys stay warnings, not errors', () => {
    const config = parseConfig('model_list:\n  - {model_name: m, litellm_params: {model: mock/m, mock_latency_ms: 1, mock_latnecy: 2}}\n', {});
    assert.deepEqual(config.warnings.filter((warning) => warning.includes('mock_')), ['model_list[0].litellm_params.mock_latnecy: unknown key, not used by Portico (ignored)']);
  });

  it("a schema's keys are found through refinements and transforms", () => {
    const provider: Provider<{ region: string }> = {
      names: ['x'],
      defaultBatchMode: 'emulate',
      settings: {
        schema: z
          .object({ region_name: z.string(), role: z.string().optional() })
          .refine((params) => params.role !== 'nobody', { path: ['role'], message: 'must name someone' })
          .transform((params) => ({ region: params.region_name })),
        environment: { region_name: ['X_REGION'] },
      },
      paramKeys: ['ignored_key'],
      createClient: () => assert.fail('not called'),
    };
    assert.deepEqual([...providerParamKeys(provider as Provider)].sort(), ['ignored_key', 'region_name', 'role']);
    assert.deepEqual(providerSettingsOf(provider, {}, { X_REGION: 'r1' }), { region: 'r1' });
    assert.throws(() => providerSettingsOf(provider, { region_name: 'r', role: 'nobody' }), /litellm_params\.role: must name someone/);
    // An empty value is a value not given (LiteLLM configs write `aws_access_key_id: ""`).
    assert.deepEqual(providerSettingsOf(provider, { region_name: '', role: '' }, { X_REGION: 'r2' }), { region: 'r2' });
  });
});
