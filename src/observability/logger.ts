/**
 * Portico's structured logger: pino, JSON lines on stdout.
 *
 * Why pino: the cheapest mainstream JSON logger for Node (asynchronous-friendly, no formatting
 * on the hot path), and Fastify's native logger.
 *
 * What is never logged: API keys (ours or upstream) and prompt or completion bodies. The request
 * line carries ids, route, model, status and timings only; `redact` below is a second net for
 * fields someone might add by mistake.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Defaults to `info`; `LOG_LEVEL` in the CLI. */
  level?: string;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: DestinationStream;
}

const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'api_key',
  'masterKey',
  'master_key',
  'key',
  'headers.authorization',
  'headers["api-key"]',
  'req.headers.authorization',
  'req.headers["api-key"]',
  'body',
  'messages',
  'prompt',
  'input',
];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level && isLogLevel(options.level) ? options.level : 'info';
  const pinoOptions = {
    level,
    base: { service: 'portico' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}
