/**
 * LiteLLM's `general_settings.database_connection_pool_limit` and `database_connection_timeout`
 * as Portico reads them: the PostgreSQL pool of a process opens at most that many connections,
 * and a query that waits longer than the timeout for one fails as 503 `database_unavailable`
 * (the SDKs retry it), not as a 500, and not by waiting for ever.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { parseConfig } from '../../src/config/load-config.ts';
import { DatabaseUnavailableError } from '../../src/spec/errors.ts';
import { createTestDatabase } from '../helpers/databases.ts';

describe('PostgreSQL pool limits', () => {
  it('reads the LiteLLM settings into the database settings, and warns that a pool of 1 is 2', () => {
    const config = parseConfig(
      `
model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}]
general_settings: {database_connection_pool_limit: 3, database_connection_timeout: 2.5}
`,
      {},
    );
    assert.deepEqual(config.database, { queryTimeoutMs: 30_000, poolMax: 3, connectionTimeoutMs: 2_500 });
    assert.deepEqual(config.warnings, []);
    const one = parseConfig('model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}]\ngeneral_settings: {database_connection_pool_limit: 1}\n', {});
    assert.match(one.warnings.join('\n'), /database_connection_pool_limit: is 1: .* so 2/);
    const unset = parseConfig('model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}]\n', {});
    assert.deepEqual(unset.database, { queryTimeoutMs: 30_000 });
  });

  it('opens at most database_connection_pool_limit connections however many queries run at once', async () => {
    const test = await createTestDatabase('postgres');
    try {
      const limited = await test.openAnother({ poolMax: 3 });
      const pids = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(limited.kysely);
          return rows[0].pid;
        }),
      );
      assert.equal(new Set(pids).size, 3, `backends used: ${[...new Set(pids)].join(', ')}`);
    } finally {
      await test.dispose();
    }
  });

  it('fails a query that waited database_connection_timeout for a connection with a 503, and serves the next once one is free', async () => {
    const test = await createTestDatabase('postgres');
    try {
      const limited = await test.openAnother({ poolMax: 2, connectionTimeoutMs: 300 });
      const holders = [sql`select pg_sleep(1.5)`.execute(limited.kysely), sql`select pg_sleep(1.5)`.execute(limited.kysely)];
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      const waited = sql`select 1 as one`.execute(limited.kysely);
      await assert.rejects(waited, (error: unknown) => error instanceof DatabaseUnavailableError && error.httpStatus === 503);
      const waitedMs = Date.now() - started;
      assert.ok(waitedMs >= 250 && waitedMs < 1_400, `failed after ${waitedMs} ms, not about the 300 ms timeout`);
      await Promise.all(holders);
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(limited.kysely);
      assert.equal(rows[0].one, 1);
    } finally {
      await test.dispose();
    }
  });
});
