import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchItemResultText, BatchItemStore } from '../../../storage/batch-item-store.ts';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import type { EmulatedExecutorDeps } from './emulated.ts';
import { EmulatedExecutor } from './emulated.ts';
import { emulatedProgress, type ItemCounts } from './emulated-progress.ts';

const counts = (fields: Partial<ItemCounts>): ItemCounts => ({ pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0, ...fields });
const batch = { id: 'batch_x', status: 'finalizing', createdAt: 100, inProgressAt: 101, expiresAt: 100 + 86_400, finalizingAt: 150, cancellingAt: null } as BatchRecord;

/** An executor over items that record which files' lines were read. */
function executorReading(): { executor: EmulatedExecutor; reads: string[] } {
  const reads: string[] = [];
  const items = {
    async *iterateResultTexts(_batchId: string, options: { states?: readonly string[] } = {}): AsyncGenerator<BatchItemResultText> {
      reads.push((options.states ?? []).join(','));
      yield { lineIndex: 0, customId: 'a', state: 'succeeded', resultText: '{"id":"r","custom_id":"a","response":null,"error":null}', inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
    },
  } as unknown as BatchItemStore;
  return { executor: new EmulatedExecutor({ items } as unknown as EmulatedExecutorDeps), reads };
}

async function drain(lines: AsyncIterable<unknown> | null): Promise<number | null> {
  if (lines === null) return null;
  let count = 0;
  for await (const _ of lines) count++;
  return count;
}

describe('the result files of an emulated batch', () => {
  it('reads no items for a file that has no line: a batch whose every line succeeded has no error pass', async () => {
    const { executor, reads } = executorReading();
    const progress = emulatedProgress({ batch, counts: counts({ succeeded: 3 }), cancelRequested: false, loaded: true }, 200);
    const results = await executor.results(batch, progress, {});
    assert.equal(await drain(results.error), null);
    assert.equal(await drain(results.output), 1);
    assert.deepEqual(reads, ['succeeded']);
  });

  it('reads only the error pass when no line succeeded, and both when both have lines', async () => {
    const failedOnly = executorReading();
    const allFailed = emulatedProgress({ batch, counts: counts({ failed: 2, cancelled: 1 }), cancelRequested: false, loaded: true }, 200);
    const results = await failedOnly.executor.results(batch, allFailed, {});
    assert.equal(results.output, null);
    await drain(results.error);
    assert.deepEqual(failedOnly.reads, ['failed,cancelled,expired']);

    const mixed = executorReading();
    const both = await mixed.executor.results(batch, emulatedProgress({ batch, counts: counts({ succeeded: 1, expired: 1 }), cancelRequested: false, loaded: true }, 200), {});
    await drain(both.output);
    await drain(both.error);
    assert.deepEqual(mixed.reads, ['succeeded', 'failed,cancelled,expired']);
  });
});
