/**
 * The `portico` command: `portico --config FILE [--port N] [--host H]`.
 * `bin/portico.js` checks the Node version and calls `main`.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { runWorkerPool, workerCount } from './server/worker-pool.ts';
import { cooldownPolicyOf } from './coordination/shared-state.ts';
import { loadConfig } from './config/load-config.ts';
import type { PorticoConfig } from './config/types.ts';
import { ConfigError, DatabaseUnavailableError } from './spec/errors.ts';
import { createLogger } from './observability/logger.ts';
import type { RunningPortico } from './server/start.ts';
import { disableTracing, enableTracing, otelSdkDisabled, tracingWanted } from './observability/tracing.ts';
import { propagateTraceparent } from './providers/http/trace-propagation.ts';

export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_PORT = 4000;

export const HELP_TEXT = `Usage: portico --config FILE [--port N] [--host H]
       portico batch COMMAND ...   (submit, watch, status, list, cancel, download, retry-failed;
                                    "portico batch --help")

An OpenAI-compatible LLM gateway. Reads a LiteLLM-format proxy config.

Options:
  -c, --config FILE   The config file (LiteLLM proxy YAML). Required, or PORTICO_CONFIG.
  -p, --port N        Port to listen on. Default: PORT, else ${DEFAULT_PORT}.
      --host H        Address to bind. Default: HOST, else ${DEFAULT_HOST} (all interfaces).
      --num_workers N Processes serving the port (or "auto": the CPUs available, container limits
                      respected). Default: portico_settings.workers, else 1. More than one needs Redis.
  -h, --help          Show this help and exit.

Environment:
  PORTICO_CONFIG           Config file when --config is not given.
  PORT, HOST               Defaults for --port and --host.
  DATABASE_URL             Where keys, files and batches are stored. Unset: SQLite at ./portico.db;
                           file:<path>: SQLite at <path>; postgres://... or postgresql://...: PostgreSQL.
                           Migrations run at start on both. The config's general_settings.database_url
                           (LiteLLM's setting), when given, is used instead.
  REDIS_URL                redis://[:password@]host:6379[/db] (rediss:// for TLS): rate-limit counters and
                           deployment cooldowns shared by every instance. Unset: kept in memory, per
                           instance. If Redis goes away, Portico keeps serving and fails open (warns).
                           The config's router_settings.redis_url, or redis_host/redis_port/redis_password
                           (LiteLLM's settings), when given, are used instead.
  PORTICO_REDIS_PREFIX     Prefix of every Redis key (default portico:); instances that share limits use the same.
  LOG_LEVEL                fatal, error, warn, info (default), debug, trace or silent. Logs are JSON lines on stdout.
  PORTICO_METRICS_PUBLIC   1: serve GET /metrics without the master key.
  PORTICO_SHUTDOWN_GRACE_MS  How long SIGTERM/SIGINT wait for in-flight requests and streams (default 25000).
  OTEL_EXPORTER_OTLP_ENDPOINT  Turns OpenTelemetry tracing on (OTLP/HTTP), as do OTEL_TRACES_EXPORTER=otlp and
                           litellm_settings.callbacks: ["otel"]; the other OTEL_* variables apply.
  os.environ/NAME          Any variable the config names this way (API keys, the master key).

Examples:
  portico --config config.example.yaml
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/portico portico -c config.yaml --port 8080
`;

export const OPEN_MODE_WARNING =
  'NO MASTER KEY CONFIGURED (general_settings.master_key): Portico runs OPEN, anyone who can reach it can use every model and mint keys. Set a master key before exposing this server.';

/** A problem the user must fix; printed without a stack trace, exit code 1. */
class UsageError extends Error {}

interface CliOptions {
  configPath: string;
  host: string;
  port: number;
  /** `--num_workers` (LiteLLM's flag): `auto` or a count; absent: the config's, else 1. */
  workers?: number | 'auto';
}

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        num_workers: { type: 'string' },
        'num-workers': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun "portico --help" for usage.`);
  }
  if (values.help) return 'help';
  const configPath = values.config ?? env.PORTICO_CONFIG;
  if (!configPath) throw new UsageError('No config file: pass --config FILE (or set PORTICO_CONFIG). Run "portico --help" for usage.');
  const portText = values.port ?? env.PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`Invalid port "${portText}": expected an integer from 0 to 65535.`);
  const workersText = values.num_workers ?? values['num-workers'];
  let workers: number | 'auto' | undefined;
  if (workersText !== undefined) {
    if (workersText === 'auto') workers = 'auto';
    else if (/^\d+$/.test(workersText) && Number(workersText) >= 1 && Number(workersText) <= 256) workers = Number(workersText);
    else throw new UsageError(`Invalid --num_workers "${workersText}": expected "auto" or an integer from 1 to 256.`);
  }
  return { configPath, host: values.host ?? env.HOST ?? DEFAULT_HOST, port, ...(workers !== undefined && { workers }) };
}

/** Runs Portico until SIGTERM/SIGINT. A start-up failure prints one line and sets exit code 1. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let running: RunningPortico;
  try {
    const options = parseCommandLine(argv, env);
    if (options === 'help') {
      process.stdout.write(HELP_TEXT);
      return;
    }
    const config = await loadCliConfig(options, env);
    if (cluster.isPrimary) {
      const workers = workerCount(options.workers ?? config.workers);
      if (workers > 1) {
        const logger = createLogger({ level: env.LOG_LEVEL ?? config.logLevel });
        await runWorkerPool({
          workers,
          databaseUrl: config.databaseUrl ?? env.DATABASE_URL,
          redisUrl: config.redisUrl ?? env.REDIS_URL,
          cooldownPolicy: cooldownPolicyOf(config),
          logger,
          stopTimeoutMs: (env.PORTICO_SHUTDOWN_GRACE_MS ? Number(env.PORTICO_SHUTDOWN_GRACE_MS) : 25_000) + 10_000,
        });
        process.exit(0);
      }
    }
    running = await start(options, env, config);
  } catch (error) {
    process.stderr.write(`portico: ${startupErrorMessage(error)}\n`);
    process.exitCode = 1;
    return;
  }
  installSignalHandlers(running);
}

async function loadCliConfig(options: CliOptions, env: NodeJS.ProcessEnv): Promise<PorticoConfig> {
  try {
    return await loadConfig(options.configPath, env);
  } catch (error) {
    if (error instanceof ConfigError && !error.message.includes(options.configPath)) {
      throw new ConfigError(`${options.configPath}: ${error.message}`);
    }
    throw error;
  }
}

async function start(options: CliOptions, env: NodeJS.ProcessEnv, config: PorticoConfig): Promise<RunningPortico> {
  const logger = createLogger({ level: env.LOG_LEVEL ?? config.logLevel });
  for (const warning of config.warnings) logger.warn({ config: options.configPath }, warning);
  if (config.masterKey === undefined) {
    // Loud: in the log, and on stderr whatever LOG_LEVEL says (a silenced log must not hide it).
    process.stderr.write(`portico: WARNING: ${OPEN_MODE_WARNING}\n`);
    logger.warn(OPEN_MODE_WARNING);
  }
  const standardExport = tracingWanted(env, { otelCallback: config.otelCallback });
  const langfuse = otelSdkDisabled(env) ? undefined : config.langfuseTraces;
  if (standardExport || langfuse !== undefined) {
    await enableTracing(env, logger, { redactKeyInfo: config.redactKeyInfo, standardExport, extraExports: langfuse === undefined ? [] : [langfuse] });
    propagateTraceparent(true);
  }
  // Imported here, not above: the primary of several workers serves nothing and need not load
  // the server (about 20 MB less RSS there).
  const { startServer } = await import('./server/start.ts');
  const running = await startServer({
    config,
    // As in LiteLLM, the config's own settings take the place of the environment variables.
    databaseUrl: config.databaseUrl ?? env.DATABASE_URL,
    host: options.host,
    port: options.port,
    logger,
    // Unset: the config decides (`require_auth_for_metrics_endpoint: false`), else the master key.
    metricsPublic: env.PORTICO_METRICS_PUBLIC === '1' || env.PORTICO_METRICS_PUBLIC === 'true' || config.metricsPublic === true,
    shutdownGraceMs: env.PORTICO_SHUTDOWN_GRACE_MS ? Number(env.PORTICO_SHUTDOWN_GRACE_MS) : undefined,
    redisUrl: config.redisUrl ?? env.REDIS_URL,
    redisPrefix: env.PORTICO_REDIS_PREFIX,
  });
  logger.info(
    {
      url: running.url,
      host: options.host,
      port: running.port,
      config: options.configPath,
      database: running.services.database.dialect,
      shared_state: (config.redisUrl ?? env.REDIS_URL) ? 'redis' : cluster.isWorker ? 'primary process' : 'memory',
      model_groups: [...running.services.router.modelGroups()],
    },
    'Portico is listening',
  );
  return running;
}

function installSignalHandlers(running: RunningPortico): void {
  const { logger } = running.services;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    running.close().then(
      async () => {
        // One line: a collector that is not there is the usual cause, and its stack says nothing more.
        await disableTracing().catch((error: unknown) => logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'shutdown: exporting the last spans failed'));
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** The innermost cause's message (a pool's error wraps the socket's). */
function causeMessage(error: Error): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  const innermost = current as Error;
  const address = (innermost as { hostname?: unknown; address?: unknown; port?: unknown });
  const where = typeof address.hostname === 'string' ? address.hostname : typeof address.address === 'string' ? `${address.address}${typeof address.port === 'number' ? `:${address.port}` : ''}` : undefined;
  return where !== undefined && !innermost.message.includes(where) ? `${innermost.message} (${where})` : innermost.message;
}

function startupErrorMessage(error: unknown): string {
  if (error instanceof UsageError || error instanceof ConfigError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') return `cannot listen: ${(error as Error).message}`;
  if (code === 'ECONNREFUSED') return `cannot reach the database: ${(error as Error).message}`;
  // At start there is no request to retry: say what failed underneath (the host not found, the
  // connection refused, the password refused), which names the host.
  if (error instanceof DatabaseUnavailableError) return `cannot reach the database: ${causeMessage(error)}`;
  return `failed to start: ${error instanceof Error ? error.message : String(error)}`;
}
