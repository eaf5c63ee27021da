/**
 * What a `watsonx/` deployment reads of its `litellm_params` (`Provider.settings`), under LiteLLM's
 * names and environment variables (https://docs.litellm.ai/docs/providers/watsonx):
 *
 * - `api_base` (WATSONX_API_BASE, WATSONX_URL, WX_URL, WML_URL): the service URL,
 *   `https://us-south.ml.cloud.ibm.com`; else `region_name` (WATSONX_REGION, ...) makes it;
 * - the credentials, first present wins: `token` (WATSONX_TOKEN), a bearer token sent as it is;
 *   `zen_api_key` (WATSONX_ZENAPIKEY), Cloud Pak for Data's `ZenApiKey`; else `api_key`
 *   (WATSONX_APIKEY, WATSONX_API_KEY, WX_API_KEY), an IBM Cloud API key exchanged at IBM Cloud IAM
 *   (`iam_url`, WATSONX_IAM_URL; default https://iam.cloud.ibm.com/identity/token) for tokens;
 * - `project_id` (WATSONX_PROJECT_ID, WX_PROJECT_ID, PROJECT_ID) or `space_id`
 *   (WATSONX_DEPLOYMENT_SPACE_ID, WATSONX_SPACE_ID, WX_SPACE_ID, SPACE_ID): one is required (the
 *   provider's `validate`), but for a `watsonx/deployment/<id>` model, which names its own;
 * - `api_version` (WATSONX_API_VERSION): the `version` every call carries (default LiteLLM's, 2024-03-13).
 */
import { z } from 'zod';

export const WATSONX_DEFAULT_API_VERSION = '2024-03-13';
export const IBM_CLOUD_IAM_URL = 'https://iam.cloud.ibm.com/identity/token';

export const WATSONX_SETTINGS_ENVIRONMENT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  project_id: Object.freeze(['WATSONX_PROJECT_ID', 'WX_PROJECT_ID', 'PROJECT_ID']),
  space_id: Object.freeze(['WATSONX_DEPLOYMENT_SPACE_ID', 'WATSONX_SPACE_ID', 'WX_SPACE_ID', 'SPACE_ID']),
  region_name: Object.freeze(['WATSONX_REGION', 'WX_REGION', 'REGION']),
  token: Object.freeze(['WATSONX_TOKEN']),
  zen_api_key: Object.freeze(['WATSONX_ZENAPIKEY']),
  iam_url: Object.freeze(['WATSONX_IAM_URL']),
});

/** How a request is authorised. */
export type WatsonxCredentials =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'zen'; readonly apiKey: string }
  | { readonly kind: 'iam'; readonly apiKey: string; readonly iamUrl: string };

export interface WatsonxSettings {
  /** The service URL, without a trailing `/`. */
  readonly serviceUrl: string;
  readonly apiVersion: string;
  readonly credentials: WatsonxCredentials;
  readonly projectId: string | undefined;
  readonly spaceId: string | undefined;
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const text = z.string().min(1).optional();

export const watsonxSettingsSchema = z
  .object({
    api_key: text,
    apikey: text,
    api_base: httpUrl.optional(),
    url: httpUrl.optional(),
    api_version: text,
    region_name: text,
    region: text,
    watsonx_region_name: text,
    project_id: text,
    watsonx_project: text,
    space_id: text,
    token: text,
    zen_api_key: text,
    iam_url: httpUrl.optional(),
  })
  .superRefine((params, context) => {
    if (params.api_base === undefined && params.url === undefined && regionOf(params) === undefined) {
      context.addIssue({ code: 'custom', path: ['api_base'], message: 'a watsonx/ deployment needs api_base (the service URL, https://<region>.ml.cloud.ibm.com; or WATSONX_URL) or region_name (WATSONX_REGION)' });
    }
    if (params.token === undefined && params.zen_api_key === undefined && (params.api_key ?? params.apikey) === undefined) {
      context.addIssue({ code: 'custom', path: ['api_key'], message: 'a watsonx/ deployment needs an IBM Cloud API key (api_key, or WATSONX_APIKEY), a token (WATSONX_TOKEN) or a zen_api_key (WATSONX_ZENAPIKEY)' });
    }
  })
  .transform((params): WatsonxSettings => {
    const apiKey = params.api_key ?? params.apikey;
    const region = regionOf(params);
    const projectId = params.project_id ?? params.watsonx_project;
    return {
      serviceUrl: (params.api_base ?? params.url ?? `https://${region}.ml.cloud.ibm.com`).replace(/\/+$/, ''),
      apiVersion: params.api_version ?? WATSONX_DEFAULT_API_VERSION,
      credentials:
        params.token !== undefined
          ? { kind: 'bearer', token: params.token }
          : params.zen_api_key !== undefined
            ? { kind: 'zen', apiKey: params.zen_api_key }
            : { kind: 'iam', apiKey: apiKey as string, iamUrl: params.iam_url ?? IBM_CLOUD_IAM_URL },
      projectId,
      spaceId: params.space_id,
    };
  });

function regionOf(params: { region_name?: string; region?: string; watsonx_region_name?: string }): string | undefined {
  return params.region_name ?? params.region ?? params.watsonx_region_name;
}

/** `watsonx/deployment/<id>`: a model deployed in a space, called at its deployment's own URL; its id, else undefined. */
export function deploymentIdOf(upstreamModel: string): string | undefined {
  return upstreamModel.startsWith('deployment/') ? upstreamModel.slice('deployment/'.length) : undefined;
}
