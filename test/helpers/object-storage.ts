/**
 * Object-storage emulators for tests, each a child process on 127.0.0.1 at a free port over a
 * temporary directory: s3rver for S3 (test/helpers/s3-emulator-server.ts) and Azurite for Azure
 * Blob Storage. Both are devDependencies; nothing is reached outside this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';

export interface S3Emulator {
  endpoint: string;
  bucket: string;
  /** s3rver's fixed credentials. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the bucket (objects, and `._S3rver_uploads/` for unfinished uploads). */
  dir: string;
  close(): Promise<void>;
}

export interface AzuriteEmulator {
  connectionString: string;
  /** A container made at start. */
  container: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  accountUrl: string;
  accountName: string;
  accountKey: string;
  close(): Promise<void>;
}

/** Azurite's well-known development account. */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_CONTAINER = 'portico';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function startS3Emulator(bucket = 'portico-test'): Promise<S3Emulator> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-s3rver-'));
  const script = fileURLToPath(new URL('./s3-emulator-server.ts', import.meta.url));
  const child = spawn(process.execPath, [script, dir, bucket], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await waitForLine(child, (line) => {
    if (!line.startsWith('{')) return undefined;
    return (JSON.parse(line) as { port: number }).port;
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    dir,
    close: () => stop(child, dir),
  };
}

export async function startAzurite(): Promise<AzuriteEmulator> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-azurite-'));
  const main = fileURLToPath(import.meta.resolve('azurite/dist/src/blob/main.js'));
  const child = spawn(
    process.execPath,
    [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', dir, '--silent', '--disableTelemetry', '--skipApiVersionCheck', '--loose'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await waitForLine(child, (line) => /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  const accountUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${accountUrl};`;
  await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(AZURITE_CONTAINER).create();
  return {
    connectionString,
    container: AZURITE_CONTAINER,
    accountUrl,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    close: () => stop(child, dir),
  };
}

/** Resolves with the first stdout line `parse` accepts; rejects if the child exits or takes over 60 s. */
function waitForLine<T>(child: ChildProcess, parse: (line: string) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`emulator did not start within 60 s: ${out}${err}`)), 60_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const exited = (code: number | null) => fail(new Error(`emulator exited (${code}) before listening: ${out}${err}`));
    child.stderr?.on('data', (data: Buffer) => {
      err += data.toString();
    });
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      for (const line of out.split('\n')) {
        const value = parse(line.trim());
        if (value !== undefined) {
          clearTimeout(timer);
          child.off('exit', exited);
          // Keep draining the pipes so the child never blocks on a full one.
          child.stdout?.removeAllListeners('data');
          child.stdout?.resume();
          resolve(value);
          return;
        }
      }
    });
    child.once('exit', exited);
  });
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}

/** `portico_settings.files` lines (indented by 4) naming an emulator's bucket or container, for a gateway under test. */
export function objectStoreFiles(emulator: S3Emulator | AzuriteEmulator, prefix = 'portico/files/'): string {
  if ('bucket' in emulator) {
    return [
      '    s3:',
      `      bucket: ${emulator.bucket}`,
      `      prefix: ${prefix}`,
      `      endpoint: "${emulator.endpoint}"`,
      '      force_path_style: true',
      `      access_key_id: ${emulator.accessKeyId}`,
      `      secret_access_key: ${emulator.secretAccessKey}`,
      '',
    ].join('\n');
  }
  return ['    azure_blob:', `      container: ${emulator.container}`, `      prefix: ${prefix}`, `      connection_string: "${emulator.connectionString}"`, ''].join('\n');
}
