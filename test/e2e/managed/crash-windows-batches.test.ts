/**
 * Issue 9, defect 8: crash windows in batch creation and finalisation. A Portico killed right
 * after its provider created a batch leaves a batch that is tracked and adopted (it was created
 * untracked: it ran, billed to nobody); one killed before the provider create leaves a batch
 * failed cleanly; a create that times out is not sent twice (the router retried it, starting two
 * provider batches for one request); result blobs written before a crash in finalisation are
 * swept. Crashes are real (a Portico process killed with SIGKILL at the step), on SQLite and
 * PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createFileJanitor } from '../../../src/jobs/file-janitor.ts';
import type { Database } from '../../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { spawnPortico } from '../../scale-out/portico-process.ts';
import { AZURE_SIMULATOR_API_KEY } from '../../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY } from '../../simulators/openai-simulator.ts';
import { MANAGED_ENV, MASTER_KEY, chatLines, reconcileIntentsOf, managedConfig, readContent, runToEnd, startManagedUpstreams, uploadBatchFile, type ManagedUpstreams } from './managed-fixtures.ts';

/** A group on the OpenAI simulator whose calls time out after 1 s (and are retried twice). */
const SHORT_TIMEOUT_GROUP = 'gpt-4o-mini-short';

function withShortTimeoutGroup(yaml: string, upstreams: ManagedUpstreams): string {
  return yaml.replace(
    'general_settings:',
    `  - model_name: ${SHORT_TIMEOUT_GROUP}
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstreams.openai.url}
      api_key: os.environ/MANAGED_OPENAI_KEY
      timeout: 1
      max_retries: 2
    model_info: { id: openai-short }
general_settings:`,
  );
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The creating instance is dead: its leases on intents and uploads are over (instead of waiting 15-30 s). */
async function leasesRunOut(db: Database): Promise<void> {
  await db.kysely.updateTable('batches').set({ lease_expires_at: 0 }).where('creating', '=', 1).execute();
  await db.kysely.updateTable('file_copies').set({ lease_expires_at: 0 }).where('state', '=', 'uploading').execute();
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`crash windows in batch creation and finalisation (${dialect})`, () => {
    let upstreams: ManagedUpstreams;
    let database: TestDatabase;
    let dir: string;
    let configPath: string;
    let yaml: string;

    before(async () => {
      upstreams = await startManagedUpstreams();
      database = await createTestDatabase(dialect);
      dir = await mkdtemp(join(tmpdir(), 'portico-crash-'));
      yaml = withShortTimeoutGroup(await managedConfig(upstreams, join(dir, 'files'), undefined, dialect === 'postgres' ? 'database' : 'directory'), upstreams);
      configPath = join(dir, 'config.yaml');
      await writeFile(configPath, yaml);
    });
    after(async () => {
      await upstreams?.close();
      await database?.dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /**
     * Starts a Portico process, uploads a batch file through it, starts a batch create, and kills
     * the process (SIGKILL) as soon as the simulator received the request matching `killAt`,
     * which the simulator holds for 1.5 s (then handles anyway). Answers the file id.
     */
    async function createAndKill(killAt: { method: string; path: RegExp }): Promise<string> {
      const doomed = await spawnPortico({
        configPath,
        env: { DATABASE_URL: database.url, MANAGED_OPENAI_KEY: OPENAI_SIMULATOR_API_KEY, MANAGED_AZURE_KEY: AZURE_SIMULATOR_API_KEY },
        masterKey: MASTER_KEY,
        name: 'doomed',
      });
      try {
        const file = await uploadBatchFile(doomed.client(), chatLines('gpt-4o-mini', { count: 2 }));
        const seen = upstreams.openai.requests.length;
        upstreams.openai.slowNext({ ms: 1_500, match: killAt });
        doomed.client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch(() => undefined);
        await until(() => upstreams.openai.requests.slice(seen).some((r) => r.method === killAt.method && killAt.path.test(r.path)), 'the step is reached');
        await doomed.kill();
        return file.id;
      } finally {
        await doomed.kill();
      }
    }

    test('a Portico killed right after its provider created a batch leaves a tracked batch, which is adopted and runs to its end', async () => {
      const providerBatches = new Set(upstreams.openai.batches.keys());
      const fileId = await createAndKill({ method: 'POST', path: /^\/v1\/batches$/ });
      // The simulator still creates the batch the dead instance asked for.
      await until(() => upstreams.openai.batches.size === providerBatches.size + 1, 'the provider created the batch');
      const providerBatch = [...upstreams.openai.batches.values()].find((b) => !providerBatches.has(b.id))!;

      const survivor = await startPortico(yaml, { databaseUrl: database.url, env: MANAGED_ENV });
      try {
        const client = survivor.client();
        const rows = await survivor.services.database.kysely.selectFrom('batches').select('id').where('input_file_id', '=', fileId).execute();
        assert.equal(rows.length, 1, 'the batch was recorded before its provider was asked to create it');
        await leasesRunOut(survivor.services.database);
        await reconcileIntentsOf(survivor, fileId);
        const listed = (await client.batches.list()).data.filter((b) => b.input_file_id === fileId);
        assert.equal(listed.length, 1, 'the batch the provider runs is tracked by Portico');
        const stored = await survivor.services.managed!.batchStore.getById(listed[0].id);
        assert.equal(stored?.providerBatchId, providerBatch.id, 'it is the provider batch that was created');
        assert.equal(providerBatch.metadata?.portico_batch_id, listed[0].id, "the provider batch carries Portico's id as its marker");
        const done = await runToEnd(client, upstreams, listed[0].id);
        assert.equal(done.status, 'completed');
        assert.equal((await readContent(client, done.output_file_id!)).trim().split('\n').length, 2);
        assert.equal(upstreams.openai.batches.size, providerBatches.size + 1, 'nothing was created twice');
      } finally {
        await survivor.close();
      }
    });

    test('a Portico killed before its provider created the batch leaves a batch that is failed cleanly, nothing started', async () => {
      const providerBatches = upstreams.openai.batches.size;
      const fileId = await createAndKill({ method: 'POST', path: /^\/v1\/files$/ });
      const survivor = await startPortico(yaml, { databaseUrl: database.url, env: MANAGED_ENV });
      try {
        const client = survivor.client();
        await leasesRunOut(survivor.services.database);
        await reconcileIntentsOf(survivor, fileId);
        const listed = (await client.batches.list()).data.filter((b) => b.input_file_id === fileId);
        assert.equal(listed.length, 1);
        assert.equal(listed[0].status, 'failed');
        assert.equal(listed[0].errors?.data?.[0]?.code, 'batch_not_started');
        assert.equal(upstreams.openai.batches.size, providerBatches, 'no provider batch was started');
        // The file stays usable: a new create runs.
        const again = await client.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' }, { timeout: 10_000 });
        assert.equal((await runToEnd(client, upstreams, again.id)).status, 'completed');
      } finally {
        await survivor.close();
      }
    });

    test('a create whose answer was lost is not sent again: the provider batch it started is found by its marker and answered', async () => {
      const portico = await startPortico(yaml, { databaseUrl: database.url, env: MANAGED_ENV });
      try {
        const client = portico.client();
        const file = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 2 }));
        const providerBatches = new Set(upstreams.openai.batches.keys());
        // The provider creates the batch, then its answer is lost (a 502 from a proxy in front).
        upstreams.openai.failNext({ status: 502, afterHandling: true, match: { method: 'POST', path: /^\/v1\/batches$/ } });
        const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const created = [...upstreams.openai.batches.values()].filter((b) => !providerBatches.has(b.id));
        assert.equal(created.length, 1, 'one request started one provider batch (the create was not retried blindly)');
        assert.equal((await portico.services.managed!.batchStore.getById(batch.id))?.providerBatchId, created[0].id, 'the batch answered is the one the provider started');
        assert.equal((await runToEnd(client, upstreams, batch.id)).status, 'completed');
      } finally {
        await portico.close();
      }
    });

    test('a create that times out is not sent again: one request starts at most one provider batch, which is adopted', async () => {
      const portico = await startPortico(yaml, { databaseUrl: database.url, env: MANAGED_ENV });
      try {
        const client = portico.client();
        const file = await uploadBatchFile(client, chatLines(SHORT_TIMEOUT_GROUP, { count: 2 }));
        const providerBatches = new Set(upstreams.openai.batches.keys());
        // Answered after the deployment's 1 s timeout, but created all the same.
        upstreams.openai.slowNext({ ms: 1_500, match: { method: 'POST', path: /^\/v1\/batches$/ } });
        await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), (error: unknown) => {
          assert.ok(error instanceof OpenAI.APIError, String(error));
          assert.equal(error.status, 503);
          assert.equal(error.code, 'batch_start_unconfirmed');
          return true;
        });
        await until(() => upstreams.openai.batches.size > providerBatches.size, 'the slow create landed');
        await new Promise((resolve) => setTimeout(resolve, 500));
        const created = [...upstreams.openai.batches.values()].filter((b) => !providerBatches.has(b.id));
        assert.equal(created.length, 1, 'the timed-out create was not sent twice');

        await leasesRunOut(portico.services.database);
        await reconcileIntentsOf(portico, file.id);
        const listed = (await client.batches.list()).data.filter((b) => b.input_file_id === file.id);
        assert.equal(listed.length, 1, 'the batch that did start is adopted');
        assert.equal((await portico.services.managed!.batchStore.getById(listed[0].id))?.providerBatchId, created[0].id);
      } finally {
        await portico.close();
      }
    });

    test('result blobs written before a crash in finalisation are swept; registered ones stay', async () => {
      const portico = await startPortico(yaml, { databaseUrl: database.url, env: MANAGED_ENV });
      try {
        const client = portico.client();
        const managed = portico.services.managed!;
        const file = await uploadBatchFile(client, chatLines('gpt-4o-mini', { count: 2, text: (i) => (i === 0 ? 'FAIL' : `question ${i}`) }));
        const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        // The first finalisation dies after writing its result blobs, before registering them.
        const register = managed.batchStore.registerResultFiles.bind(managed.batchStore);
        let crashes = 1;
        managed.batchStore.registerResultFiles = async (...args) => {
          if (crashes-- > 0) throw new Error('crashed before registering the result files');
          return register(...args);
        };
        const done = await runToEnd(client, upstreams, batch.id, 16);
        assert.equal(done.status, 'completed');
        assert.equal(crashes, -1, 'the finalisation crashed once, then succeeded');
        const orphansBefore = await unreferencedBlobs(portico);
        assert.ok(orphansBefore.length >= 2, `the crashed finalisation left its output and error blobs (${orphansBefore.length})`);

        const janitor = createFileJanitor(managed.deletion, portico.services.logger, 60_000, { orphanedBlobSeconds: 0 });
        await janitor.runOnce();
        assert.deepEqual(await unreferencedBlobs(portico), [], 'no blob is left that no file references');
        assert.equal((await readContent(client, done.output_file_id!)).trim().split('\n').length, 1);
        assert.equal((await readContent(client, done.error_file_id!)).trim().split('\n').length, 1);
        assert.equal((await readContent(client, file.id)).trim().split('\n').length, 2, 'the input file is untouched');
      } finally {
        await portico.close();
      }
    });

    /** Blob keys in the store that no file row references (read from the store itself). */
    async function unreferencedBlobs(portico: PorticoUnderTest): Promise<string[]> {
      const db = portico.services.database.kysely;
      const stored =
        dialect === 'postgres'
          ? (await db.selectFrom('blobs').select('key').where('completed_at', 'is not', null).execute()).map((row) => row.key)
          : (await readdir(portico.config.files.storageDir).catch(() => [] as string[])).filter((name) => /^blob_[0-9a-f]{32}$/.test(name));
      const referenced = new Set((await db.selectFrom('files').select('blob_key').execute()).map((row) => row.blob_key));
      return stored.filter((key) => !referenced.has(key));
    }
  });
}
