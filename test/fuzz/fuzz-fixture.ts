/**
 * The Portico the fuzz suite attacks: a real instance in-process (`test/helpers/portico.ts`) on a
 * fresh database, with healthy upstreams only: the built-in mock (emulated batches), the OpenAI
 * simulator (native Files and Batches) and the Anthropic simulator (translated chat, Message
 * Batches). Small file limits, so the limit paths are reached
 * with small bodies. Four virtual keys besides the master: an owner, a key restricted to one
 * model, a key with a tiny rpm limit, and a key of another owner (a team); and a few files and a
 * batch to point ids at.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFile } from 'openai';
import type { SqlDialectName } from '../../src/storage/database.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import type { LiveWorld } from './render-case.ts';
import type { CaseWorld } from './request-arbitraries.ts';

const MASTER_KEY = 'sk-fuzz-master-key-0123456789';

export const FUZZ_WORLD: CaseWorld = {
  models: { chat: ['mock-chat', 'sim-chat', 'claude'], embeddings: ['mock-embed'] },
  groups: ['mock-chat', 'sim-chat', 'claude', 'mock-embed'],
};

export interface FuzzFixture {
  portico: PorticoUnderTest;
  port: number;
  world: LiveWorld;
  close(): Promise<void>;
}

function config(simulator: OpenAISimulator, anthropic: AnthropicSimulator, storageDir: string, blobStore: 'directory' | 'database'): string {
  return `
model_list:
  - model_name: mock-chat
    litellm_params: { model: mock/fuzz-chat }
  - model_name: mock-embed
    litellm_params: { model: mock/fuzz-embed, mock_embedding_dimensions: 8 }
  - model_name: sim-chat
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${simulator.url}
      api_key: os.environ/FUZZ_OPENAI_KEY
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: ${anthropic.url}
      api_key: os.environ/FUZZ_ANTHROPIC_KEY
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
  timeout: 30
portico_settings:
  files:
    blob_store: ${blobStore}
    storage_dir: ${storageDir}
    max_file_bytes: 8388608
    max_batch_file_bytes: 2097152
    max_batch_file_lines: 50
  batch:
    poll_interval_ms: 500
`;
}

export async function startFuzzFixture(dialect: SqlDialectName): Promise<FuzzFixture> {
  const simulator = await startOpenAISimulator();
  const anthropic = await startAnthropicSimulator();
  const storageDir = await mkdtemp(join(tmpdir(), 'portico-fuzz-'));
  let portico: PorticoUnderTest | undefined;
  try {
    portico = await startPortico(config(simulator, anthropic, storageDir, dialect === 'postgres' ? 'database' : 'directory'), {
      dialect,
      env: { ...process.env, FUZZ_OPENAI_KEY: OPENAI_SIMULATOR_API_KEY, FUZZ_ANTHROPIC_KEY: ANTHROPIC_SIMULATOR_API_KEY },
      logLevel: 'warn',
    });
    const mint = async (body: Record<string, unknown>) => (await portico!.generateKey(body)).key;
    const keys = {
      master: MASTER_KEY,
      owner: await mint({ user_id: 'fuzz-user' }),
      restricted: await mint({ user_id: 'fuzz-user', models: ['mock-chat'] }),
      limited: await mint({ user_id: 'fuzz-user', rpm_limit: 3 }),
      'other-owner': await mint({ team_id: 'fuzz-team' }),
    };
    const world: LiveWorld = { keys, files: [], batches: [], mintedKeys: [], mintedTokens: [] };
    const owner = portico.client(keys.owner);
    const line = (i: number) => JSON.stringify({ custom_id: `seed-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'mock-chat', messages: [{ role: 'user', content: `seed ${i}` }] } });
    const batchFile = await owner.files.create({ file: await toFile(Buffer.from(`${line(1)}\n${line(2)}\n`), 'seed.jsonl'), purpose: 'batch' });
    const textFile = await portico.client(keys['other-owner']).files.create({ file: await toFile(Buffer.from('notes'), 'notes.txt'), purpose: 'user_data' });
    const batch = await owner.batches.create({ input_file_id: batchFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    world.files.push(batchFile.id, textFile.id);
    world.batches.push(batch.id);
    const started = portico;
    return {
      portico: started,
      port: Number(new URL(started.url).port),
      world,
      async close() {
        try {
          await started.close();
        } finally {
          await Promise.all([simulator.close(), anthropic.close()]);
          await rm(storageDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await portico?.close().catch(() => undefined);
    await Promise.all([simulator.close(), anthropic.close()]);
    await rm(storageDir, { recursive: true, force: true });
    throw error;
  }
}
