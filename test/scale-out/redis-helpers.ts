/**
 * Redis for tests: the local server (`PORTICO_TEST_REDIS_URL`, default redis://127.0.0.1:6379),
 * a unique key prefix per suite (so suites running side by side never share a counter), removal
 * of the suite's keys, and a TCP proxy that can be cut and restored to simulate losing Redis.
 * Tests need the server running: they fail, not skip, without it.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis-connection.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';

export const TEST_REDIS_URL = process.env.PORTICO_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** `portico-test:<pid>:<random>:` */
export function uniqueRedisPrefix(label = 'test'): string {
  return `portico-${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deleteRedisKeys(prefix: string, url: string = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // connect() rejects with it
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A logger whose lines are kept in `lines` (parsed). */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: {
      write(line: string) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines };
}

export async function connectTestRedis(prefix: string, logger: Logger = capturingLogger().logger, url: string = TEST_REDIS_URL): Promise<RedisConnection> {
  return connectRedis(url, { prefix, logger, readyTimeoutMs: 2_000, warnEveryMs: 0 });
}

/** A TCP relay to Redis that a test can cut (`stop`) and restore (`start`) on the same port. */
export interface RedisRelay {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedisRelay(target: string = TEST_REDIS_URL): Promise<RedisRelay> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let listenPort = 0;
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(port || 6379), hostname);
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => (server as net.Server).listen(listenPort, '127.0.0.1', resolve));
    listenPort = (server.address() as net.AddressInfo).port;
  };
  await listen();
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    async stop() {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
  };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `ask` is refused with a 429: a limit counted in Redis holds again once it answers. */
export function untilRateLimited(ask: () => Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  return waitFor(async () => {
    try {
      await ask();
      return false;
    } catch (error) {
      return error instanceof OpenAI.RateLimitError;
    }
  }, timeoutMs, what);
}
