/**
 * Starting and stopping a Portico server: open the database (migrations run), build the
 * services and the app, listen; and the graceful stop the CLI runs on SIGTERM/SIGINT.
 *
 * Graceful stop: stop accepting connections (new requests on kept-alive connections get 503 with
 * `connection: close`), let in-flight requests and streams finish for up to `shutdownGraceMs`,
 * then cut what is left (which aborts those upstream calls), then close the database.
 */
import type { FastifyInstance } from 'fastify';
import type { PorticoConfig } from '../config/types.ts';
import { KeyService } from '../auth/key-service.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { Router } from '../routing/router.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { KeyStore } from '../storage/key-store.ts';
import { createManagedServices } from '../managed/managed-services.ts';
import { createBackgroundJobs, type BackgroundJobs } from '../jobs/background-jobs.ts';
import { buildApp } from './app.ts';
import type { AppOptions, AppServices } from './services.ts';

export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

export interface StartOptions extends AppOptions {
  config: PorticoConfig;
  /** `DATABASE_URL`; unset -> `./portico.db`. */
  databaseUrl: string | undefined;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /** How long a stop waits for in-flight requests and streams before cutting them. */
  shutdownGraceMs?: number;
}

export interface RunningPortico {
  readonly app: FastifyInstance;
  readonly services: AppServices;
  /** `http://host:port`, with 127.0.0.1 for a wildcard host. */
  readonly url: string;
  readonly port: number;
  /** The batch poller, file janitor and batch engine of this instance. */
  readonly jobs: BackgroundJobs;
  /** Graceful stop; safe to call more than once. */
  close(): Promise<void>;
}

export async function createServices(config: PorticoConfig, database: Database, logger: Logger): Promise<AppServices> {
  const metrics = new GatewayMetrics({ modelGroups: [...new Set(config.deployments.map((deployment) => deployment.modelGroup))] });
  const router = new Router(config, { onAttempt: (attempt) => metrics.observeUpstreamAttempt(attempt) });
  const keys = new KeyService(new KeyStore(database), {
    masterKey: config.masterKey,
    onCacheRefreshError: (error) => logger.warn({ err: error }, 'key cache: background refresh failed; serving the cached entry'),
  });
  const managed = createManagedServices({ config, database, router, logger });
  return { config, database, router, keys, metrics, logger, managed, startedAt: Math.floor(Date.now() / 1000) };
}

export async function startServer(options: StartOptions): Promise<RunningPortico> {
  const { config, logger } = options;
  const database = await openDatabase(options.databaseUrl);
  let app: FastifyInstance;
  let services: AppServices;
  let jobs: BackgroundJobs;
  try {
    services = await createServices(config, database, logger);
    jobs = createBackgroundJobs(config, services.managed!, logger);
    app = await buildApp(services, options);
    await app.listen({ host: options.host, port: options.port });
    jobs.start();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= stopGracefully(app, services, jobs, graceMs);
    return closing;
  };
  return { app, services, url, port, jobs, close };
}

async function stopGracefully(app: FastifyInstance, services: AppServices, jobs: BackgroundJobs, graceMs: number): Promise<void> {
  const timer = setTimeout(() => {
    services.logger.warn({ grace_ms: graceMs }, 'shutdown: grace period over, closing the remaining connections');
    app.server.closeAllConnections();
  }, graceMs);
  try {
    // Background work stops first and lets go of its leases, so another instance takes over.
    await jobs.stop();
    await app.close();
  } finally {
    clearTimeout(timer);
    await closeRouter(services.router);
    await services.database.close();
  }
}

/** The router may hold pooled upstream connections. */
async function closeRouter(router: unknown): Promise<void> {
  const close = (router as { close?: () => Promise<void> | void }).close;
  if (typeof close === 'function') await close.call(router);
}
