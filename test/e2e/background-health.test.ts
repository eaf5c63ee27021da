/**
 * LiteLLM's `general_settings.background_health_checks` with `health_check_interval`: every
 * deployment is checked on a timer without anyone asking; `GET /health` answers the latest run's
 * results without calling the deployments again (the first answer waits for the first run), while
 * `?model=` still checks that group now. Against the OpenAI simulator.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from '../helpers/budget-assertions.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-background-health-master-0123';

interface Health {
  healthy_count: number;
  unhealthy_count: number;
  healthy_endpoints: Array<{ model_id: string }>;
}

let simulator: OpenAISimulator;
before(async () => {
  simulator = await startOpenAISimulator();
});
after(() => simulator?.close());

function config(intervalSeconds: number): string {
  return `
model_list:
  - model_name: chat
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY} }
    model_info: { id: chat-1 }
general_settings:
  master_key: ${MASTER_KEY}
  background_health_checks: true
  health_check_interval: ${intervalSeconds}
`;
}

const chatCalls = () => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

test('the deployments are checked on the timer, with no one asking', async () => {
  const seen = chatCalls();
  const portico: PorticoUnderTest = await startPortico(config(0.2));
  try {
    await eventually('three background checks of the deployment', async () => chatCalls() - seen >= 3, 50);
  } finally {
    await portico.close();
  }
});

test("/health answers the latest run's results without calling the deployments; ?model= checks now", async () => {
  const portico: PorticoUnderTest = await startPortico(config(3600));
  try {
    const first = (await (await portico.fetch('/health')).json()) as Health;
    assert.equal(first.healthy_count, 1);
    assert.deepEqual(first.healthy_endpoints.map((endpoint) => endpoint.model_id), ['chat-1']);
    const seen = chatCalls();
    const again = (await (await portico.fetch('/health')).json()) as Health;
    assert.deepEqual(again, first);
    assert.equal(chatCalls(), seen, 'served from the latest run');
    const one = (await (await portico.fetch('/health?model=chat')).json()) as Health;
    assert.equal(one.healthy_count, 1);
    assert.equal(chatCalls(), seen + 1, 'one group is checked now');
  } finally {
    await portico.close();
  }
});
