import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import busboy from 'busboy';
import { buildMultipartBody } from './multipart.ts';

/** Parses a multipart body with busboy (an independent parser); `onFile` consumes file bytes. */
async function parse(
  body: Readable,
  contentType: string,
  onFile: (chunk: Buffer) => void,
): Promise<{ fields: Record<string, string>; files: Array<{ name: string; filename: string; mimeType: string }> }> {
  const fields: Record<string, string> = {};
  const files: Array<{ name: string; filename: string; mimeType: string }> = [];
  const parser = busboy({ headers: { 'content-type': contentType }, limits: { fileSize: Infinity } });
  parser.on('field', (name, value) => {
    fields[name] = value;
  });
  parser.on('file', (name, stream, info) => {
    files.push({ name, filename: info.filename ?? '', mimeType: info.mimeType });
    stream.on('data', onFile);
    // The pipeline reports a broken body; the file part only needs a listener.
    stream.on('error', () => {});
  });
  await pipeline(body, parser);
  return { fields, files };
}

describe('streamed multipart bodies', () => {
  it('frames text fields and the file part so that a standard parser reads them back', async () => {
    const content = Buffer.from('line one\nline "two"\r\n--not-a-boundary\n');
    const multipart = buildMultipartBody(
      [
        ['purpose', 'batch'],
        ['expires_after[seconds]', '3600'],
      ],
      { field: 'file', filename: 'in"put.jsonl', contentType: 'application/octet-stream', content: Readable.from([content]), bytes: content.length },
    );
    const received: Buffer[] = [];
    const bytes: Buffer[] = [];
    const copy = Readable.from(
      (async function* () {
        for await (const chunk of multipart.body) {
          bytes.push(chunk as Buffer);
          yield chunk;
        }
      })(),
    );
    const parsed = await parse(copy, multipart.contentType, (chunk) => received.push(chunk));
    assert.deepEqual(parsed.fields, { purpose: 'batch', 'expires_after[seconds]': '3600' });
    assert.deepEqual(parsed.files, [{ name: 'file', filename: 'in"put.jsonl', mimeType: 'application/octet-stream' }]);
    assert.deepEqual(Buffer.concat(received), content);
    assert.equal(Buffer.concat(bytes).length, multipart.contentLength, 'Content-Length is exact');
  });

  it('fails when the source gives fewer bytes than announced', async () => {
    const multipart = buildMultipartBody([], {
      field: 'file',
      filename: 'a',
      contentType: 'application/octet-stream',
      content: Readable.from([Buffer.from('abc')]),
      bytes: 10,
    });
    await assert.rejects(parse(multipart.body, multipart.contentType, () => {}), /expected 10 bytes/);
  });

  it('streams a 200 MB file with flat memory', async () => {
    const size = 200 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= size) {
          this.push(null);
          return;
        }
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const multipart = buildMultipartBody([['purpose', 'batch']], {
      field: 'file',
      filename: 'big.jsonl',
      contentType: 'application/octet-stream',
      content: source,
      bytes: size,
    });
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    let received = 0;
    try {
      await parse(multipart.body, multipart.contentType, (data) => {
        received += data.length;
      });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.equal(received, size);
    const growthMb = (peak - baseline) / (1024 * 1024);
    assert.ok(growthMb < 64, `memory grew by ${growthMb.toFixed(1)} MB for a 200 MB upload`);
  });
});
