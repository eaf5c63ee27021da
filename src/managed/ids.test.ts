import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBatchId, isFileId, newBatchId, newBatchRequestId, newFileCopyId, newFileId } from './ids.ts';

describe('gateway ids', () => {
  it('have their shapes, and ours are recognised as ours', () => {
    for (let i = 0; i < 1_000; i++) {
      assert.ok(isFileId(newFileId()));
      assert.ok(isBatchId(newBatchId()));
      assert.match(newBatchRequestId(), /^batch_req_[A-Za-z0-9]{24}$/);
      assert.match(newFileCopyId(), /^fcp_[A-Za-z0-9]{20}$/);
    }
  });

  it('never repeat, across many refills of the pooled random bytes', () => {
    // 20,000 ids of 24 characters use ~1 MB of random bytes: the 4 KiB pool refills ~250 times.
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(newBatchRequestId());
    assert.equal(seen.size, 20_000);
  });

  it('draw every character of the alphabet about equally often (no bias from 256 % 62)', () => {
    const counts = new Map<string, number>();
    const ids = 20_000;
    for (let i = 0; i < ids; i++) for (const char of newBatchRequestId().slice('batch_req_'.length)) counts.set(char, (counts.get(char) ?? 0) + 1);
    assert.equal(counts.size, 62);
    const expected = (ids * 24) / 62;
    // Binomial standard deviation ~ sqrt(expected) ~ 88: 6 of them is far outside chance, and far
    // below the 25% excess (~1,900) a modulo without rejection would give the first 8 characters (A-H).
    for (const [char, count] of counts) assert.ok(Math.abs(count - expected) < 6 * Math.sqrt(expected), `${char}: ${count} vs ${expected.toFixed(0)}`);
  });
});
