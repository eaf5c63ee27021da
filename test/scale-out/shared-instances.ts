/**
 * In-process Portico instances sharing one PostgreSQL database and one Redis prefix, in front of
 * one OpenAI simulator: the set-up of the suites that check state shared across instances.
 * Call inside a `describe`: it registers the `before` that starts them and the `after` that
 * closes them and removes the database and the Redis keys.
 */
import { after, before } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from './redis-helpers.ts';

export interface SharedInstances {
  /** Filled by the `before` hook, in start order. */
  readonly instances: PorticoUnderTest[];
  readonly simulator: () => OpenAISimulator;
}

export function useInstancesSharingPostgresAndRedis(label: string, count: number, configOf: (simulator: OpenAISimulator) => string): SharedInstances {
  const redisPrefix = uniqueRedisPrefix(label);
  const instances: PorticoUnderTest[] = [];
  let database: TestDatabase | undefined;
  let simulator: OpenAISimulator | undefined;
  before(async () => {
    database = await createTestDatabase('postgres');
    simulator = await startOpenAISimulator();
    for (let i = 0; i < count; i++) instances.push(await startPortico(configOf(simulator), { databaseUrl: database.url, redisUrl: TEST_REDIS_URL, redisPrefix }));
  });
  after(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await simulator?.close();
    await database?.dispose();
    await deleteRedisKeys(redisPrefix);
  });
  return {
    instances,
    simulator: () => {
      if (simulator === undefined) throw new Error('The simulator starts in the before hook.');
      return simulator;
    },
  };
}
