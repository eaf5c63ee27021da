/**
 * The spend ledger's table (`spend_logs`, migration 0009): rows written many at a time (one
 * multi-row INSERT per statement, the spend they carry added to their keys, users and teams in
 * the same transaction), read back filtered and paginated, summed for reports, and deleted in
 * batches once older than the retention.
 */
import { CompiledQuery, sql, type Selectable, type Transaction } from 'kysely';
import type { Database, DatabaseSchema, SqlDialectName } from './database.ts';
import type { SpendLogsTable } from './schema.ts';
import { toPage, type Page } from './page.ts';
import type { SqliteWorker } from './sqlite-worker.ts';
import { addSubjectSpend, CROSSES_A_BUDGET, workerAddSpendSource, writeCrossingEvents, type BudgetCrossing, type BudgetCrossingEvents } from './budget-crossings.ts';

export interface SpendLogRow {
  id: string;
  requestId: string;
  /** The endpoint path without `/v1` (`/chat/completions`), or `batch`. */
  callType: string;
  keyId: string | null;
  userId: string | null;
  teamId: string | null;
  modelGroup: string;
  deploymentId: string | null;
  provider: string | null;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  spend: number;
  status: 'success' | 'failure';
  latencyMs: number;
  /** Unix seconds, fractional. */
  startedAt: number;
  endedAt: number;
  batchId: string | null;
  /** 1 for a live request; the lines of a batch. */
  requestCount: number;
  /** The request's and its deployment's tags (LiteLLM's `request_tags`); absent or null: none (batch rows have none). */
  requestTags?: readonly string[] | null;
  /** Who the request was for, as the client named them (LiteLLM's `end_user`); absent or null: nobody. */
  endUser?: string | null;
}

export interface SpendLogFilter {
  keyId?: string;
  userId?: string;
  teamId?: string;
  modelGroup?: string;
  requestId?: string;
  /** The rows of one end user (LiteLLM's `end_user`). */
  endUser?: string;
  /** Unix seconds, inclusive. */
  from?: number;
  /** Unix seconds, exclusive. */
  to?: number;
}

export type SpendReportDimension = 'team' | 'key' | 'user' | 'model' | 'day';

/** One cell of a spend report: a day, a value of the dimension, a model group. */
export interface SpendReportCell {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** The dimension's value (team id, key id, user id, model group); the day itself for `day`. */
  group: string | null;
  modelGroup: string;
  spend: number;
  totalTokens: number;
  promptTokens: number;
  completionTokens: number;
  requests: number;
}

/** Rows per INSERT: 22 parameters each stays under SQLite's 32,766 and PostgreSQL's 65,535. */
export const MAX_ROWS_PER_INSERT = 1000;

const DAY_SECONDS = 86_400;

export class SpendLogStore {
  readonly #db: Database;
  readonly #budgetEvents: BudgetCrossingEvents | undefined;

  /** `budgetEvents`: the events of budgets the spend crosses, written in the flush's transaction. */
  constructor(db: Database, options: { budgetEvents?: BudgetCrossingEvents } = {}) {
    this.#db = db;
    this.#budgetEvents = options.budgetEvents;
  }

  /**
   * Inserts `rows` (at most `MAX_ROWS_PER_INSERT` per statement) and, in the same transaction,
   * adds their spend to their keys (one UPDATE per distinct key). All or nothing: a failed flush
   * leaves no row and no spend behind, so it can be retried as a whole.
   */
  async insertMany(rows: readonly SpendLogRow[]): Promise<SpendLogRow[]> {
    if (rows.length === 0) return [];
    const worker = this.#db.sqliteWorker();
    if (worker !== undefined) {
      const written = await insertOffThread(worker, rows, this.#budgetEvents !== undefined);
      // Undefined: the flush would cross a budget and was rolled back there; it runs here, where
      // the budget's events are written in its transaction (rare: once per budget and period).
      if (written !== undefined) return written;
    }
    const dialect = this.#db.dialect;
    const perStatement = ROWS_PER_STATEMENT[dialect];
    let eventsWritten: (() => void) | undefined;
    const fresh = await this.#db.kysely.transaction().execute(async (trx) => {
      const insertedIds = new Set<string>();
      for (let start = 0; start < rows.length; start += perStatement) {
        const chunk = rows.slice(start, start + perStatement);
        // A retried flush whose first commit did land (its answer lost on the wire) skips those rows.
        for (const id of await insertChunk(trx, dialect, chunk)) insertedIds.add(id);
      }
      const fresh = insertedIds.size === rows.length ? [...rows] : rows.filter((row) => insertedIds.has(row.id));
      eventsWritten = await writeCrossingEvents(trx, await addSpendTo(trx, fresh), this.#budgetEvents);
      return fresh;
    });
    eventsWritten?.();
    return fresh;
  }

  /**
   * Inserts one batch's row inside the transaction that records its cost (`BatchStore.recordCostOnce`):
   * the unique `batch_id` makes a second insert fail rather than count twice. Answers the budgets
   * of the user and team the cost crossed (the caller writes their events).
   */
  static async insertBatchRow(trx: Transaction<DatabaseSchema>, row: SpendLogRow): Promise<BudgetCrossing[]> {
    await trx.insertInto('spend_logs').values(toTableRow(row)).execute();
    return addSpendTo(trx, [row], { skipKeys: true });
  }

  /** Newest first, keyset-paginated by (`started_at`, `id`); `offset` for page-numbered reads. */
  async list(filter: SpendLogFilter, options: { limit: number; offset?: number }): Promise<Page<SpendLogRow>> {
    const rows = await this.#filtered(filter)
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1)
      .offset(options.offset ?? 0)
      .execute();
    return toPage(rows.map(fromTableRow), options.limit);
  }

  async count(filter: SpendLogFilter): Promise<number> {
    const row = await this.#filtered(filter).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Spend and tokens summed by UTC day, the dimension and model group. */
  async report(dimension: SpendReportDimension, filter: SpendLogFilter): Promise<SpendReportCell[]> {
    const day = this.#db.dialect === 'postgres' ? sql<number>`floor(started_at / ${sql.lit(DAY_SECONDS)})::bigint` : sql<number>`cast(started_at / ${sql.lit(DAY_SECONDS)} as integer)`;
    const group = dimensionColumn(dimension);
    const rows = await this.#filtered(filter)
      .select([
        day.as('day'),
        sql<string | null>`${sql.ref(group)}`.as('grp'),
        'model_group',
        (eb) => eb.fn.sum<number>('spend').as('spend'),
        (eb) => eb.fn.sum<number>('total_tokens').as('total_tokens'),
        (eb) => eb.fn.sum<number>('prompt_tokens').as('prompt_tokens'),
        (eb) => eb.fn.sum<number>('completion_tokens').as('completion_tokens'),
        (eb) => eb.fn.sum<number>('request_count').as('requests'),
      ])
      .groupBy([day, sql.ref(group), 'model_group'])
      .orderBy('day')
      .execute();
    return rows.map((row) => {
      const dayText = new Date(Number(row.day) * DAY_SECONDS * 1000).toISOString().slice(0, 10);
      return {
        day: dayText,
        group: dimension === 'day' ? dayText : (row.grp ?? null),
        modelGroup: row.model_group,
        spend: Number(row.spend ?? 0),
        totalTokens: Number(row.total_tokens ?? 0),
        promptTokens: Number(row.prompt_tokens ?? 0),
        completionTokens: Number(row.completion_tokens ?? 0),
        requests: Number(row.requests ?? 0),
      };
    });
  }

  /** The `limit` values of `dimension` that spent most over the filter, most first, with their spend. */
  async topSpenders(dimension: 'key' | 'model', filter: SpendLogFilter, limit: number): Promise<Array<{ group: string | null; spend: number }>> {
    const column = dimensionColumn(dimension);
    const rows = await this.#filtered(filter)
      .select([sql<string | null>`${sql.ref(column)}`.as('grp'), (eb) => eb.fn.sum<number>('spend').as('spend')])
      .groupBy(sql.ref(column))
      .orderBy('spend', 'desc')
      .orderBy('grp')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ group: row.grp ?? null, spend: Number(row.spend ?? 0) }));
  }

  /**
   * Spend and rows by tag over the filter (LiteLLM's `/spend/tags`), most spent first: each tag of
   * a row's `request_tags` counts the row once. The tags are read by the database's JSON functions
   * (SQLite's `json_each`, PostgreSQL's `jsonb_array_elements_text`), not by loading the rows.
   */
  async spendByTag(filter: SpendLogFilter): Promise<Array<{ tag: string; requests: number; spend: number }>> {
    // One row per tag of each row, its text in `tag_list.value` on both databases.
    const tagList =
      this.#db.dialect === 'postgres'
        ? sql<{ value: string }>`lateral (select jsonb_array_elements_text(spend_logs.request_tags::jsonb) as value)`.as('tag_list')
        : sql<{ value: string }>`json_each(spend_logs.request_tags)`.as('tag_list');
    const rows = await this.#filtered(filter)
      .where('request_tags', 'is not', null)
      .innerJoin(tagList, (join) => join.onTrue())
      .select(['tag_list.value as tag', (eb) => eb.fn.countAll<number>().as('requests'), (eb) => eb.fn.sum<number>('spend_logs.spend').as('spend')])
      .groupBy('tag_list.value')
      .orderBy('spend', 'desc')
      .orderBy('tag')
      .execute();
    return rows.map((row) => ({ tag: String(row.tag), requests: Number(row.requests), spend: Number(row.spend ?? 0) }));
  }

  /** Sum of spend over the filter (budgets over a window, `/user/info` totals). */
  async totalSpend(filter: SpendLogFilter): Promise<number> {
    const row = await this.#filtered(filter).select((eb) => eb.fn.sum<number>('spend').as('spend')).executeTakeFirst();
    return Number(row?.spend ?? 0);
  }

  /** Deletes at most `limit` rows that started before `cutoff` (unix seconds); answers how many. */
  async deleteOlderThan(cutoff: number, limit: number): Promise<number> {
    const doomed = this.#db.kysely.selectFrom('spend_logs').select('id').where('started_at', '<', cutoff).orderBy('started_at').limit(limit);
    const result = await this.#db.kysely.deleteFrom('spend_logs').where('id', 'in', doomed).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  #filtered(filter: SpendLogFilter) {
    let query = this.#db.kysely.selectFrom('spend_logs');
    if (filter.keyId !== undefined) query = query.where('key_id', '=', filter.keyId);
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.teamId !== undefined) query = query.where('team_id', '=', filter.teamId);
    if (filter.modelGroup !== undefined) query = query.where('model_group', '=', filter.modelGroup);
    if (filter.requestId !== undefined) query = query.where('request_id', '=', filter.requestId);
    if (filter.endUser !== undefined) query = query.where('end_user', '=', filter.endUser);
    if (filter.from !== undefined) query = query.where('started_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('started_at', '<', filter.to);
    return query;
  }
}

function dimensionColumn(dimension: SpendReportDimension): 'team_id' | 'key_id' | 'user_id' | 'model_group' {
  switch (dimension) {
    case 'team':
      return 'team_id';
    case 'key':
      return 'key_id';
    case 'user':
      return 'user_id';
    case 'model':
    case 'day':
      return 'model_group';
  }
}

/**
 * Adds each row's spend to its key (`api_keys.spend`), its user (`users.spend`) and its team
 * (`teams.spend`): one UPDATE per distinct key, user and team, in the caller's transaction (a user
 * or team with no row is no error: keys may name ids that were never created); answers the
 * budgets it crossed (`budget-crossings.ts`). `skipKeys`: the batch path already adds to its key
 * in `recordCostOnce`.
 */
async function addSpendTo(trx: Transaction<DatabaseSchema>, rows: readonly SpendLogRow[], options: { skipKeys?: boolean } = {}): Promise<BudgetCrossing[]> {
  const byKey = new Map<string, number>();
  const byUser = new Map<string, number>();
  const byTeam = new Map<string, number>();
  const add = (totals: Map<string, number>, id: string | null, amount: number) => {
    if (id !== null) totals.set(id, (totals.get(id) ?? 0) + amount);
  };
  for (const row of rows) {
    if (row.spend === 0) continue;
    if (!options.skipKeys) add(byKey, row.keyId, row.spend);
    add(byUser, row.userId, row.spend);
    add(byTeam, row.teamId, row.spend);
  }
  return addSubjectSpend(trx, { keys: byKey, users: byUser, teams: byTeam });
}

/** The table's columns in the order `insertParameters` writes them. */
const INSERT_COLUMNS = [
  'id', 'request_id', 'call_type', 'key_id', 'user_id', 'team_id', 'model_group', 'deployment_id', 'provider', 'model',
  'prompt_tokens', 'completion_tokens', 'cached_tokens', 'reasoning_tokens', 'total_tokens', 'spend', 'status',
  'latency_ms', 'started_at', 'ended_at', 'batch_id', 'request_count', 'request_tags', 'end_user',
] as const satisfies readonly (keyof SpendLogsTable)[];

/**
 * Rows per INSERT. SQLite runs in-process: a short statement, prepared once and kept by the
 * dialect's statement cache (one text per chunk size up to this), costs a fraction of compiling a
 * thousand-row statement for every flush (`npm run bench`: the flush was most of the ledger's CPU).
 * PostgreSQL pays a round trip per statement, so it takes as many rows as the parameter limit allows.
 */
const ROWS_PER_STATEMENT = { sqlite: 32, postgres: MAX_ROWS_PER_INSERT } as const;

const insertTexts = new Map<string, string>();

/**
 * Inserts `chunk` (rows already stored are skipped); answers the ids it inserted.
 *
 * PostgreSQL reads them back with `RETURNING`. SQLite does not: its `RETURNING` collects the rows
 * in a temporary table written through the temp file, a dozen small writes per row (measured 44 us
 * of CPU per row against 6 without). A local commit cannot be lost on the wire, so a row already
 * there is the rare case; when the count of inserted rows says it happened, the chunk's insert is
 * rolled back to its savepoint and done again one row at a time, each insert's count telling
 * whether its row was new.
 */
async function insertChunk(trx: Transaction<DatabaseSchema>, dialect: SqlDialectName, chunk: readonly SpendLogRow[]): Promise<string[]> {
  const statement = CompiledQuery.raw(insertStatementText(dialect, chunk.length), insertParameters(chunk));
  if (dialect === 'postgres') return (await trx.executeQuery<{ id: string }>(statement)).rows.map((row) => row.id);
  await trx.executeQuery(CompiledQuery.raw('savepoint spend_chunk'));
  const result = await trx.executeQuery(statement);
  if (Number(result.numAffectedRows ?? 0) === chunk.length) {
    await trx.executeQuery(CompiledQuery.raw('release spend_chunk'));
    return chunk.map((row) => row.id);
  }
  await trx.executeQuery(CompiledQuery.raw('rollback to spend_chunk'));
  await trx.executeQuery(CompiledQuery.raw('release spend_chunk'));
  const inserted: string[] = [];
  for (const row of chunk) {
    const one = await trx.executeQuery(CompiledQuery.raw(insertStatementText(dialect, 1), insertParameters([row])));
    if (Number(one.numAffectedRows ?? 0) === 1) inserted.push(row.id);
  }
  return inserted;
}

/**
 * `INSERT ... VALUES (...), ... ON CONFLICT (id) DO NOTHING` for `rowCount` rows (with
 * `RETURNING id` on PostgreSQL, see `insertChunk`), built once per size.
 */
function insertStatementText(dialect: SqlDialectName, rowCount: number): string {
  const cacheKey = `${dialect}:${rowCount}`;
  let text = insertTexts.get(cacheKey);
  if (text === undefined) {
    let parameter = 0;
    const tuple = () => (dialect === 'postgres' ? `(${INSERT_COLUMNS.map(() => `$${++parameter}`).join(', ')})` : SQLITE_TUPLE);
    const tuples = Array.from({ length: rowCount }, tuple).join(', ');
    const returning = dialect === 'postgres' ? ' returning "id"' : '';
    text = `${INSERT_HEAD}${tuples}${INSERT_TAIL}${returning}`;
    insertTexts.set(cacheKey, text);
  }
  return text;
}

const INSERT_HEAD = `insert into "spend_logs" (${INSERT_COLUMNS.map((column) => `"${column}"`).join(', ')}) values `;
const INSERT_TAIL = ' on conflict ("id") do nothing';
const SQLITE_TUPLE = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;

/**
 * SQLite files: the same transaction (rows, then their spend on keys, users and teams) run by the
 * database's worker thread on its own connection (`sqlite-worker.ts`), so that the event loop
 * pays only for flattening the rows into one array of values and copying it to the worker
 * (`npm run bench`: the INSERT on the event loop was about 5% of Portico's busy CPU).
 * `checkBudgets`: a flush that would cross a budget is rolled back and answers undefined.
 */
async function insertOffThread(worker: SqliteWorker, rows: readonly SpendLogRow[], checkBudgets: boolean): Promise<SpendLogRow[] | undefined> {
  const procedure = checkBudgets ? INSERT_CHECKING_BUDGETS_PROCEDURE : INSERT_PROCEDURE;
  worker.define(procedure, insertProcedureSource(checkBudgets));
  const fresh = await worker.call<number[] | null | typeof CROSSES_A_BUDGET>(procedure, insertParameters(rows));
  if (fresh === CROSSES_A_BUDGET) return undefined;
  return fresh === null ? rows.slice() : fresh.map((index) => rows[index]);
}

const INSERT_PROCEDURE = 'spend_logs.insert';
const INSERT_CHECKING_BUDGETS_PROCEDURE = 'spend_logs.insert_checking_budgets';

/**
 * The worker's side of `insertOffThread`: `input` holds `INSERT_COLUMNS.length` values per row.
 * Answers null when every row was inserted, else the indexes of those that were (the others were
 * already stored: see `insertChunk`, whose logic this repeats without Kysely), or, with
 * `checkBudgets`, `CROSSES_A_BUDGET` after rolling back a flush that would cross one.
 */
function insertProcedureSource(checkBudgets: boolean): string {
  const column = (name: (typeof INSERT_COLUMNS)[number]) => INSERT_COLUMNS.indexOf(name);
  return `
const COLUMNS = ${INSERT_COLUMNS.length};
const ROWS_PER_STATEMENT = ${ROWS_PER_STATEMENT.sqlite};
const statements = (state.statements ??= new Map());
const prepared = (rowCount) => {
  let statement = statements.get(rowCount);
  if (statement === undefined) {
    statement = db.prepare(${JSON.stringify(INSERT_HEAD)} + Array(rowCount).fill(${JSON.stringify(SQLITE_TUPLE)}).join(', ') + ${JSON.stringify(INSERT_TAIL)});
    statements.set(rowCount, statement);
  }
  return statement;
};
const update = (text) => {
  let statement = statements.get(text);
  if (statement === undefined) statements.set(text, (statement = db.prepare(text)));
  return statement;
};
const values = input;
const rowCount = values.length / COLUMNS;
let fresh = null;
db.exec('BEGIN IMMEDIATE');
for (let start = 0; start < rowCount; start += ROWS_PER_STATEMENT) {
  const count = Math.min(ROWS_PER_STATEMENT, rowCount - start);
  const chunk = values.slice(start * COLUMNS, (start + count) * COLUMNS);
  db.exec('SAVEPOINT spend_chunk');
  const changes = prepared(count).run(...chunk).changes;
  if (changes === count) {
    db.exec('RELEASE spend_chunk');
    if (fresh !== null) for (let i = 0; i < count; i++) fresh.push(start + i);
    continue;
  }
  db.exec('ROLLBACK TO spend_chunk');
  db.exec('RELEASE spend_chunk');
  if (fresh === null) fresh = Array.from({ length: start }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    if (prepared(1).run(...chunk.slice(i * COLUMNS, (i + 1) * COLUMNS)).changes === 1) fresh.push(start + i);
  }
}
const byKey = new Map(), byUser = new Map(), byTeam = new Map();
const add = (totals, id, amount) => { if (id !== null) totals.set(id, (totals.get(id) ?? 0) + amount); };
const addRow = (row) => {
  const at = row * COLUMNS;
  const spend = values[at + ${column('spend')}];
  if (spend === 0) return;
  add(byKey, values[at + ${column('key_id')}], spend);
  add(byUser, values[at + ${column('user_id')}], spend);
  add(byTeam, values[at + ${column('team_id')}], spend);
};
if (fresh === null) for (let row = 0; row < rowCount; row++) addRow(row);
else for (const row of fresh) addRow(row);
${workerAddSpendSource(checkBudgets)}
db.exec('COMMIT');
return fresh;
`;
}

/** `INSERT_COLUMNS.length` values per row, in that order, in one flat array (no object per row). */
function insertParameters(rows: readonly SpendLogRow[]): unknown[] {
  const parameters: unknown[] = new Array(rows.length * INSERT_COLUMNS.length);
  let at = 0;
  for (const row of rows) {
    parameters[at++] = row.id;
    parameters[at++] = row.requestId;
    parameters[at++] = row.callType;
    parameters[at++] = row.keyId ?? null;
    parameters[at++] = row.userId ?? null;
    parameters[at++] = row.teamId ?? null;
    parameters[at++] = row.modelGroup;
    parameters[at++] = row.deploymentId ?? null;
    parameters[at++] = row.provider ?? null;
    parameters[at++] = row.model ?? null;
    parameters[at++] = row.promptTokens;
    parameters[at++] = row.completionTokens;
    parameters[at++] = row.cachedTokens;
    parameters[at++] = row.reasoningTokens;
    parameters[at++] = row.totalTokens;
    parameters[at++] = row.spend;
    parameters[at++] = row.status;
    parameters[at++] = row.latencyMs;
    parameters[at++] = row.startedAt;
    parameters[at++] = row.endedAt;
    parameters[at++] = row.batchId ?? null;
    parameters[at++] = row.requestCount;
    parameters[at++] = row.requestTags == null ? null : JSON.stringify(row.requestTags);
    parameters[at++] = row.endUser ?? null;
  }
  return parameters;
}

function toTableRow(row: SpendLogRow): SpendLogsTable {
  return {
    id: row.id,
    request_id: row.requestId,
    call_type: row.callType,
    key_id: row.keyId,
    user_id: row.userId,
    team_id: row.teamId,
    model_group: row.modelGroup,
    deployment_id: row.deploymentId,
    provider: row.provider,
    model: row.model,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    cached_tokens: row.cachedTokens,
    reasoning_tokens: row.reasoningTokens,
    total_tokens: row.totalTokens,
    spend: row.spend,
    status: row.status,
    latency_ms: row.latencyMs,
    started_at: row.startedAt,
    ended_at: row.endedAt,
    batch_id: row.batchId,
    request_count: row.requestCount,
    request_tags: row.requestTags == null ? null : JSON.stringify(row.requestTags),
    end_user: row.endUser ?? null,
  };
}

function fromTableRow(row: Selectable<SpendLogsTable>): SpendLogRow {
  return {
    id: row.id,
    requestId: row.request_id,
    callType: row.call_type,
    keyId: row.key_id,
    userId: row.user_id,
    teamId: row.team_id,
    modelGroup: row.model_group,
    deploymentId: row.deployment_id,
    provider: row.provider,
    model: row.model,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    cachedTokens: Number(row.cached_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    totalTokens: Number(row.total_tokens),
    spend: Number(row.spend),
    status: row.status === 'failure' ? 'failure' : 'success',
    latencyMs: Number(row.latency_ms),
    startedAt: Number(row.started_at),
    endedAt: Number(row.ended_at),
    batchId: row.batch_id,
    requestCount: Number(row.request_count),
    requestTags: tagsOf(row.request_tags),
    endUser: row.end_user,
  };
}

/** A stored tag list back as a list; anything else (never written by Portico) as none. */
function tagsOf(text: string | null): readonly string[] | null {
  if (text === null) return null;
  try {
    const tags: unknown = JSON.parse(text);
    return Array.isArray(tags) && tags.every((tag) => typeof tag === 'string') ? tags : null;
  } catch {
    return null;
  }
}
