/**
 * LiteLLM's `store_model_in_db`: models added, changed and deleted through `/model/new`,
 * `/model/update` (`PATCH /model/{id}/update`) and `/model/delete` are served at once by the
 * instance that changed them, by the others on the same database (through Redis at once, else by
 * their poll), and again after a restart; their provider keys are encrypted in the database and
 * masked in every answer. What the config file would refuse, the API refuses in the same words.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { TEST_REDIS_URL, deleteRedisKeys, uniqueRedisPrefix } from '../scale-out/redis-helpers.ts';

const MASTER = 'sk-stored-models-master-0123';
const CONFIG = `
model_list:
  - {model_name: from-file, litellm_params: {model: mock/from-file}, model_info: {id: file-model}}
general_settings:
  master_key: ${MASTER}
  store_model_in_db: true
router_settings:
  num_retries: 0
portico_settings:
  stored_models_poll_seconds: 0.1
`;
const PROVIDER_KEY = 'sk-provider-secret-stored-9876';

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const serves = async (portico: PorticoUnderTest, model: string) => {
  try {
    return (await portico.client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })).choices.length === 1;
  } catch (error) {
    if (error instanceof OpenAI.NotFoundError) return false;
    throw error;
  }
};

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`models stored in the database [${dialect}]`, () => {
    let first: PorticoUnderTest;
    let second: PorticoUnderTest;
    before(async () => {
      first = await startPortico(CONFIG, { dialect });
      second = await startPortico(CONFIG, { databaseUrl: first.databaseUrl });
    });
    after(async () => {
      await second?.close();
      await first?.close();
    });

    it('a model added on one instance is served by it at once, by the other within its poll, and listed with db_model: true', async () => {
      const created = await first.fetch('/model/new', json({ model_name: 'added', litellm_params: { model: 'mock/added', api_key: PROVIDER_KEY, rpm: 100, input_cost_per_token: 0.000001, aws_access_key_id: 'AKIAEXAMPLE', api_key_header: 'x-key' }, model_info: { mode: 'chat' } }));
      assert.equal(created.status, 200, await created.clone().text());
      const body = (await created.json()) as { model_id: string; model_name: string; litellm_params: Record<string, unknown>; model_info: Record<string, unknown> };
      assert.equal(body.model_name, 'added');
      assert.match(body.model_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(
        body.litellm_params,
        { model: 'mock/added', api_key: '********', rpm: 100, input_cost_per_token: 0.000001, aws_access_key_id: '********', api_key_header: 'x-key' },
        'the secrets are masked, a price and a header name are not',
      );
      assert.deepEqual(body.model_info, { mode: 'chat', id: body.model_id, db_model: true });
      assert.equal(await serves(first, 'added'), true, 'at once where it was added');
      await eventually(() => serves(second, 'added'), 'the other instance serves it');
      for (const portico of [first, second]) {
        const models = (await (await portico.fetch('/v1/models')).json()) as { data: Array<{ id: string }> };
        assert.deepEqual(models.data.map((model) => model.id), ['from-file', 'added']);
        const info = (await (await portico.fetch('/model/info')).json()) as { data: Array<{ model_name: string; model_info: { id: string; db_model: boolean } }> };
        assert.deepEqual(info.data.map((model) => [model.model_name, model.model_info.db_model]), [['from-file', false], ['added', true]]);
      }
      // Encrypted at rest: neither the key nor the params in clear.
      const row = await first.services.database.kysely.selectFrom('stored_models').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.model_name, 'added');
      assert.ok(!row.litellm_params.includes(PROVIDER_KEY) && !row.litellm_params.includes('mock/added'), row.litellm_params);
      // The key is redacted from upstream text as the config's keys are.
      assert.equal(first.services.router.redact(`upstream said: bad key ${PROVIDER_KEY}`).includes(PROVIDER_KEY), false);
    });

    it('an update renames and merges params on every instance; a delete stops it everywhere; a restart loads what is stored', async () => {
      const info = (await (await first.fetch('/model/info')).json()) as { data: Array<{ model_name: string; model_info: { id: string } }> };
      const id = info.data.find((model) => model.model_name === 'added')!.model_info.id;
      // The key sent back masked, as an answer showed it: the stored key stays.
      const patched = await first.fetch(`/model/${id}/update`, { ...json({ model_name: 'renamed', litellm_params: { rpm: 5, api_key: '********' } }), method: 'PATCH' });
      assert.equal(patched.status, 200, await patched.clone().text());
      const view = (await patched.json()) as { litellm_params: Record<string, unknown> };
      assert.deepEqual(view.litellm_params, { model: 'mock/added', api_key: '********', rpm: 5, input_cost_per_token: 0.000001, aws_access_key_id: '********', api_key_header: 'x-key' }, 'params merged, the key kept');
      assert.equal(await serves(first, 'renamed'), true);
      assert.equal(await serves(first, 'added'), false);
      await eventually(async () => (await serves(second, 'renamed')) && !(await serves(second, 'added')), 'the other instance follows the rename');
      assert.equal(first.services.router.deploymentsOf('renamed')[0].rpm, 5);
      assert.equal(first.services.router.deploymentsOf('renamed')[0].apiKey, PROVIDER_KEY, 'the masked key meant: unchanged');

      // The older form: the id in model_info.
      const posted = await second.fetch('/model/update', json({ model_info: { id, description: 'kept' }, litellm_params: { rpm: 7 } }));
      assert.equal(posted.status, 200, await posted.clone().text());
      await eventually(async () => first.services.router.deploymentsOf('renamed')[0]?.rpm === 7, 'the first instance reads the update');

      const restarted = await startPortico(CONFIG, { databaseUrl: first.databaseUrl });
      try {
        assert.equal(await serves(restarted, 'renamed'), true, 'loaded at start');
      } finally {
        await restarted.close();
      }

      const deleted = await second.fetch('/model/delete', json({ id }));
      assert.equal(deleted.status, 200);
      assert.deepEqual(await deleted.json(), { message: `Model: ${id} deleted successfully` });
      assert.equal(await serves(second, 'renamed'), false);
      await eventually(async () => !(await serves(first, 'renamed')), 'the first instance stops serving it');
      assert.equal((await second.fetch('/model/delete', json({ id }))).status, 404);
    });

    it("a stored model's rpm is enforced as a config model's is", async () => {
      const created = await first.fetch('/model/new', json({ model_name: 'limited', litellm_params: { model: 'mock/limited', rpm: 1 } }));
      assert.equal(created.status, 200);
      assert.equal(await serves(first, 'limited'), true);
      const second429 = await first.client().chat.completions.create({ model: 'limited', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
      assert.ok(second429 instanceof OpenAI.RateLimitError, String(second429));
      const { model_id: id } = (await created.json()) as { model_id: string };
      assert.equal((await first.fetch('/model/delete', json({ id }))).status, 200);
    });

    it('refuses what the config file would refuse, a config model, an unknown id, and anyone but the master key', async () => {
      const bad = await first.fetch('/model/new', json({ model_name: 'x', litellm_params: { model: 'sagemaker/some-endpoint' } }));
      assert.equal(bad.status, 400);
      const error = ((await bad.json()) as { error: { message: string; code: string } }).error;
      assert.equal(error.code, 'invalid_model');
      assert.match(error.message, /^litellm_params\.model: provider "sagemaker" is not supported by Portico \(supported: /);
      const badValue = await first.fetch('/model/new', json({ model_name: 'x', litellm_params: { model: 'mock/x', rpm: 'lots' } }));
      assert.equal(badValue.status, 400);
      assert.match(((await badValue.json()) as { error: { message: string } }).error.message, /^litellm_params\.rpm: /);
      assert.equal((await first.fetch('/model/new', json({ model_name: 'x', litellm_params: {} }))).status, 400);
      assert.equal((await first.fetch('/model/new', json({ model_name: 'x', litellm_params: { model: 'mock/x' }, model_info: { id: 'file-model' } }))).status, 409, 'an id in use');
      for (const id of ['a~b', 'has space', '../x', 'x'.repeat(129), 42]) {
        assert.equal((await first.fetch('/model/new', json({ model_name: 'x', litellm_params: { model: 'mock/x' }, model_info: { id } }))).status, 400, `id ${String(id).slice(0, 20)}`);
      }
      const inFile = await first.fetch('/model/delete', json({ id: 'file-model' }));
      assert.equal(inFile.status, 400);
      assert.equal(((await inFile.json()) as { error: { code: string } }).error.code, 'model_in_config_file');
      assert.equal((await first.fetch('/model/delete', json({ id: 'no-such-model' }))).status, 404);
      const key = await first.generateKey({});
      assert.equal((await first.fetch('/model/new', { ...json({ model_name: 'x', litellm_params: { model: 'mock/x' } }), apiKey: key.key })).status, 403);
      assert.equal((await first.fetch('/model/new', { ...json({ model_name: 'x', litellm_params: { model: 'mock/x' } }), apiKey: null })).status, 401);
      assert.equal(await serves(first, 'x'), false, 'nothing was added');
    });

    it('models stored under another master key (and no LITELLM_SALT_KEY) are not served, and the log names them', async () => {
      const created = await first.fetch('/model/new', json({ model_name: 'sealed', litellm_params: { model: 'mock/sealed' } }));
      assert.equal(created.status, 200);
      const other = await startPortico(CONFIG.replace(MASTER, 'sk-another-master-key-4567'), { databaseUrl: first.databaseUrl });
      try {
        assert.equal(await serves(other, 'sealed'), false);
        assert.ok(other.logs.some((line) => String(line.msg).includes('cannot be decrypted') && line.model_name === 'sealed'), 'named in the log');
        assert.equal(await serves(other, 'from-file'), true, 'the config models are served');
      } finally {
        await other.close();
      }
    });
  });
}

describe('models stored in the database, with Redis', () => {
  it('the other instance serves an added model as soon as Redis tells it, long before its poll', async () => {
    const prefix = uniqueRedisPrefix();
    const slowPoll = CONFIG.replace('stored_models_poll_seconds: 0.1', 'stored_models_poll_seconds: 600');
    const one = await startPortico(slowPoll, { dialect: 'postgres', redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
    const two = await startPortico(slowPoll, { databaseUrl: one.databaseUrl, redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
    try {
      assert.equal(await serves(two, 'told'), false);
      const created = await one.fetch('/model/new', json({ model_name: 'told', litellm_params: { model: 'mock/told' } }));
      assert.equal(created.status, 200);
      await eventually(() => serves(two, 'told'), 'the other instance serves it', 3_000);
    } finally {
      await two.close();
      await one.close();
      await deleteRedisKeys(prefix);
    }
  });
});

describe('without store_model_in_db', () => {
  it('the model management API says how to turn it on; with it on but no master key or salt key, it says that', async () => {
    const portico = await startPortico(`model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\ngeneral_settings:\n  master_key: ${MASTER}\n`);
    try {
      const refused = await portico.fetch('/model/new', json({ model_name: 'x', litellm_params: { model: 'mock/x' } }));
      assert.equal(refused.status, 400);
      const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'store_model_in_db_disabled');
      assert.match(error.message, /store_model_in_db: true/);
    } finally {
      await portico.close();
    }
    const open = await startPortico('model_list:\n  - {model_name: a, litellm_params: {model: mock/a}}\ngeneral_settings:\n  store_model_in_db: true\n', { env: {} });
    try {
      assert.equal(await serves(open, 'a'), true, 'the config models are served');
      const refused = await open.fetch('/model/new', json({ model_name: 'x', litellm_params: { model: 'mock/x' } }));
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /store_model_in_db is on, but there is no master key or LITELLM_SALT_KEY/);
      assert.ok(open.logs.some((line) => line.level === 'warn' && String(line.msg).includes('store_model_in_db: there is no master key')), 'warned at start');
    } finally {
      await open.close();
    }
  });
});
