import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import { emulatedProgress, emulatedStatus, type ItemCounts } from './emulated-progress.ts';

const counts = (fields: Partial<ItemCounts>): ItemCounts => ({ pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0, ...fields });
const batch = (fields: Partial<BatchRecord> = {}): BatchRecord =>
  ({ id: 'batch_x', status: 'in_progress', createdAt: 100, inProgressAt: 101, expiresAt: 100 + 86_400, finalizingAt: null, cancellingAt: null, ...fields }) as BatchRecord;

describe('the state of an emulated batch', () => {
  it('walks validating -> in_progress -> finalizing -> completed as the items settle', () => {
    const status = (b: BatchRecord, c: ItemCounts, loaded = true) => emulatedStatus({ batch: b, counts: c, cancelRequested: false, loaded });
    assert.equal(status(batch({ status: 'validating' }), counts({}), false), 'validating');
    assert.equal(status(batch({ status: 'validating' }), counts({ pending: 3 })), 'in_progress');
    assert.equal(status(batch(), counts({ running: 1, succeeded: 2 })), 'in_progress');
    assert.equal(status(batch(), counts({ succeeded: 2, failed: 1 })), 'finalizing');
    assert.equal(status(batch({ status: 'finalizing' }), counts({ succeeded: 2, failed: 1 })), 'completed');
    assert.equal(status(batch(), counts({ succeeded: 2, expired: 1 })), 'expired');
  });

  it('a batch whose lines are still loading is in_progress (cancelling) with the file\'s total, even with every loaded line done', () => {
    const situation = (c: ItemCounts, cancelRequested = false) => ({ batch: batch(), counts: c, cancelRequested, loaded: true, loadingTotal: 500 });
    assert.equal(emulatedStatus(situation(counts({ succeeded: 100 }))), 'in_progress');
    assert.equal(emulatedStatus(situation(counts({ succeeded: 40, cancelled: 60 }), true)), 'cancelling');
    assert.deepEqual(emulatedProgress(situation(counts({ succeeded: 100 })), 200).requestCounts, { total: 500, completed: 100, failed: 0 });
    assert.equal(emulatedStatus({ ...situation(counts({ succeeded: 500 })), loadingTotal: undefined }), 'finalizing');
  });

  it('a cancel stays cancelling while lines run and ends cancelled when they finished', () => {
    const status = (c: ItemCounts) => emulatedStatus({ batch: batch({ status: 'cancelling' }), counts: c, cancelRequested: true, loaded: true });
    assert.equal(status(counts({ running: 2, cancelled: 5 })), 'cancelling');
    assert.equal(status(counts({ succeeded: 2, cancelled: 5 })), 'cancelled');
    assert.equal(emulatedStatus({ batch: batch({ status: 'cancelling' }), counts: counts({}), cancelRequested: true, loaded: false }), 'cancelled');
  });

  it('reports request_counts with cancelled and expired lines as failed, and the timestamps of the state', () => {
    const progress = emulatedProgress(
      { batch: batch({ cancellingAt: 150 }), counts: counts({ succeeded: 3, failed: 1, cancelled: 2 }), cancelRequested: true, loaded: true },
      200,
    );
    assert.equal(progress.status, 'cancelled');
    assert.deepEqual(progress.requestCounts, { total: 6, completed: 3, failed: 3 });
    assert.equal(progress.cancellingAt, 150);
    assert.equal(progress.cancelledAt, 200);
    assert.equal(progress.inProgressAt, 101);
    assert.equal(progress.usage, null, 'the usage is summed from the output lines as the files are written');
  });

  it('fails a batch whose input cannot be read, with the reason in errors', () => {
    const failure = { code: 'invalid_file', message: 'gone', param: 'input_file_id', line: null };
    const progress = emulatedProgress({ batch: batch({ status: 'validating', inProgressAt: null }), counts: counts({}), cancelRequested: false, loaded: false, failure }, 300);
    assert.equal(progress.status, 'failed');
    assert.deepEqual(progress.errors, [failure]);
    assert.equal(progress.inProgressAt, null);
  });
});
