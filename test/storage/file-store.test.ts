import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchStore } from '../../src/storage/batch-store.ts';
import { FileStore, type FileRecord } from '../../src/storage/file-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { newBatch, newFile, uniqueId } from './fixtures.ts';

/** Follows `after` cursors from the first page to the last, as the SDK's auto-pagination does. */
async function walk(files: FileStore, options: { owner?: string; purpose?: string; order: 'asc' | 'desc'; limit: number }) {
  const seen: string[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await files.list({ ...options, after });
    pages += 1;
    seen.push(...page.rows.map((r) => r.id));
    if (!page.hasMore) return { seen, pages };
    assert.equal(page.rows.length, options.limit, 'a page followed by more is full');
    after = page.rows[page.rows.length - 1].id;
    assert.ok(pages < 100, 'pagination advances');
  }
}

function expectedOrder(rows: { id: string; createdAt: number }[], order: 'asc' | 'desc'): string[] {
  const sorted = [...rows].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return (order === 'asc' ? sorted : sorted.reverse()).map((r) => r.id);
}

forEachDatabase('file store', (ctx) => {
  test('a file and its copies read back as inserted', async () => {
    const files = new FileStore(ctx.db);
    const file = newFile({ expiresAt: 1_760_000_000, checksum: 'ab'.repeat(32), blobKey: 'blob_x', lineCount: 3, batchEndpoint: '/v1/chat/completions', modelGroups: ['gpt-4o', 'gpt-4o-mini'], lineModels: ['gpt-4o'], tokenEstimate: { inputTokens: 120, boundedOutputTokens: 60, unboundedOutputs: 2 } });
    await files.insert(file, [
      { id: uniqueId('fcp_'), deploymentId: 'dep-a', providerFileId: 'file-upstream-a', state: 'active', createdAt: 1 },
      { id: uniqueId('fcp_'), deploymentId: 'dep-b', state: 'uploading', createdAt: 2 },
    ]);
    const expected: FileRecord = {
      ...file,
      expiresAt: 1_760_000_000,
      statusDetails: null,
      checksum: 'ab'.repeat(32),
      blobKey: 'blob_x',
      lineCount: 3,
      batchEndpoint: '/v1/chat/completions',
      modelGroups: ['gpt-4o', 'gpt-4o-mini'],
      lineModels: ['gpt-4o'],
      tokenEstimate: { inputTokens: 120, boundedOutputTokens: 60, unboundedOutputs: 2 },
      batchId: null,
      state: 'active',
      deletedAt: null,
    };
    assert.deepEqual(await files.getActive(file.id), expected);
    assert.deepEqual(await files.getById(file.id), expected);
    const copies = await files.copiesOf(file.id);
    assert.deepEqual(
      copies.map((c) => [c.deploymentId, c.providerFileId, c.state, c.attempts]),
      [
        ['dep-a', 'file-upstream-a', 'active', 0],
        ['dep-b', null, 'uploading', 0],
      ],
    );
    assert.equal((await files.findCopy(file.id, 'dep-b'))?.id, copies[1].id);
    assert.equal((await files.findCopyByProviderFileId('dep-a', 'file-upstream-a'))?.fileId, file.id);
  });

  test('a file whose copies cannot be inserted is not inserted either', async () => {
    const files = new FileStore(ctx.db);
    const file = newFile();
    await assert.rejects(
      files.insert(file, [
        { id: uniqueId('fcp_'), deploymentId: 'dep-a', state: 'active', createdAt: 1 },
        { id: uniqueId('fcp_'), deploymentId: 'dep-a', state: 'active', createdAt: 1 },
      ]),
    );
    assert.equal(await files.getById(file.id), undefined);
  });

  test('one provider file id belongs to one copy per deployment', async () => {
    const files = new FileStore(ctx.db);
    const a = newFile();
    const b = newFile();
    await files.insert(a, [{ id: uniqueId('fcp_'), deploymentId: 'dep-u', providerFileId: 'file-same', state: 'active', createdAt: 1 }]);
    await assert.rejects(
      files.insert(b, [{ id: uniqueId('fcp_'), deploymentId: 'dep-u', providerFileId: 'file-same', state: 'active', createdAt: 1 }]),
    );
  });

  test('listing walks every file exactly once in both orders, including equal created_at', async () => {
    const files = new FileStore(ctx.db);
    const owner = uniqueId('user:');
    const inserted: { id: string; createdAt: number }[] = [];
    for (let i = 0; i < 23; i++) {
      // Four files per second: ties on created_at must be broken by id.
      const file = newFile({ owner, createdAt: 1_750_000_000 + Math.floor(i / 4), purpose: i % 5 === 0 ? 'user_data' : 'batch' });
      await files.insert(file);
      inserted.push(file);
    }
    await files.insert(newFile({ owner: uniqueId('user:') })); // someone else's

    for (const order of ['asc', 'desc'] as const) {
      for (const limit of [1, 4, 5, 23, 50]) {
        const { seen } = await walk(files, { owner, order, limit });
        assert.deepEqual(seen, expectedOrder(inserted, order), `order ${order}, limit ${limit}`);
      }
    }
    const { seen: batchOnly } = await walk(files, { owner, purpose: 'batch', order: 'asc', limit: 3 });
    assert.equal(batchOnly.length, 18);
    const { seen: all } = await walk(files, { order: 'desc', limit: 7 });
    assert.ok(all.length >= 24, 'without an owner every owner is listed');
    assert.equal(new Set(all).size, all.length);
  });

  test('a deleted file still works as a cursor, and deleted files are not listed', async () => {
    const files = new FileStore(ctx.db);
    const owner = uniqueId('user:');
    const inserted = [];
    for (let i = 0; i < 6; i++) {
      const file = newFile({ owner, createdAt: 1_750_000_100 + i });
      await files.insert(file);
      inserted.push(file);
    }
    const first = await files.list({ owner, order: 'asc', limit: 3 });
    const cursor = first.rows[2].id;
    assert.ok(await files.markDeleting(cursor, 0));
    await files.deleteFile(cursor);
    const second = await files.list({ owner, order: 'asc', limit: 3, after: cursor });
    assert.deepEqual(
      second.rows.map((r) => r.id),
      inserted.slice(3).map((f) => f.id),
    );
    const everything = await walk(files, { owner, order: 'asc', limit: 10 });
    assert.ok(!everything.seen.includes(cursor));
    assert.deepEqual(await files.list({ owner, order: 'asc', limit: 3, after: 'file-never-existed' }), { rows: [], hasMore: false });
  });

  test('deleting a file: one of two concurrent deletes wins, copies wait for retry, the row becomes a tombstone', async () => {
    const files = new FileStore(ctx.db);
    const file = newFile({ blobKey: 'blob_y' });
    const copyId = uniqueId('fcp_');
    await files.insert(file, [{ id: copyId, deploymentId: 'dep-a', providerFileId: uniqueId('up-'), state: 'active', createdAt: 1 }]);

    const outcomes = await Promise.all([files.markDeleting(file.id, 100), files.markDeleting(file.id, 100)]);
    assert.deepEqual(outcomes.sort(), [false, true]);
    assert.equal(await files.getActive(file.id), undefined, 'a file being deleted is invisible');
    assert.equal((await files.getById(file.id))?.state, 'deleting');
    assert.ok((await files.listDeleting(1000)).some((f) => f.id === file.id));

    const [copy] = await files.copiesOf(file.id);
    assert.equal(copy.state, 'deleting');
    assert.ok(!(await files.listCopiesDueForDeleteRetry(99, 1000)).some((c) => c.id === copyId), 'not due before retryAt');
    assert.ok((await files.listCopiesDueForDeleteRetry(100, 1000)).some((c) => c.id === copyId));

    assert.ok(await files.updateCopy(copyId, { lastError: 'HTTP 500', nextAttemptAt: 200, incrementAttempts: true }, 'deleting'));
    assert.equal(await files.updateCopy(copyId, { state: 'active' }, 'uploading'), false, 'guarded by state');
    const retried = (await files.copiesOf(file.id))[0];
    assert.deepEqual([retried.attempts, retried.lastError, retried.nextAttemptAt], [1, 'HTTP 500', 200]);

    await files.deleteFile(file.id, 1_750_000_999);
    assert.deepEqual(await files.copiesOf(file.id), []);
    const tombstone = await files.getById(file.id);
    assert.deepEqual([tombstone?.state, tombstone?.deletedAt, tombstone?.blobKey], ['deleted', 1_750_000_999, null]);
    assert.equal(await files.update(file.id, { status: 'error' }), false, 'a tombstone does not change');
  });

  test('expired active files are listed for the expiry job', async () => {
    const files = new FileStore(ctx.db);
    const expired = newFile({ expiresAt: 1_000 });
    const future = newFile({ expiresAt: 3_000 });
    await files.insert(expired);
    await files.insert(future);
    const due = (await files.listExpired(2_000, 1000)).map((f) => f.id);
    assert.ok(due.includes(expired.id));
    assert.ok(!due.includes(future.id));
    await files.markDeleting(expired.id, 0);
    assert.ok(!(await files.listExpired(2_000, 1000)).some((f) => f.id === expired.id));
  });

  test('file fields update in place', async () => {
    const files = new FileStore(ctx.db);
    const file = newFile({ status: 'uploaded' });
    await files.insert(file);
    assert.ok(await files.update(file.id, { status: 'processed', statusDetails: 'ok', modelGroups: ['a', 'b'], lineCount: 7 }));
    const updated = await files.getActive(file.id);
    assert.deepEqual(
      [updated?.status, updated?.statusDetails, updated?.modelGroups, updated?.lineCount],
      ['processed', 'ok', ['a', 'b'], 7],
    );
    assert.equal(await files.update('file-missing', { status: 'error' }), false);
  });

  test('purging tombstones keeps those a batch still references', async () => {
    const files = new FileStore(ctx.db);
    const batches = new BatchStore(ctx.db);
    const input = newFile();
    const loose = newFile();
    await files.insert(input);
    await files.insert(loose);
    await batches.insert(newBatch(input.id));
    for (const f of [input, loose]) {
      await files.markDeleting(f.id, 0);
      await files.deleteFile(f.id, 10);
    }
    assert.ok((await files.purgeTombstones(11)) >= 1);
    assert.equal(await files.getById(loose.id), undefined);
    assert.equal((await files.getById(input.id))?.state, 'deleted');
  });
});

forEachDatabase('file store: per-owner limits (issue 9, defect 13b)', (ctx) => {
  test('inserts of one owner racing on several instances are recorded only as far as they fit', async () => {
    const pools = [ctx.db, ...(await Promise.all([1, 2, 3].map(() => ctx.openAnother({ migrate: false }))))];
    const owner = uniqueId('user:');
    const byBytes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => new FileStore(pools[i % pools.length]!).insertWithinLimit(newFile({ owner, bytes: 40 }), [], { maxBytes: 100, maxFiles: 10 })),
    );
    assert.equal(byBytes.filter((outcome) => outcome === 'inserted').length, 2);
    assert.ok(byBytes.every((outcome) => outcome === 'inserted' || outcome === 'over_bytes'));
    assert.deepEqual(await new FileStore(ctx.db).usageOf(owner), { files: 2, bytes: 80 });

    const other = uniqueId('user:');
    const byCount = await Promise.all(
      Array.from({ length: 12 }, (_, i) => new FileStore(pools[i % pools.length]!).insertWithinLimit(newFile({ owner: other, bytes: 1 }), [], { maxFiles: 3 })),
    );
    assert.equal(byCount.filter((outcome) => outcome === 'inserted').length, 3);
    assert.deepEqual(await new FileStore(ctx.db).usageOf(other), { files: 3, bytes: 3 });
  });
});
