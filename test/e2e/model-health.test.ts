/**
 * LiteLLM's `GET /health` (master key): a real call to each deployment, by its `model_info.mode`,
 * answered as healthy and unhealthy endpoint lists without secrets; `?model=` narrows to one group.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const UPSTREAM_KEY = 'sk-health-upstream-secret-0123456789';

/** A port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Endpoint {
  model: string;
  model_name: string;
  model_id: string;
  error?: string;
}
interface Health {
  healthy_endpoints: Endpoint[];
  unhealthy_endpoints: Endpoint[];
  healthy_count: number;
  unhealthy_count: number;
}

describe('GET /health: a real call to each deployment', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    const port = await closedPort();
    portico = await startPortico(`
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat }
    model_info: { id: chat-1 }
  - model_name: embed
    litellm_params: { model: mock/embed }
    model_info: { id: embed-1, mode: embedding }
  - model_name: instruct
    litellm_params: { model: mock/instruct }
    model_info: { id: instruct-1, mode: completion }
  - model_name: down
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:${port}/v1
      api_key: ${UPSTREAM_KEY}
      timeout: 5
      max_retries: 0
    model_info: { id: down-1 }
general_settings:
  master_key: sk-health-master-0123456789
`);
  });
  after(async () => portico?.close());

  it('lists every deployment as healthy or unhealthy with the reason, and no secret', async () => {
    const response = await portico.fetch('/health');
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.ok(!text.includes(UPSTREAM_KEY), 'no upstream key in the answer');
    const health = JSON.parse(text) as Health;
    assert.deepEqual(health.healthy_endpoints.map((endpoint) => endpoint.model_id).sort(), ['chat-1', 'embed-1']);
    assert.deepEqual(health.unhealthy_endpoints.map((endpoint) => endpoint.model_id).sort(), ['down-1', 'instruct-1']);
    assert.equal(health.healthy_count, 2);
    assert.equal(health.unhealthy_count, 2);
    const down = health.unhealthy_endpoints.find((endpoint) => endpoint.model_id === 'down-1')!;
    assert.equal(down.model, 'openai/gpt-4o-mini');
    assert.equal(down.model_name, 'down');
    assert.ok((down.error ?? '').length > 0);
    assert.match(health.unhealthy_endpoints.find((endpoint) => endpoint.model_id === 'instruct-1')!.error ?? '', /no completion API/);
  });

  it('checks one model group with ?model=, 404 for a group the config lacks, and only for the master key', async () => {
    const one = (await (await portico.fetch('/health?model=embed')).json()) as Health;
    assert.deepEqual(one.healthy_endpoints.map((endpoint) => endpoint.model_id), ['embed-1']);
    assert.equal(one.unhealthy_count, 0);
    assert.equal((await portico.fetch('/health?model=missing')).status, 404);
    const key = await portico.generateKey({});
    assert.equal((await portico.fetch('/health', { apiKey: key.key })).status, 403);
  });
});
