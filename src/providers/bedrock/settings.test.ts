import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { providerSettingsOf } from '../../config/provider-settings.ts';
import type { Environment } from '../../config/environment-references.ts';
import { bedrockProvider } from './index.ts';
import { modelIdOf, type BedrockSettings } from './settings.ts';

const ROLE = 'arn:aws:iam::123456789012:role/portico';

function settingsOf(params: Record<string, unknown>, env: Environment = {}): BedrockSettings {
  return providerSettingsOf(bedrockProvider, { model: 'bedrock/amazon.nova-pro-v1:0', ...params }, env);
}

function problemsOf(params: Record<string, unknown>, env: Environment = {}): string[] {
  try {
    settingsOf(params, env);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').map((line) => line.replace(/^litellm_params\./, ''));
  }
}

describe('bedrock settings (LiteLLM names)', () => {
  it('defaults: us-west-2 as LiteLLM, the public endpoints of that region, the AWS chain, no batches', () => {
    const settings = settingsOf({});
    assert.equal(settings.region, 'us-west-2');
    assert.equal(settings.runtimeEndpoint, 'https://bedrock-runtime.us-west-2.amazonaws.com');
    assert.equal(settings.controlEndpoint, 'https://bedrock.us-west-2.amazonaws.com');
    assert.deepEqual(settings.credentials, {});
    assert.equal(settings.batch, undefined);
  });

  it('the region comes from aws_region_name, else AWS_REGION_NAME, AWS_REGION, AWS_DEFAULT_REGION in that order', () => {
    assert.equal(settingsOf({ aws_region_name: 'eu-west-1' }, { AWS_REGION: 'us-east-2' }).region, 'eu-west-1');
    assert.equal(settingsOf({}, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'ap-south-1' }).region, 'us-east-2');
    assert.equal(settingsOf({}, { AWS_DEFAULT_REGION: 'ap-south-1' }).region, 'ap-south-1');
    assert.equal(settingsOf({}, { AWS_REGION_NAME: 'ca-central-1', AWS_REGION: 'us-east-2' }).runtimeEndpoint, 'https://bedrock-runtime.ca-central-1.amazonaws.com');
  });

  it('static keys with a session token, and a role assumed with them', () => {
    const settings = settingsOf({ aws_access_key_id: 'AKIA1', aws_secret_access_key: 's', aws_session_token: 't', aws_role_name: ROLE, aws_session_name: 'my-session', aws_sts_endpoint: 'http://127.0.0.1:9/' });
    assert.deepEqual(settings.credentials, { static: { accessKeyId: 'AKIA1', secretAccessKey: 's', sessionToken: 't' }, role: { arn: ROLE, sessionName: 'my-session', stsEndpoint: 'http://127.0.0.1:9' } });
  });

  it('endpoint overrides: aws_bedrock_runtime_endpoint (else api_base) and aws_bedrock_endpoint', () => {
    assert.equal(settingsOf({ aws_bedrock_runtime_endpoint: 'http://127.0.0.1:1/' }).runtimeEndpoint, 'http://127.0.0.1:1');
    assert.equal(settingsOf({ api_base: 'https://vpce.example.com' }).runtimeEndpoint, 'https://vpce.example.com');
    assert.equal(settingsOf({ aws_bedrock_endpoint: 'http://127.0.0.1:2' }).controlEndpoint, 'http://127.0.0.1:2');
  });

  it('batches: s3_bucket_name (with a prefix) and aws_batch_role_arn together, S3 keys and endpoint of their own', () => {
    const settings = settingsOf({ s3_bucket_name: 'my-bucket/batches/in/', aws_batch_role_arn: ROLE, s3_endpoint_url: 'http://127.0.0.1:3', s3_access_key_id: 'k', s3_secret_access_key: 's', s3_encryption_key_id: 'kms-1' });
    assert.deepEqual(settings.batch, { bucket: 'my-bucket', prefix: 'batches/in/', roleArn: ROLE, s3: { region: 'us-west-2', endpoint: 'http://127.0.0.1:3', credentials: { accessKeyId: 'k', secretAccessKey: 's' } }, kmsKeyId: 'kms-1' });
    assert.equal(settingsOf({ s3_bucket_name: 'b-1', aws_batch_role_arn: ROLE, s3_region_name: 'eu-west-1' }).batch?.s3.region, 'eu-west-1');
  });

  it('problems are reported at their keys', () => {
    assert.deepEqual(problemsOf({ aws_region_name: 'mars' }).length, 1);
    assert.match(problemsOf({ aws_region_name: 'mars' })[0], /^aws_region_name: must be an AWS region/);
    assert.match(problemsOf({ aws_access_key_id: 'AKIA1' }).join('\n'), /aws_secret_access_key: aws_access_key_id and aws_secret_access_key go together/);
    assert.match(problemsOf({ aws_session_token: 't' }).join('\n'), /aws_session_token: a session token needs/);
    assert.match(problemsOf({ aws_role_name: 'portico' }).join('\n'), /aws_role_name: must be an IAM role ARN/);
    assert.match(problemsOf({ s3_bucket_name: 'bucket' }).join('\n'), /aws_batch_role_arn: Bedrock batch jobs need both/);
    assert.match(problemsOf({ aws_batch_role_arn: ROLE }).join('\n'), /s3_bucket_name: Bedrock batch jobs need both/);
    assert.match(problemsOf({ aws_bedrock_runtime_endpoint: 'ftp://x' }).join('\n'), /aws_bedrock_runtime_endpoint: must be an http\(s\) URL/);
  });

  it('bedrock/converse/<id> and bedrock/invoke/<id> name the same model as bedrock/<id>', () => {
    assert.equal(modelIdOf('converse/us.anthropic.claude-3-5-sonnet-20241022-v2:0'), 'us.anthropic.claude-3-5-sonnet-20241022-v2:0');
    assert.equal(modelIdOf('invoke/anthropic.claude-3-haiku-20240307-v1:0'), 'anthropic.claude-3-haiku-20240307-v1:0');
    assert.equal(modelIdOf('amazon.nova-pro-v1:0'), 'amazon.nova-pro-v1:0');
  });
});

describe('bedrock models in the catalogue', () => {
  it('bedrock/converse/<id> is priced as bedrock/<id>; batch prices are half; embeddings have no converse/ name', async () => {
    const { catalogueModel } = await import('../../config/model-catalogue.ts');
    const plain = catalogueModel('bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0');
    const converse = catalogueModel('bedrock/converse/us.anthropic.claude-3-5-sonnet-20241022-v2:0');
    assert.equal(plain?.inputCostPerToken, 3e-6);
    assert.equal(converse?.inputCostPerToken, plain?.inputCostPerToken);
    assert.equal(plain?.inputCostPerTokenBatches, 1.5e-6);
    assert.equal(plain?.outputCostPerTokenBatches, 7.5e-6);
    assert.equal(catalogueModel('bedrock/amazon.titan-embed-text-v2:0')?.mode, 'embedding');
    assert.equal(catalogueModel('bedrock/converse/amazon.titan-embed-text-v2:0'), undefined);
  });
});
