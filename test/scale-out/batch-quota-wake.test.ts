/**
 * Issue 12, enqueued-token quotas across instances: a batch waiting for its deployment's
 * `batch_max_enqueued_tokens` starts as soon as a batch holding the quota ends on another
 * instance, told through Redis pub/sub, not at the quota starter's next poll. Two instances on
 * one PostgreSQL and one Redis; the poll interval outlives the test, and the instance where the
 * holder ends has its quota starter stopped, so only the other instance, woken by the notice,
 * can start the waiting batch.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toFile } from 'openai';
import { eventually } from '../helpers/budget-assertions.ts';
import type { PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { useInstancesSharingPostgresAndRedis } from './shared-instances.ts';

const MASTER_KEY = 'sk-quota-wake-master-0123456789';

const config = (simulator: OpenAISimulator) => `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, batch_max_enqueued_tokens: 300 }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files: { blob_store: database }
  batch: { poll_interval_ms: 3600000, refresh_after_seconds: 0, quota_exceeded: wait }
`;

describe('a batch waiting for quota on one instance starts when another instance releases the quota (PostgreSQL + Redis)', () => {
  const shared = useInstancesSharingPostgresAndRedis('quota-wake', 2, config);
  const { instances } = shared;

  test('cancelling the holder on instance A starts the waiting batch on instance B, woken through Redis', async () => {
    const [a, b] = instances;
    const client = a.client();
    // ~208 estimated tokens: one batch fits the quota of 300, two do not.
    const line = { custom_id: 'r0', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(800) }] } };
    const file = await client.files.create({ file: await toFile(Buffer.from(JSON.stringify(line)), 'in.jsonl'), purpose: 'batch' });
    const create = () => client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const upstreamBefore = shared.simulator().batches.size;
    const holder = await create();
    const waiting = await create();
    assert.equal(shared.simulator().batches.size, upstreamBefore + 1, 'the second batch waits');

    // Only B may start it now: A's starter is stopped, and B's next poll is an hour away.
    await a.jobs.quotaStarter.stop();
    await client.batches.cancel(holder.id);
    await eventually('the holder is cancelled', async () => {
      await shared.simulator().advanceBatches();
      return (await client.batches.retrieve(holder.id)).status === 'cancelled';
    });
    await eventually('the waiting batch started upstream', async () => shared.simulator().batches.size === upstreamBefore + 2);
    // The upstream create answers before the starter stores its id: wait for the stored row too.
    const storedRow = () => b.services.database.kysely.selectFrom('batches').select(['provider_batch_id', 'waiting_for_quota']).where('id', '=', waiting.id).executeTakeFirstOrThrow();
    await eventually('the started batch is stored with its upstream id', async () => (await storedRow()).provider_batch_id !== null);
    const startedBy = (portico: PorticoUnderTest) => portico.logs.some((entry) => entry.batch_id === waiting.id && /waited for its deployment's enqueued-token quota/.test(String(entry.msg)));
    assert.deepEqual([startedBy(a), startedBy(b)], [false, true], 'instance B started it');
    assert.equal(Number((await storedRow()).waiting_for_quota), 0);
  });
});
