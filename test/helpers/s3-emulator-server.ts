/**
 * Child process: s3rver on 127.0.0.1 (a free port) over a directory, with one bucket. Prints
 * `{"port":N}` on stdout once listening; stops on SIGTERM.
 *
 * s3rver 3.7 lacks two calls Portico makes, AbortMultipartUpload and ListMultipartUploads; they
 * are added here, over s3rver's own store of unfinished uploads
 * (`<dir>/<bucket>/._S3rver_uploads/<upload id>/{key,metadata,<part>...}`), answering as S3 does.
 *
 * Usage: node s3-emulator-server.ts <dir> <bucket>
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';

const [dir, bucket] = process.argv.slice(2);
if (dir === undefined || bucket === undefined) throw new Error('usage: s3-emulator-server.ts <dir> <bucket>');

const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  status: number;
  body: unknown;
  type: string;
}

const uploadsDir = (name: string) => join(dir, name, '._S3rver_uploads');
const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function abortMultipartUpload(ctx: KoaContext, bucketName: string, uploadId: string): Promise<void> {
  if (!/^[0-9a-f]+$/.test(uploadId)) throw new Error('bad upload id');
  const path = join(uploadsDir(bucketName), uploadId);
  const exists = await stat(path).then(() => true, () => false);
  if (!exists) {
    ctx.status = 404;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${uploadId}</UploadId></Error>`;
    return;
  }
  await rm(path, { recursive: true, force: true });
  ctx.status = 204;
  ctx.body = null;
}

async function listMultipartUploads(ctx: KoaContext, bucketName: string): Promise<void> {
  const prefix = ctx.query.prefix ?? '';
  const ids = await readdir(uploadsDir(bucketName)).catch(() => [] as string[]);
  const uploads: string[] = [];
  for (const id of ids.sort()) {
    const key = await readFile(join(uploadsDir(bucketName), id, 'key'), 'utf8').catch(() => undefined);
    if (key === undefined || !key.startsWith(prefix)) continue;
    const initiated = (await stat(join(uploadsDir(bucketName), id, 'key'))).mtime.toISOString();
    uploads.push(`<Upload><Key>${xmlEscape(key)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`);
  }
  ctx.status = 200;
  ctx.type = 'application/xml';
  ctx.body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Bucket>${xmlEscape(bucketName)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xmlEscape(prefix)}</Prefix>` +
    `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
}

// Ahead of s3rver's own middleware (path-style requests only, as the tests make them).
(server as unknown as { middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>> }).middleware.unshift(async (ctx, next) => {
  const [bucketName, ...keyParts] = ctx.path.split('/').filter((part) => part !== '');
  if (ctx.method === 'DELETE' && keyParts.length > 0 && ctx.query.uploadId !== undefined) return abortMultipartUpload(ctx, bucketName, ctx.query.uploadId);
  if (ctx.method === 'GET' && keyParts.length === 0 && bucketName && 'uploads' in ctx.query) return listMultipartUploads(ctx, bucketName);
  return next();
});

const address = (await server.run()) as { port: number };
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
process.on('SIGTERM', () => {
  server.close().finally(() => process.exit(0));
});
