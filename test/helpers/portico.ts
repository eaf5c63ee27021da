/**
 * Starts a real Portico in-process for end-to-end tests: the given LiteLLM-format YAML is written
 * to a temporary file and loaded exactly as the CLI loads it, a fresh database is created (SQLite
 * by default, or PostgreSQL), and the server listens on an ephemeral port of 127.0.0.1.
 *
 *   const portico = await startPortico(yaml, { dialect: 'postgres' });
 *   const client = portico.client();                 // openai SDK with the master key
 *   const keyed = portico.client('sk-...');          // ... or with another key
 *   await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
 *   portico.logs                                     // every JSON log line, parsed
 *   await portico.close();                           // graceful stop, then the database is dropped
 *
 * `databaseUrl` reuses an existing database instead (several instances on one store); it is then
 * not dropped on close.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { loadConfig } from '../../src/config/load-config.ts';
import type { PorticoConfig } from '../../src/config/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { AppOptions, AppServices } from '../../src/server/services.ts';
import type { BackgroundJobs } from '../../src/jobs/background-jobs.ts';
import { startServer } from '../../src/server/start.ts';
import type { FastifyInstance } from 'fastify';
import type { SqlDialectName } from '../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export interface StartPorticoOptions extends AppOptions {
  /** Fresh test database of this dialect (default `sqlite`); ignored when `databaseUrl` is given. */
  dialect?: SqlDialectName;
  /** An existing database to use (not dropped on close). */
  databaseUrl?: string;
  /** Environment for `os.environ/` references in the YAML (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Log level of the captured logs (default `info`). */
  logLevel?: string;
  shutdownGraceMs?: number;
  /** `REDIS_URL` of the instance (rate limits and cooldowns in Redis); default: in memory. */
  redisUrl?: string;
  /** Key prefix in Redis; give each test its own. */
  redisPrefix?: string;
}

export interface PorticoUnderTest {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `http://127.0.0.1:PORT/v1`: the SDK's `baseURL`. */
  readonly baseURL: string;
  /** The config's `general_settings.master_key` (undefined when running open). */
  readonly masterKey: string | undefined;
  readonly config: PorticoConfig;
  readonly app: FastifyInstance;
  readonly services: AppServices;
  /** The instance's background jobs (batch poller, file janitor, batch engine). */
  readonly jobs: BackgroundJobs;
  readonly databaseUrl: string;
  /** Every log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** An `openai` client with `apiKey` (default: the master key) and no SDK retries. */
  client(apiKey?: string, options?: { maxRetries?: number }): OpenAI;
  /** `fetch` against Portico with `Authorization: Bearer <apiKey>` (default: the master key; `null` for none). */
  fetch(path: string, init?: RequestInit & { apiKey?: string | null }): Promise<Response>;
  /** Mints a virtual key through `POST /key/generate` with the master key; answers the response body. */
  generateKey(body?: Record<string, unknown>): Promise<{ key: string; token: string } & Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startPortico(configYaml: string, options: StartPorticoOptions = {}): Promise<PorticoUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-e2e-'));
  const configPath = join(dir, 'config.yaml');
  await writeFile(configPath, configYaml);
  let testDatabase: TestDatabase | undefined;
  try {
    const config = await loadConfig(configPath, options.env ?? process.env);
    if (options.databaseUrl === undefined) testDatabase = await createTestDatabase(options.dialect ?? 'sqlite');
    const databaseUrl = options.databaseUrl ?? (testDatabase as TestDatabase).url;
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: options.logLevel ?? 'info',
      destination: {
        write(line: string) {
          logs.push(JSON.parse(line) as Record<string, unknown>);
          if (process.env.PORTICO_TEST_LOGS === '1') process.stderr.write(line);
        },
      },
    });
    const running = await startServer({
      ...options,
      config,
      databaseUrl,
      host: '127.0.0.1',
      port: 0,
      logger,
      shutdownGraceMs: options.shutdownGraceMs ?? 5_000,
    });
    const masterKey = config.masterKey;
    const baseURL = `${running.url}/v1`;
    const portico: PorticoUnderTest = {
      url: running.url,
      baseURL,
      masterKey,
      config,
      app: running.app,
      services: running.services,
      jobs: running.jobs,
      databaseUrl,
      logs,
      client(apiKey = masterKey ?? 'no-key', clientOptions = {}) {
        return new OpenAI({ apiKey, baseURL, maxRetries: clientOptions.maxRetries ?? 0, timeout: 30_000 });
      },
      fetch(path, init = {}) {
        const { apiKey = masterKey, headers, ...rest } = init;
        const merged = new Headers(headers);
        if (apiKey !== null && apiKey !== undefined) merged.set('authorization', `Bearer ${apiKey}`);
        return fetch(`${running.url}${path}`, { ...rest, headers: merged });
      },
      async generateKey(body = {}) {
        const response = await portico.fetch('/key/generate', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { key: string; token: string } & Record<string, unknown>;
        if (response.status !== 200) throw new Error(`/key/generate answered ${response.status}: ${JSON.stringify(json)}`);
        return json;
      },
      async close() {
        try {
          await running.close();
        } finally {
          await testDatabase?.dispose();
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
    return portico;
  } catch (error) {
    await testDatabase?.dispose();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A Portico under test with a files directory of its own. */
export interface PorticoWithStorage extends PorticoUnderTest {
  /** What the config names as `portico_settings.files.storage_dir`: a fresh directory, removed on close. */
  readonly storageDir: string;
}

/**
 * `startPortico` over a fresh files directory: `configFor` puts it in the YAML (`storage_dir`),
 * and closing the instance removes it.
 *
 *   const portico = await startPorticoWithStorage((dir) => `...\n  files: { storage_dir: ${dir} }\n`, { dialect });
 */
export async function startPorticoWithStorage(configFor: (storageDir: string) => string, options: StartPorticoOptions = {}): Promise<PorticoWithStorage> {
  const storageDir = await mkdtemp(join(tmpdir(), 'portico-files-'));
  const removeStorage = () => rm(storageDir, { recursive: true, force: true });
  try {
    const portico = await startPortico(configFor(storageDir), options);
    return {
      ...portico,
      storageDir,
      async close() {
        try {
          await portico.close();
        } finally {
          await removeStorage();
        }
      },
    };
  } catch (error) {
    await removeStorage();
    throw error;
  }
}
