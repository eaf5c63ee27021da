import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { InvalidRequestError } from '../../spec/errors.ts';
import { readMultipartUpload } from './multipart-upload.ts';

const headers = { 'content-type': 'multipart/form-data; boundary=x' };

test('a body the client closed before it was read (while an earlier await ran) fails at once instead of waiting forever', { timeout: 5_000 }, async () => {
  const body = new PassThrough();
  body.write('--x\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n');
  body.destroy();
  // The close is over before the upload starts reading, as when the client left during an await.
  await new Promise((resolve) => body.once('close', resolve));
  let sinkCalled = false;
  await assert.rejects(
    readMultipartUpload(
      headers,
      body,
      async () => {
        sinkCalled = true;
      },
      async () => undefined,
    ),
    (error: unknown) => error instanceof InvalidRequestError && /interrupted/.test(error.message),
  );
  assert.equal(sinkCalled, false);
});
