/**
 * The engine shares a deployment's capacity between owners, not between batches: one owner with
 * many batches does not starve another with one. Turns go round the owners, then round each
 * owner's batches. Deterministic: the engine is driven one fill at a time (`runOnce`), and each
 * fill's lines are counted per owner from the items.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Principal } from '../../src/spec/principal.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, multipartBatchFile, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: fair-mock
    litellm_params:
      model: mock/fair
      batch_concurrency: 4
    model_info: { id: fair-mock }
`;

function ownerPrincipal(owner: string): Principal {
  return Object.freeze({ keyId: null, isMaster: false, owner, allowedModels: null, userId: null, teamId: null });
}

forEachDatabase('fair share across owners', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    // Lines per fill are counted: no lines leased ahead of free slots.
    h = await startEngineHarness(ctx.db, MODEL_LIST, { engine: { readyAhead: 0 } });
  });
  after(async () => h.close());

  test('an owner with one batch gets half the lines of each fill beside an owner with four', async () => {
    const create = async (owner: string, prefix: string) => {
      const principal = ownerPrincipal(owner);
      const file = await h.managed.files.upload(principal, ...multipartBatchFile(chatLines(8, 'fair-mock', { prefix })));
      return (await h.managed.batches.create(principal, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id;
    };
    // The busy owner's batches are the oldest: taking turns per batch would serve them first.
    const busy = [];
    for (let i = 0; i < 4; i += 1) busy.push(await create('user:busy', `busy-${i}`));
    const quiet = await create('user:quiet', 'quiet');
    const all = [...busy, quiet];
    await waitUntil(async () => {
      for (const id of all) if ((await h.managed.batchStore.getById(id))?.status !== 'in_progress') return false;
      return true;
    }, 20_000, 'every batch in progress');

    const done = async (ids: readonly string[]) => {
      let total = 0;
      for (const id of ids) total += (await h.items.countByState(id)).succeeded;
      return total;
    };
    const perFill: Array<[number, number]> = [];
    for (let fill = 0; fill < 4; fill += 1) {
      const [busyBefore, quietBefore] = [await done(busy), await done([quiet])];
      await h.engine.runOnce();
      perFill.push([(await done(busy)) - busyBefore, (await done([quiet])) - quietBefore]);
    }
    // Four slots per fill, two owners: two lines each, every time, until the quiet owner is done.
    assert.deepEqual(perFill, [[2, 2], [2, 2], [2, 2], [2, 2]]);
    assert.equal(await done([quiet]), 8);
    // Within the busy owner, its batches take turns: no batch of it got everything.
    for (const id of busy) assert.ok((await h.items.countByState(id)).succeeded <= 4, `batch ${id} ran more than its turn`);
  });
});
