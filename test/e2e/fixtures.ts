/**
 * The upstream doubles and the config shared by the end-to-end suites: an OpenAI simulator and an
 * Azure OpenAI simulator, and a LiteLLM-format config routing one model group to each.
 */
import { AZURE_SIMULATOR_API_KEY, startAzureSimulator, type AzureSimulator } from '../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';

export const E2E_MASTER_KEY = 'sk-e2e-master-key-0123456789';
export const AZURE_DEPLOYMENT = 'gpt-4o-prod';

export interface Upstreams {
  openai: OpenAISimulator;
  azure: AzureSimulator;
  close(): Promise<void>;
}

export async function startUpstreams(azureDeployment = AZURE_DEPLOYMENT): Promise<Upstreams> {
  const openai = await startOpenAISimulator();
  const azure = await startAzureSimulator({ deployments: [azureDeployment] });
  return {
    openai,
    azure,
    close: async () => {
      await Promise.all([openai.close(), azure.close()]);
    },
  };
}

/** The upstream keys come through `os.environ/` references, as in a real deployment. */
export const E2E_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  E2E_OPENAI_API_KEY: OPENAI_SIMULATOR_API_KEY,
  E2E_AZURE_API_KEY: AZURE_SIMULATOR_API_KEY,
};

export function gatewayConfig(upstreams: Pick<Upstreams, 'openai' | 'azure'>, extraModels = ''): string {
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstreams.openai.url}
      api_key: os.environ/E2E_OPENAI_API_KEY
  - model_name: azure-gpt-4o
    litellm_params:
      model: azure/${AZURE_DEPLOYMENT}
      api_base: ${upstreams.azure.url}
      api_key: os.environ/E2E_AZURE_API_KEY
      api_version: "2024-10-21"
  - model_name: text-embedding-3-small
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: ${upstreams.openai.url}
      api_key: os.environ/E2E_OPENAI_API_KEY
${extraModels}
general_settings:
  master_key: ${E2E_MASTER_KEY}
router_settings:
  num_retries: 2
  timeout: 30
  allowed_fails: 1000
  cooldown_time: 1
`;
}

/** The OpenAI envelope, exactly: `{"error": {"message", "type", "param", "code"}}`. */
export function envelopeOf(body: unknown): { message: string; type: string; param: string | null; code: string | null } {
  if (typeof body !== 'object' || body === null || Object.keys(body).join() !== 'error') {
    throw new Error(`not an OpenAI error envelope: ${JSON.stringify(body)}`);
  }
  const error = (body as { error: Record<string, unknown> }).error;
  const keys = Object.keys(error).sort().join();
  if (keys !== 'code,message,param,type') throw new Error(`error envelope has keys ${keys}: ${JSON.stringify(body)}`);
  return error as { message: string; type: string; param: string | null; code: string | null };
}
