import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { providerSettingsOf } from '../../config/provider-settings.ts';
import type { Environment } from '../../config/environment-references.ts';
import { vertexAiProvider } from './index.ts';
import type { VertexSettings } from './settings.ts';

const KEY = { type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n', project_id: 'key-project', token_uri: 'http://127.0.0.1:1/token' };

/** The params as written under `litellm_params` (an `api_base` as the second argument). */
function deployment(params: Record<string, unknown>, apiBase?: string): Record<string, unknown> {
  return { model: 'vertex_ai/gemini-2.5-flash', ...params, ...(apiBase && { api_base: apiBase }) };
}

function vertexSettingsOf(params: Record<string, unknown>, env: Environment): VertexSettings {
  return providerSettingsOf(vertexAiProvider, params, env);
}

/** The config problems of those params, as `<key>: <message>` lines. */
function vertexSettingsProblems(params: Record<string, unknown>, env: Environment): string[] {
  try {
    vertexSettingsOf(params, env);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').map((line) => line.replace(/^litellm_params\./, ''));
  }
}

describe('vertex_ai settings', () => {
  let dir: string;
  let keyPath: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vertex-settings-'));
    keyPath = join(dir, 'key.json');
    await writeFile(keyPath, JSON.stringify(KEY));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads vertex_credentials as a file path, JSON text or a mapping; the project falls back to the key', () => {
    for (const credentials of [keyPath, JSON.stringify(KEY), KEY]) {
      const settings = vertexSettingsOf(deployment({ vertex_credentials: credentials }), {});
      assert.equal(settings.project, 'key-project');
      assert.equal(settings.credentials.kind, 'service_account');
      assert.equal(settings.location, 'us-central1');
      assert.equal(settings.apiRoot, 'https://us-central1-aiplatform.googleapis.com');
    }
  });

  it('global has no regional host; api_base replaces the host; the bucket name may carry a prefix', () => {
    const global = vertexSettingsOf(deployment({ vertex_project: 'p', vertex_location: 'global', vertex_credentials: KEY }), {});
    assert.equal(global.apiRoot, 'https://aiplatform.googleapis.com');
    const custom = vertexSettingsOf(deployment({ vertex_project: 'p', vertex_credentials: KEY, gcs_bucket_name: 'my-bucket/some/prefix/' }, 'http://127.0.0.1:9/'), {});
    assert.equal(custom.apiRoot, 'http://127.0.0.1:9');
    assert.deepEqual(custom.staging, { bucket: 'my-bucket', prefix: 'some/prefix/' });
    assert.equal(vertexSettingsOf(deployment({ vertex_project: 'p', vertex_credentials: KEY }), { GCS_BUCKET_NAME: 'env-bucket' }).staging?.bucket, 'env-bucket');
  });

  it('without vertex_credentials, GOOGLE_APPLICATION_CREDENTIALS names the key file, else the application default credentials', () => {
    assert.equal(vertexSettingsOf(deployment({}), { GOOGLE_APPLICATION_CREDENTIALS: keyPath }).credentials.kind, 'service_account');
    const adc = vertexSettingsOf(deployment({ vertex_project: 'p' }), {});
    assert.equal(adc.credentials.kind, 'application_default');
  });

  it('VERTEXAI_PROJECT and VERTEXAI_LOCATION fill in what the params leave out', () => {
    const settings = vertexSettingsOf(deployment({ vertex_credentials: KEY }), { VERTEXAI_PROJECT: 'env-project', VERTEXAI_LOCATION: 'europe-west4' });
    assert.equal(settings.project, 'env-project');
    assert.equal(settings.location, 'europe-west4');
  });

  it('problems are reported at their key', () => {
    assert.deepEqual(vertexSettingsProblems(deployment({}), {}), ["vertex_project: a vertex_ai deployment needs a project (vertex_project, VERTEXAI_PROJECT, or the credentials' project_id)"]);
    assert.match(vertexSettingsProblems(deployment({ vertex_credentials: join(dir, 'missing.json') }), {})[0], /^vertex_credentials: vertex_credentials: cannot read '.*missing\.json' \(ENOENT\)$/);
    assert.match(vertexSettingsProblems(deployment({ vertex_credentials: '{not json' }), {})[0], /^vertex_credentials: looks like JSON but does not parse$/);
    assert.match(vertexSettingsProblems(deployment({ vertex_credentials: { ...KEY, private_key: 'nope' } }), {})[0], /^vertex_credentials: .*PEM private_key/);
    assert.match(vertexSettingsProblems(deployment({ vertex_project: 'p', vertex_location: 'US Central' }), {})[0], /^vertex_location: /);
    assert.match(vertexSettingsProblems(deployment({ vertex_project: 'p', gcs_bucket_name: 'gs://bucket' }), {})[0], /^gcs_bucket_name: /);
  });
});
