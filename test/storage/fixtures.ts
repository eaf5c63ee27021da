/** Builders of storage records for the storage tests: unique ids, sensible defaults. */
import { randomBytes } from 'node:crypto';
import { BatchStore, type NewBatch } from '../../src/storage/batch-store.ts';
import type { Database } from '../../src/storage/database.ts';
import { FileStore, type NewFile } from '../../src/storage/file-store.ts';

export const uniqueId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

export function newFile(overrides: Partial<NewFile> = {}): NewFile {
  return {
    id: uniqueId('file-'),
    owner: 'user:alice',
    purpose: 'batch',
    filename: 'input.jsonl',
    bytes: 123,
    createdAt: 1_750_000_000,
    status: 'processed',
    ...overrides,
  };
}

export function newBatch(inputFileId: string, overrides: Partial<NewBatch> = {}): NewBatch {
  return {
    id: uniqueId('batch_'),
    owner: 'user:alice',
    endpoint: '/v1/chat/completions',
    completionWindow: '24h',
    modelGroup: 'gpt-4o-mini',
    execution: 'native_file',
    inputFileId,
    status: 'validating',
    createdAt: 1_750_000_000,
    ...overrides,
  };
}

/** Inserts an input file and a batch on it; answers the batch id. */
export async function insertBatchWithInput(db: Database, overrides: Partial<NewBatch> = {}): Promise<string> {
  const input = newFile({ owner: overrides.owner ?? 'user:alice' });
  await new FileStore(db).insert(input);
  const batch = newBatch(input.id, overrides);
  await new BatchStore(db).insert(batch);
  return batch.id;
}
