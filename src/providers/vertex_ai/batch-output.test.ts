import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapJobState, toProviderBatch } from './batch-job.ts';
import { isResultFile, translateOutputLine } from './batch-output.ts';
import { geminiBatchFamily as gemini, statusOfFailure } from './gemini-batch-family.ts';

const options = { created: 1, fallbackModel: 'gemini-2.5-flash' };
const request = (key: string) => ({ contents: [{ role: 'user', parts: [{ text: 'x' }] }], labels: { portico_custom_id: key } });

describe('Vertex batch output (Gemini rows)', () => {
  it('a succeeded row becomes a chat.completion under the key carried in the request labels', () => {
    const result = translateOutputLine(gemini, { status: '', processed_time: 't', request: request('r4'), response: { candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1 } } }, options);
    assert.equal(result?.customId, 'r4');
    assert.equal(result?.outcome.type, 'succeeded');
    assert.equal(((result?.outcome as { body: { choices: Array<{ message: { content: string } }> } }).body).choices[0].message.content, 'hi');
  });

  it('a failed row is an HTTP error line with the status inside its message; a bare message is a 500', () => {
    const failed = translateOutputLine(gemini, { status: 'Bad Request: {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}', request: request('r1') }, options);
    assert.deepEqual([failed?.outcome.type, (failed?.outcome as { statusCode: number }).statusCode], ['http_error', 400]);
    assert.deepEqual(statusOfFailure('Internal error occurred.'), { code: 500, status: 'INTERNAL', message: 'Internal error occurred.' });
    const throttled = translateOutputLine(gemini, { error: { code: 429, message: 'quota' }, request: request('r2') }, options);
    assert.equal((throttled?.outcome as { statusCode: number }).statusCode, 429);
  });

  it('a row without Portico key is not ours; only predictions and errors files are read', () => {
    assert.equal(translateOutputLine(gemini, { status: '', request: { contents: [] }, response: {} }, options), null);
    assert.ok(isResultFile('out/prediction-model-2025/predictions.jsonl'));
    assert.ok(isResultFile('out/prediction-model-2025/predictions_0001.jsonl'));
    assert.ok(!isResultFile('out/prediction-model-2025/incremental_predictions/x.txt'));
  });

  it('job states map onto OpenAI batch states; counts come from completionStats', () => {
    assert.deepEqual(
      ['JOB_STATE_QUEUED', 'JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED', 'JOB_STATE_PARTIALLY_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_NEW_WORD'].map(mapJobState),
      ['validating', 'validating', 'in_progress', 'completed', 'completed', 'failed', 'cancelling', 'cancelled', 'expired', 'in_progress'],
    );
    const batch = toProviderBatch({ name: 'projects/1/locations/us-central1/batchPredictionJobs/987', state: 'JOB_STATE_SUCCEEDED', createTime: '2025-01-01T00:00:00Z', endTime: '2025-01-01T01:00:00Z', completionStats: { successfulCount: '2', failedCount: '1' } });
    assert.equal(batch.id, '987');
    assert.deepEqual(batch.requestCounts, { total: 3, completed: 2, failed: 1 });
    assert.equal(batch.completedAt, Date.parse('2025-01-01T01:00:00Z') / 1000);
  });
});
