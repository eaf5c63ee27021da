/**
 * A `bedrock/` deployment's settings from its `litellm_params`, under LiteLLM's names
 * (https://docs.litellm.ai/docs/providers/bedrock, https://docs.litellm.ai/docs/providers/bedrock_batches):
 *
 * - `aws_region_name` (else AWS_REGION_NAME, AWS_REGION, AWS_DEFAULT_REGION, else `us-west-2`,
 *   LiteLLM's default);
 * - credentials: `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`), else the
 *   standard AWS chain (AWS_ACCESS_KEY_ID/..., profiles, container and instance roles);
 *   `aws_role_name` (a role ARN) is assumed with them through STS, as `aws_session_name`
 *   (`aws_external_id`, `aws_sts_endpoint` for a private or test STS);
 * - `aws_bedrock_runtime_endpoint` (or `api_base`) replaces `https://bedrock-runtime.{region}.amazonaws.com`;
 *   `aws_bedrock_endpoint` (Portico's own name) replaces the control plane's
 *   `https://bedrock.{region}.amazonaws.com` (batch jobs);
 * - batches: `s3_bucket_name` (`bucket` or `bucket/prefix`) where job input and output are
 *   staged, `aws_batch_role_arn` the service role Bedrock reads and writes it with, and
 *   optionally `s3_region_name`, `s3_access_key_id`, `s3_secret_access_key`, `s3_endpoint_url`
 *   (path-style requests, for MinIO or an emulator), `s3_encryption_key_id` (KMS key of the output).
 *
 * The model: `bedrock/<modelId>`, `bedrock/converse/<modelId>` or `bedrock/invoke/<modelId>` (all
 * served by the Converse API); a cross-region inference profile id (`us.anthropic.claude-...`) or an ARN is a model id too.
 * `max_tokens` is the default for requests that set none. Parsed once at start (`Provider.settings`),
 * problems reported by key.
 */
import { z } from 'zod';

export const DEFAULT_BEDROCK_REGION = 'us-west-2';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1');

const bedrockParamsSchema = z
  .object({
    aws_region_name: region.optional(),
    aws_access_key_id: z.string().min(1).optional(),
    aws_secret_access_key: z.string().min(1).optional(),
    aws_session_token: z.string().min(1).optional(),
    aws_role_name: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)').optional(),
    aws_session_name: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of letters, digits and +=,.@_-').optional(),
    aws_external_id: z.string().min(2).optional(),
    aws_sts_endpoint: httpUrl.optional(),
    aws_bedrock_runtime_endpoint: httpUrl.optional(),
    aws_bedrock_endpoint: httpUrl.optional(),
    s3_bucket_name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be an S3 bucket name, optionally followed by /prefix')
      .optional(),
    s3_region_name: region.optional(),
    s3_access_key_id: z.string().min(1).optional(),
    s3_secret_access_key: z.string().min(1).optional(),
    s3_endpoint_url: httpUrl.optional(),
    s3_encryption_key_id: z.string().min(1).optional(),
    aws_batch_role_arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)').optional(),
    api_base: httpUrl.optional(),
    max_tokens: z.number().int().positive().optional(),
  })
  .superRefine((settings, context) => {
    if ((settings.aws_access_key_id === undefined) !== (settings.aws_secret_access_key === undefined)) {
      const missing = settings.aws_access_key_id === undefined ? 'aws_access_key_id' : 'aws_secret_access_key';
      context.addIssue({ code: 'custom', path: [missing], message: 'aws_access_key_id and aws_secret_access_key go together' });
    }
    if (settings.aws_session_token !== undefined && settings.aws_access_key_id === undefined) {
      context.addIssue({ code: 'custom', path: ['aws_session_token'], message: 'a session token needs aws_access_key_id and aws_secret_access_key' });
    }
    if ((settings.s3_access_key_id === undefined) !== (settings.s3_secret_access_key === undefined)) {
      const missing = settings.s3_access_key_id === undefined ? 's3_access_key_id' : 's3_secret_access_key';
      context.addIssue({ code: 'custom', path: [missing], message: 's3_access_key_id and s3_secret_access_key go together' });
    }
    if ((settings.s3_bucket_name === undefined) !== (settings.aws_batch_role_arn === undefined)) {
      const missing = settings.s3_bucket_name === undefined ? 's3_bucket_name' : 'aws_batch_role_arn';
      context.addIssue({ code: 'custom', path: [missing], message: 'Bedrock batch jobs need both s3_bucket_name (where input and output are staged) and aws_batch_role_arn (the role Bedrock uses to read and write them)' });
    }
  });

export type BedrockSettingsInput = z.infer<typeof bedrockParamsSchema>;

/** Where credentials come from; resolved to a provider in `credentials.ts`. */
export interface BedrockCredentialSettings {
  static?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** An IAM role to assume with the base credentials. */
  role?: { arn: string; sessionName: string; externalId?: string; stsEndpoint?: string };
}

export interface BedrockBatchSettings {
  bucket: string;
  /** `''` or ending with `/`. */
  prefix: string;
  roleArn: string;
  s3: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
  kmsKeyId?: string;
}

export interface BedrockSettings {
  region: string;
  /** Origin of the runtime API, without a trailing slash. */
  runtimeEndpoint: string;
  /** Origin of the control plane (batch jobs), without a trailing slash. */
  controlEndpoint: string;
  credentials: BedrockCredentialSettings;
  /** Absent: batches run on Portico's engine. */
  batch: BedrockBatchSettings | undefined;
  /** `maxTokens` of requests that set none; absent: the model's default (Claude batch records: Portico's). */
  defaultMaxTokens: number | undefined;
}

/** Environment variables read for keys the params leave out, as LiteLLM reads them. */
export const BEDROCK_SETTINGS_ENVIRONMENT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  aws_region_name: ['AWS_REGION_NAME', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
});

export const bedrockSettingsSchema: z.ZodType<BedrockSettings> = bedrockParamsSchema.transform((settings): BedrockSettings => {
  const regionName = settings.aws_region_name ?? DEFAULT_BEDROCK_REGION;
  const credentials: BedrockCredentialSettings = {};
  if (settings.aws_access_key_id !== undefined && settings.aws_secret_access_key !== undefined) {
    credentials.static = {
      accessKeyId: settings.aws_access_key_id,
      secretAccessKey: settings.aws_secret_access_key,
      ...(settings.aws_session_token !== undefined && { sessionToken: settings.aws_session_token }),
    };
  }
  if (settings.aws_role_name !== undefined) {
    credentials.role = {
      arn: settings.aws_role_name,
      sessionName: settings.aws_session_name ?? 'portico-bedrock',
      ...(settings.aws_external_id !== undefined && { externalId: settings.aws_external_id }),
      ...(settings.aws_sts_endpoint !== undefined && { stsEndpoint: trimSlash(settings.aws_sts_endpoint) }),
    };
  }
  return {
    region: regionName,
    runtimeEndpoint: trimSlash(settings.aws_bedrock_runtime_endpoint ?? settings.api_base ?? `https://bedrock-runtime.${regionName}.amazonaws.com`),
    controlEndpoint: trimSlash(settings.aws_bedrock_endpoint ?? `https://bedrock.${regionName}.amazonaws.com`),
    credentials,
    batch: batchSettingsOf(settings, regionName),
    defaultMaxTokens: settings.max_tokens,
  };
});

/** Problems outside the settings: the model id (`bedrock/<modelId>`). */
export function bedrockDeploymentProblems(upstreamModel: string): string[] {
  return modelIdOf(upstreamModel) === '' ? ['model: a bedrock deployment names its model id (bedrock/<modelId>)'] : [];
}

/**
 * `converse/<id>` and `invoke/<id>` name the API LiteLLM should use; Portico serves chat through
 * Converse either way (one translation for every model; the answers are the same).
 */
export function modelIdOf(upstreamModel: string): string {
  return upstreamModel.replace(/^(converse|invoke)\//, '');
}

function batchSettingsOf(settings: BedrockSettingsInput, regionName: string): BedrockBatchSettings | undefined {
  if (settings.s3_bucket_name === undefined || settings.aws_batch_role_arn === undefined) return undefined;
  const slash = settings.s3_bucket_name.indexOf('/');
  const bucket = slash < 0 ? settings.s3_bucket_name : settings.s3_bucket_name.slice(0, slash);
  const rawPrefix = slash < 0 ? '' : settings.s3_bucket_name.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return {
    bucket,
    prefix: rawPrefix === '' ? '' : `${rawPrefix}/`,
    roleArn: settings.aws_batch_role_arn,
    s3: {
      region: settings.s3_region_name ?? regionName,
      ...(settings.s3_endpoint_url !== undefined && { endpoint: trimSlash(settings.s3_endpoint_url) }),
      ...(settings.s3_access_key_id !== undefined &&
        settings.s3_secret_access_key !== undefined && { credentials: { accessKeyId: settings.s3_access_key_id, secretAccessKey: settings.s3_secret_access_key } }),
    },
    ...(settings.s3_encryption_key_id !== undefined && { kmsKeyId: settings.s3_encryption_key_id }),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
