/**
 * The lines of an emulated batch as durable work items (issue 4).
 *
 * Item lifecycle: pending --lease--> running --complete--> succeeded | failed
 *                                            --retry-----> pending (after `nextAttemptAt`)
 *                 pending --settlePending--> cancelled | expired
 * A running item whose lease expired (its worker died) is leased again by the next worker.
 * Completion is guarded by the lease (owner and attempt number), so a line completes once even
 * when a slow worker finishes after its lease passed to another.
 *
 * Times are unix seconds with a fraction (`nowSeconds()`), except `finishedAt` (whole seconds).
 */
import { sql, type ExpressionBuilder, type Kysely, type QueryCreator, type Selectable } from 'kysely';
import type { Database } from './database.ts';
import { executeWriteOffLoop } from './off-loop-statement.ts';
import { affectedRows, nowSeconds, parseJsonText, toJsonText, toNullableJsonText, unixSeconds } from './row-mapping.ts';
import type { BatchItemsTable, DatabaseSchema } from './schema.ts';

export const BATCH_ITEM_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type BatchItemState = (typeof BATCH_ITEM_STATES)[number];

export interface BatchItemRecord {
  batchId: string;
  /** 0-based position of the line in the input file. */
  lineIndex: number;
  customId: string;
  /** The input line, parsed. */
  request: Record<string, unknown>;
  state: BatchItemState;
  /** Times leased so far (the current attempt's number while running). */
  attempts: number;
  nextAttemptAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** The output or error line, parsed; null until finished (and for settled items). */
  result: unknown;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  finishedAt: number | null;
}

/** An item without its request. */
export type BatchItemResult = Omit<BatchItemRecord, 'request'>;

/** An item as the result files' writer reads it: its result as stored (JSON text, null until finished). */
export interface BatchItemResultText {
  lineIndex: number;
  customId: string;
  state: BatchItemState;
  resultText: string | null;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

export interface NewBatchItem {
  batchId: string;
  lineIndex: number;
  customId: string;
  request: Record<string, unknown>;
}

export interface BatchItemKey {
  batchId: string;
  lineIndex: number;
}

/** Proof of a lease: who holds it and which attempt it is (`attempts` of the leased record). */
export interface BatchItemLease {
  owner: string;
  attempt: number;
}

export interface BatchItemOutcome {
  state: 'succeeded' | 'failed';
  /** The output line (succeeded) or error line (failed), JSON-serialisable. */
  result: unknown;
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  finishedAt?: number;
}

/** One finished line for `completeItems`. */
export interface BatchItemCompletion {
  key: BatchItemKey;
  lease: BatchItemLease;
  outcome: BatchItemOutcome;
}

const DEFAULT_CHUNK = 500;

/**
 * A turn of the event loop between chunks of a large batch. On SQLite every statement runs
 * synchronously, so loading or reading back 10,000 lines in one go held every live request for
 * the whole of it (tens of milliseconds, the live p99 beside a batch); between chunks they are
 * served.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Items a lease can take: running ones whose lease expired, pending ones due for an attempt. */
type DueKind = 'expired' | 'pending';

export class BatchItemStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Inserts items in chunks (one statement each), pulling from `items` as it goes so a large
   * file need not be held in memory. Idempotent on (batch, line): re-running after a crash
   * skips the lines already inserted. Answers how many items were read. `onChunk` is called
   * after each chunk is stored. `idleShare` paces a load that need not be fast: after each chunk
   * it waits that share of the time the chunk took (1: half the time loading, half leaving the
   * process to others), instead of one turn of the event loop.
   */
  async insertItems(
    items: Iterable<NewBatchItem> | AsyncIterable<NewBatchItem>,
    options: { chunkSize?: number; onChunk?: () => void; idleShare?: number } = {},
  ): Promise<number> {
    const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK);
    const idleShare = Math.max(0, options.idleShare ?? 0);
    let chunk: NewBatchItem[] = [];
    let count = 0;
    let chunkFrom = performance.now();
    for await (const item of items) {
      chunk.push(item);
      count += 1;
      if (chunk.length >= chunkSize) {
        await this.#insertChunk(chunk);
        options.onChunk?.();
        chunk = [];
        const busyMs = performance.now() - chunkFrom;
        await (idleShare > 0 ? pause(busyMs * idleShare) : yieldToEventLoop());
        chunkFrom = performance.now();
      }
    }
    if (chunk.length > 0) {
      await this.#insertChunk(chunk);
      options.onChunk?.();
    }
    return count;
  }

  /** One statement; on SQLite off the event loop (a batch's lines load while live requests are served). */
  async #insertChunk(chunk: readonly NewBatchItem[]): Promise<void> {
    const insert = this.#db.kysely
      .insertInto('batch_items')
      .values(
        chunk.map((item) => ({
          batch_id: item.batchId,
          line_index: item.lineIndex,
          custom_id: item.customId,
          request: toJsonText(item.request),
          state: 'pending',
        })),
      )
      .onConflict((oc) => oc.columns(['batch_id', 'line_index']).doNothing())
      .compile();
    await executeWriteOffLoop(this.#db, insert);
  }

  async getItem(key: BatchItemKey): Promise<BatchItemRecord | undefined> {
    const row = await this.#db.kysely
      .selectFrom('batch_items')
      .selectAll()
      .where('batch_id', '=', key.batchId)
      .where('line_index', '=', key.lineIndex)
      .executeTakeFirst();
    return row && toItemRecord(row);
  }

  /**
   * Leases up to `limit` items of one batch (or of any batch, with `batchId` null) to `owner` for
   * `leaseMs`: running items whose lease expired first, then pending items due for an attempt,
   * each in line order. Each leased item is `running` with `attempts` incremented. Never hands
   * one item to two leasers: `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite each statement
   * takes the write lock before it reads (run by the file's worker: `off-loop-statement.ts`).
   * Sorted by batch and line.
   *
   * The two kinds are leased by two statements, each on one `state`, so both walk the
   * `(batch_id, state, line_index)` index from its start: one query with an OR over the states
   * would scan the batch's finished lines on every lease (quadratic over a large batch).
   */
  async leaseItems(
    batchId: string | null,
    owner: string,
    limit: number,
    leaseMs: number,
    now: number = nowSeconds(),
    options: { expired?: boolean } = {},
  ): Promise<BatchItemRecord[]> {
    const leaseExpiresAt = now + leaseMs / 1000;
    // `expired: false` leases pending items only: the engine looks for expired leases (a crashed
    // worker's, a minute old) once per poll interval, not in every fill.
    const withExpired = options.expired ?? true;
    const dueItems = (qb: QueryCreator<DatabaseSchema>, kind: DueKind, count: number) => {
      let candidates = qb.selectFrom('batch_items').select(['batch_id', 'line_index']);
      if (batchId !== null) candidates = candidates.where('batch_id', '=', batchId);
      candidates =
        kind === 'expired'
          ? candidates.where('state', '=', 'running').where('lease_expires_at', '<=', now)
          : candidates.where('state', '=', 'pending').where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]));
      return candidates.orderBy('batch_id').orderBy('line_index').limit(count);
    };
    const leasedValues = {
      state: 'running',
      lease_owner: owner,
      lease_expires_at: leaseExpiresAt,
    } as const;
    if (this.#db.dialect === 'postgres') {
      const db = this.#db.kysely;
      const leaseKind = (kind: DueKind, count: number) =>
        db
          .with('next', (qb) => dueItems(qb, kind, count).forUpdate().skipLocked())
          .updateTable('batch_items')
          .set((eb) => ({ ...leasedValues, attempts: eb('batch_items.attempts', '+', 1) }))
          .from('next')
          .whereRef('batch_items.batch_id', '=', 'next.batch_id')
          .whereRef('batch_items.line_index', '=', 'next.line_index')
          .returningAll('batch_items')
          .execute();
      const expired = withExpired ? await leaseKind('expired', limit) : [];
      const pending = expired.length < limit ? await leaseKind('pending', limit - expired.length) : [];
      return sortByLine([...expired, ...pending].map(toItemRecord));
    }
    // SQLite: each kind is one statement (atomic by itself), run off the event loop.
    const db = this.#db.kysely;
    const leaseKind = async (kind: DueKind, count: number) => {
      const query = db
        .updateTable('batch_items')
        .set((eb) => ({ ...leasedValues, attempts: eb('attempts', '+', 1) }))
        .where((eb) => eb(eb.refTuple('batch_id', 'line_index'), 'in', dueItems(db, kind, count).$asTuple('batch_id', 'line_index')))
        .returningAll()
        .compile();
      return (await executeWriteOffLoop(this.#db, query)).rows;
    };
    const expired = withExpired ? await leaseKind('expired', limit) : [];
    const pending = expired.length < limit ? await leaseKind('pending', limit - expired.length) : [];
    return sortByLine([...expired, ...pending].map(toItemRecord));
  }

  /** Extends a lease; answers false if the item is no longer this lease's. */
  async renewLease(key: BatchItemKey, lease: BatchItemLease, leaseMs: number, now: number = nowSeconds()): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('batch_items')
      .set({ lease_expires_at: now + leaseMs / 1000 })
      .where((eb) => leaseHolds(eb, key, lease))
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /**
   * Records the item's result if `lease` still holds it. Answers false (and changes nothing) if
   * the lease passed to another worker or the item already finished: a line completes once.
   */
  async completeItem(key: BatchItemKey, lease: BatchItemLease, outcome: BatchItemOutcome): Promise<boolean> {
    return completeOne(this.#db.kysely, { key, lease, outcome });
  }

  /**
   * `completeItem` for many items in one statement (`UPDATE ... FROM (VALUES ...)`): one round trip and one commit for a group of finished lines
   * instead of one each. Answers, per entry, whether it was recorded (same guard as
   * `completeItem`). All or nothing on failure.
   */
  async completeItems(entries: readonly BatchItemCompletion[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const finishedAt = unixSeconds();
    // PostgreSQL types a VALUES list from its first row, hence the casts; SQLite takes values as they are.
    const postgres = this.#db.dialect === 'postgres';
    const typed = (value: unknown, type: string) => (postgres ? sql`${value}::${sql.raw(type)}` : sql`${value}`);
    const rows = entries.map(({ key, lease, outcome }) => {
      const values = [
        key.batchId,
        typed(key.lineIndex, 'integer'),
        lease.owner,
        typed(lease.attempt, 'integer'),
        outcome.state,
        typed(toNullableJsonText(outcome.result), 'text'),
        typed(outcome.inputTokens ?? 0, 'integer'),
        typed(outcome.outputTokens ?? 0, 'integer'),
        typed(outcome.cachedTokens ?? 0, 'integer'),
        typed(outcome.finishedAt ?? finishedAt, 'bigint'),
      ];
      return sql`(${sql.join(values)})`;
    });
    // One statement on both: one compile, one execution and one commit per group (on SQLite, a
    // statement per line cost as much as the rest of the engine's work on that line).
    const { rows: recorded } = postgres
      ? await sql<{ batch_id: string; line_index: number }>`
      UPDATE batch_items AS b
      SET state = v.state, result = v.result, input_tokens = v.input_tokens, output_tokens = v.output_tokens,
          cached_tokens = v.cached_tokens, finished_at = v.finished_at,
          lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL
      FROM (VALUES ${sql.join(rows)}) AS v(batch_id, line_index, owner, attempt, state, result, input_tokens, output_tokens, cached_tokens, finished_at)
      WHERE b.batch_id = v.batch_id AND b.line_index = v.line_index
        AND b.state = 'running' AND b.lease_owner = v.owner AND b.attempts = v.attempt
      RETURNING b.batch_id, b.line_index`.execute(this.#db.kysely)
      : // SQLite: off the event loop (up to 10 ms a group under a busy batch).
        await executeWriteOffLoop(this.#db, sql<{ batch_id: string; line_index: number }>`
      WITH v(batch_id, line_index, owner, attempt, state, result, input_tokens, output_tokens, cached_tokens, finished_at) AS (VALUES ${sql.join(rows)})
      UPDATE batch_items
      SET state = v.state, result = v.result, input_tokens = v.input_tokens, output_tokens = v.output_tokens,
          cached_tokens = v.cached_tokens, finished_at = v.finished_at,
          lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL
      FROM v
      WHERE batch_items.batch_id = v.batch_id AND batch_items.line_index = v.line_index
        AND batch_items.state = 'running' AND batch_items.lease_owner = v.owner AND batch_items.attempts = v.attempt
      RETURNING batch_id, line_index`.compile(this.#db.kysely));
    const done = new Set(recorded.map((row) => `${row.batch_id}\n${Number(row.line_index)}`));
    return entries.map(({ key }) => done.has(`${key.batchId}\n${key.lineIndex}`));
  }

  /** Returns a leased item to `pending`, to be tried again at `nextAttemptAt`. Guarded like completion. */
  async retryItem(key: BatchItemKey, lease: BatchItemLease, nextAttemptAt: number): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('batch_items')
      .set({ state: 'pending', next_attempt_at: nextAttemptAt, lease_owner: null, lease_expires_at: null })
      .where((eb) => leaseHolds(eb, key, lease))
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /**
   * Settles the batch's items that have not started into `cancelled` or `expired` (result null:
   * the output writer makes their lines from `customId`). With `includeRunning`, running items
   * are settled too (their late completion will then be refused). Answers how many.
   */
  async settlePending(
    batchId: string,
    state: 'cancelled' | 'expired',
    options: { includeRunning?: boolean; finishedAt?: number } = {},
  ): Promise<number> {
    const states = options.includeRunning ? ['pending', 'running'] : ['pending'];
    const result = await this.#db.kysely
      .updateTable('batch_items')
      .set({
        state,
        finished_at: options.finishedAt ?? unixSeconds(),
        lease_owner: null,
        lease_expires_at: null,
        next_attempt_at: null,
      })
      .where('batch_id', '=', batchId)
      .where('state', 'in', states)
      .executeTakeFirst();
    return affectedRows(result);
  }

  /** Running items whose lease expired go back to pending (e.g. at start-up); answers how many. */
  async resetExpiredLeases(now: number = nowSeconds(), batchId?: string): Promise<number> {
    let query = this.#db.kysely
      .updateTable('batch_items')
      .set({ state: 'pending', lease_owner: null, lease_expires_at: null })
      .where('state', '=', 'running')
      .where('lease_expires_at', '<=', now);
    if (batchId !== undefined) query = query.where('batch_id', '=', batchId);
    return affectedRows(await query.executeTakeFirst());
  }

  /** How many of the batch's items are in each state (every state present, zero if none). */
  async countByState(batchId: string): Promise<Record<BatchItemState, number>> {
    const rows = await this.#db.kysely
      .selectFrom('batch_items')
      .select((eb) => ['state', eb.fn.countAll<number>().as('count')])
      .where('batch_id', '=', batchId)
      .groupBy('state')
      .execute();
    const counts = Object.fromEntries(BATCH_ITEM_STATES.map((s) => [s, 0])) as Record<BatchItemState, number>;
    for (const row of rows) counts[row.state as BatchItemState] = Number(row.count);
    return counts;
  }

  /**
   * Every item of the batch in line order, without its request, read page by page (keyset on
   * `line_index`), so writing a 50,000-line output file holds one page in memory and no
   * connection between pages. `states` keeps only items in those states (an output file's pass
   * need not read, and parse, the lines of the error file).
   */
  async *iterateResults(batchId: string, options: { pageSize?: number; states?: readonly BatchItemState[] } = {}): AsyncGenerator<BatchItemResult> {
    const pages = pagesByLine(options, (after, pageSize) =>
      resultPage(this.#db.kysely, batchId, options.states, after, pageSize)
        .select(['batch_id', 'line_index', 'custom_id', 'state', 'attempts', 'next_attempt_at', 'lease_owner', 'lease_expires_at', 'result', 'input_tokens', 'output_tokens', 'cached_tokens', 'finished_at'])
        .execute(),
    );
    for await (const row of pages) yield toItemResult(row);
  }

  /**
   * `iterateResults` for writing the result files: only what a result line is made of, its result
   * as the JSON text stored (`toNullableJsonText`), not parsed.
   */
  async *iterateResultTexts(batchId: string, options: { pageSize?: number; states?: readonly BatchItemState[] } = {}): AsyncGenerator<BatchItemResultText> {
    const pages = pagesByLine(options, (after, pageSize) =>
      resultPage(this.#db.kysely, batchId, options.states, after, pageSize)
        .select(['line_index', 'custom_id', 'state', 'result', 'input_tokens', 'output_tokens', 'cached_tokens'])
        .execute(),
    );
    for await (const row of pages) {
      yield {
        lineIndex: Number(row.line_index),
        customId: row.custom_id,
        state: row.state as BatchItemState,
        resultText: row.result,
        inputTokens: Number(row.input_tokens),
        outputTokens: Number(row.output_tokens),
        cachedTokens: Number(row.cached_tokens),
      };
    }
  }

  /**
   * Ids of batches in a terminal status that still have items (their output and error files
   * are written, so the items can go), up to `limit`.
   */
  async finishedBatchesWithItems(limit = 100): Promise<string[]> {
    const rows = await this.#db.kysely
      .selectFrom('batches')
      .select('id')
      .where('status', 'in', ['completed', 'failed', 'expired', 'cancelled'])
      .where((eb) => eb.exists(eb.selectFrom('batch_items').select('batch_items.line_index').whereRef('batch_items.batch_id', '=', 'batches.id')))
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  /** Removes the batch's items (after its output is written); answers how many. */
  async deleteItems(batchId: string): Promise<number> {
    const result = await this.#db.kysely.deleteFrom('batch_items').where('batch_id', '=', batchId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** The item `key` while `lease` still holds it: running, leased to its owner, on its attempt. */
function leaseHolds(eb: ExpressionBuilder<DatabaseSchema, 'batch_items'>, key: BatchItemKey, lease: BatchItemLease) {
  return eb.and([
    eb('batch_id', '=', key.batchId),
    eb('line_index', '=', key.lineIndex),
    eb('state', '=', 'running'),
    eb('lease_owner', '=', lease.owner),
    eb('attempts', '=', lease.attempt),
  ]);
}

async function completeOne(db: Kysely<DatabaseSchema>, { key, lease, outcome }: BatchItemCompletion): Promise<boolean> {
  const result = await db
    .updateTable('batch_items')
    .set({
      state: outcome.state,
      result: toNullableJsonText(outcome.result),
      input_tokens: outcome.inputTokens ?? 0,
      output_tokens: outcome.outputTokens ?? 0,
      cached_tokens: outcome.cachedTokens ?? 0,
      finished_at: outcome.finishedAt ?? unixSeconds(),
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_at: null,
    })
    .where((eb) => leaseHolds(eb, key, lease))
    .executeTakeFirst();
  return affectedRows(result) === 1;
}

/**
 * One page of a batch's items for its result files (after a line index, in line order, at most
 * `pageSize`, only `states` when given), for the caller to select the columns it reads.
 */
function resultPage(db: Kysely<DatabaseSchema>, batchId: string, states: readonly BatchItemState[] | undefined, afterLine: number, pageSize: number) {
  return db
    .selectFrom('batch_items')
    .where('batch_id', '=', batchId)
    .where('line_index', '>', afterLine)
    .$if(states !== undefined, (query) => query.where('state', 'in', states!))
    .orderBy('line_index')
    .limit(pageSize);
}

/**
 * The rows of `readPage` (rows after a line index, in line order, at most `pageSize`), page after
 * page until one comes back short, with a turn of the event loop between pages.
 */
async function* pagesByLine<Row extends { line_index: number }>(
  options: { pageSize?: number },
  readPage: (afterLine: number, pageSize: number) => Promise<Row[]>,
): AsyncGenerator<Row> {
  const pageSize = Math.max(1, options.pageSize ?? 250);
  let after = -1;
  for (;;) {
    const rows = await readPage(after, pageSize);
    yield* rows;
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1].line_index);
    await yieldToEventLoop();
  }
}

function sortByLine(records: BatchItemRecord[]): BatchItemRecord[] {
  return records.sort((a, b) => (a.batchId < b.batchId ? -1 : a.batchId > b.batchId ? 1 : a.lineIndex - b.lineIndex));
}

function toItemResult(row: Omit<Selectable<BatchItemsTable>, 'request'>): BatchItemResult {
  return {
    batchId: row.batch_id,
    lineIndex: Number(row.line_index),
    customId: row.custom_id,
    state: row.state as BatchItemState,
    attempts: Number(row.attempts),
    nextAttemptAt: nullableNumber(row.next_attempt_at),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: nullableNumber(row.lease_expires_at),
    result: parseJsonText<unknown>(row.result, null),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedTokens: Number(row.cached_tokens),
    finishedAt: nullableNumber(row.finished_at),
  };
}

function toItemRecord(row: Selectable<BatchItemsTable>): BatchItemRecord {
  return { ...toItemResult(row), request: parseJsonText<Record<string, unknown>>(row.request, {}) };
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}
