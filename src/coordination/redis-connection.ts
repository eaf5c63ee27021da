/**
 * The Redis connection behind the state several Portico instances share (`REDIS_URL`): rate-limit
 * counters and deployment cooldowns.
 *
 * Redis is an accelerator, not a dependency the gateway may die of: commands fail fast while the
 * connection is down (no offline queue, a short command timeout), the client reconnects in the
 * background for ever, and callers fail open (a limit is not enforced, a cooldown is kept locally)
 * with a warning that is logged at most once per `warnEveryMs`. An `error` listener is always
 * attached: an unhandled `error` event would otherwise end the process.
 *
 * A Redis that hangs (frozen, or cut off the network with the connection still open) would cost
 * every command the command timeout: callers send their commands through `send`, behind a circuit
 * breaker (`redis-circuit-breaker.ts`) that, once a command timed out, fails them at once until a
 * probe is answered again.
 */
import { type ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { RedisCircuitBreaker, RedisCircuitOpenError } from './redis-circuit-breaker.ts';

/** Default key prefix; `PORTICO_REDIS_PREFIX` changes it (several deployments, or test runs, on one Redis). */
export const DEFAULT_REDIS_PREFIX = 'portico:';

export interface RedisConnectionOptions {
  /** Prepended to every key and channel. */
  prefix?: string;
  logger: Logger;
  /** How long `connectRedis` waits for the first connection before going on without it. Default 3,000 ms. */
  readyTimeoutMs?: number;
  /** A command that has no answer after this fails (and the caller fails open). Default 1,000 ms. */
  commandTimeoutMs?: number;
  /** Fail-open warnings are logged at most this often. Default 30,000 ms. */
  warnEveryMs?: number;
  /** First cool-off of the circuit breaker after Redis stopped answering; doubles up to 30 s. Default 1,000 ms. */
  coolOffMs?: number;
}

export interface RedisConnection {
  /** For commands. Fails fast while disconnected. */
  readonly client: Redis;
  readonly prefix: string;
  /** Whether commands can be sent now: connected, and answering (the circuit breaker is closed). */
  readonly ready: boolean;
  /**
   * Runs `command` (which sends commands on `client`) unless Redis is treated as down, when it
   * rejects at once; a timeout or failures in a row make it so (see `redis-circuit-breaker.ts`).
   */
  send<T>(command: () => Promise<T>): Promise<T>;
  /**
   * A second connection, subscribed to `channel` each time it connects (the first time and after
   * every reconnect); `what` names it in fail-open warnings. Listen with `on('message')`.
   */
  subscriber(channel: string, what: string): Redis;
  /** Records that a Redis call failed and the caller went on without it (logged, throttled). */
  failedOpen(what: string, error: unknown): void;
  /** Closes every connection (after a QUIT when connected). */
  close(): Promise<void>;
}

/**
 * Runs a pipeline and answers its replies, or throws the first command's error: `exec` resolves
 * even when its commands failed (a timeout among them), and the circuit breaker must see that.
 */
export async function pipelineReplies(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error !== null);
  if (failed) throw failed[0];
  return results.map(([, reply]) => reply);
}

/** `redis://...` and `rediss://...` (TLS) URLs, as ioredis reads them. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url);
}

/**
 * Connects to `url`. Resolves once connected, or after `readyTimeoutMs` without a connection
 * (then with a warning: Portico serves on, failing open, and the client keeps reconnecting).
 */
export async function connectRedis(url: string, options: RedisConnectionOptions): Promise<RedisConnection> {
  const { logger } = options;
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  const warnEveryMs = options.warnEveryMs ?? 30_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
  const client = new Redis(url, {
    // A request must never wait for Redis to come back: fail now, fail open.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
    // Reconnect for ever, at most every 2 s.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    connectionName: 'portico',
  });
  const subscribers: Redis[] = [];
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  let wasReady = false;
  let closing = false;

  const warn = (fields: Record<string, unknown>, message: string): boolean => {
    const now = Date.now();
    if (now - lastWarnAt < warnEveryMs) return false;
    lastWarnAt = now;
    logger.warn(fields, message);
    return true;
  };
  // The recovery is logged when the outage was (the outage's warning is throttled).
  let outageLogged = false;
  const breaker = new RedisCircuitBreaker({
    probe: () => client.ping(),
    baseCoolOffMs: options.coolOffMs,
    onChange(open, detail) {
      if (open) {
        outageLogged = warn(
          { reason: detail.reason, cool_off_ms: detail.coolOffMs },
          'redis: not answering; treated as down (commands fail at once, shared rate limits and cooldowns fail open) until a probe is answered',
        );
      } else if (outageLogged) {
        outageLogged = false;
        logger.warn('redis: answering again; shared rate limits and cooldowns are back');
      }
    },
  });
  client.on('error', (error: Error) => {
    if (!closing) warn({ err: error.message }, 'redis: connection error; shared rate limits and cooldowns fail open (per instance) until it is back');
  });
  client.on('ready', () => {
    if (wasReady) logger.info('redis: reconnected; shared rate limits and cooldowns are back');
    wasReady = true;
    outageLogged = false;
    breaker.reset();
    lastWarnAt = Number.NEGATIVE_INFINITY;
  });

  const readyTimeoutMs = options.readyTimeoutMs ?? 3_000;
  if (client.status !== 'ready') {
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), readyTimeoutMs);
      const onReady = () => finish(true);
      function finish(ok: boolean) {
        clearTimeout(timer);
        client.off('ready', onReady);
        resolve(ok);
      }
      client.once('ready', onReady);
    });
    if (!connected) {
      logger.warn({ redis: redactUrl(url), waited_ms: readyTimeoutMs }, 'redis: not reachable at start; serving anyway, rate limits and cooldowns fail open (per instance) until it answers');
    }
  }

  function failedOpen(what: string, error: unknown): void {
    // Not sent: the breaker's opening was logged already.
    if (error instanceof RedisCircuitOpenError) return;
    warn({ err: error instanceof Error ? error.message : String(error), operation: what }, 'redis: call failed; failing open');
  }

  return {
    client,
    prefix,
    get ready() {
      return client.status === 'ready' && breaker.closed;
    },
    send(command) {
      return breaker.run(command);
    },
    subscriber(channel, what) {
      // Not ioredis's autoResubscribe: it sends SUBSCRIBE after a reconnect without handling its
      // failure, so a connection lost again meanwhile rejected it unhandled, which ends a Node
      // process. Subscribing on every `ready` instead handles each attempt's failure.
      const subscriber = client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, connectionName: 'portico-subscriber', autoResubscribe: false });
      subscriber.on('error', () => undefined); // the command connection reports trouble already
      subscriber.on('ready', () => {
        subscriber.subscribe(channel).catch((error: unknown) => failedOpen(`${what} subscribe`, error));
      });
      subscribers.push(subscriber);
      return subscriber;
    },
    failedOpen,
    async close() {
      closing = true;
      breaker.stop();
      await Promise.all([client, ...subscribers].map((connection) => quit(connection)));
    },
  };
}

async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  connection.disconnect(false);
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}
