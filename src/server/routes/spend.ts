/**
 * The spend ledger's APIs, in LiteLLM's shapes (https://docs.litellm.ai/docs/proxy/cost_tracking):
 * - `GET /spend/logs`: ledger rows, newest first, filtered by `api_key` (secret or token),
 *   `user_id`, `team_id`, `model`, `request_id`, `start_date`/`end_date` (dates or ISO times;
 *   an `end_date` that is a date includes that whole day). Without `page` it answers the list
 *   (LiteLLM's v1 shape, at most `page_size`, default 100); with `page` (1-based) it answers
 *   `{data, total, page, page_size, total_pages}` (LiteLLM's `/spend/logs/v2`, also served).
 * - `GET /global/spend/report`: spend by day and `group_by` = `team` (default), `api_key`,
 *   `user`, `model` or `day`, each entry with its per-model breakdown in `metadata`.
 * - `GET /global/spend`: `{spend, max_budget}` (Portico has no proxy-wide budget: `max_budget` null);
 *   `GET /global/spend/keys` and `/global/spend/models`: the `limit` (default 5) keys or model
 *   groups that spent most, most first (`[{api_key, total_spend, key_alias}]`, `[{model, total_spend}]`).
 *   All three take the report's filters.
 * - `GET /spend/tags`: spend and rows by request tag (`[{individual_request_tag, log_count,
 *   total_spend}]`, most spent first; a row's tags are its request's and its deployment's), with
 *   the report's filters.
 * The master key sees every row; a virtual key only its own.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InvalidRequestError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';
import type { SpendLogFilter, SpendLogRow, SpendReportCell, SpendReportDimension } from '../../storage/spend-log-store.ts';
import { parseQuery } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';

const MAX_PAGE_SIZE = 1000;

const dateText = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'expected a date (YYYY-MM-DD) or an ISO 8601 time');

const logsQuery = z.looseObject({
  api_key: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  request_id: z.string().min(1).optional(),
  start_date: dateText.optional(),
  end_date: dateText.optional(),
  page: z.coerce.number().int().positive().optional(),
  page_size: z.coerce.number().int().positive().max(MAX_PAGE_SIZE).optional(),
});

const reportQuery = z.looseObject({
  start_date: dateText.optional(),
  end_date: dateText.optional(),
  group_by: z.enum(['team', 'api_key', 'user', 'model', 'day']).optional(),
  api_key: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
});

const topQuery = reportQuery.omit({ group_by: true }).extend({ limit: z.coerce.number().int().positive().max(MAX_PAGE_SIZE).optional() });

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function startOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Date.parse(DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text) / 1000;
}

/** A bare date as the end includes its whole day (LiteLLM's reading of `end_date`). */
function endOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return DATE_ONLY.test(text) ? Date.parse(`${text}T00:00:00Z`) / 1000 + 86_400 : Date.parse(text) / 1000;
}

async function filterOf(services: AppServices, principal: Principal, query: { api_key?: string; user_id?: string; team_id?: string; model?: string; start_date?: string; end_date?: string; request_id?: string }): Promise<SpendLogFilter> {
  const filter: SpendLogFilter = {};
  if (query.api_key !== undefined) {
    const key = await services.keys.find(query.api_key);
    // An unknown key matches no row (an id no key has).
    filter.keyId = key?.id ?? `unknown:${query.api_key.length}`;
  }
  if (!principal.isMaster) {
    if (filter.keyId !== undefined && filter.keyId !== principal.keyId) filter.keyId = `unknown:other`;
    filter.keyId ??= principal.keyId ?? undefined;
  }
  if (query.user_id !== undefined) filter.userId = query.user_id;
  if (query.team_id !== undefined) filter.teamId = query.team_id;
  if (query.model !== undefined) filter.modelGroup = query.model;
  if (query.request_id !== undefined) filter.requestId = query.request_id;
  const from = startOf(query.start_date);
  const to = endOf(query.end_date);
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  if (from !== undefined && to !== undefined && to <= from) throw new InvalidRequestError("'end_date' must be after 'start_date'.", { param: 'end_date', code: 'invalid_value' });
  return filter;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** A ledger row in LiteLLM's `SpendLogs` field names. */
export function spendLogView(row: SpendLogRow) {
  return {
    request_id: row.requestId,
    call_type: row.callType,
    api_key: row.keyId,
    spend: row.spend,
    total_tokens: row.totalTokens,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    startTime: iso(row.startedAt),
    endTime: iso(row.endedAt),
    model: row.model,
    model_id: row.deploymentId,
    model_group: row.modelGroup,
    custom_llm_provider: row.provider,
    user: row.userId,
    team_id: row.teamId,
    status: row.status,
    metadata: {
      spend_log_id: row.id,
      cached_tokens: row.cachedTokens,
      reasoning_tokens: row.reasoningTokens,
      latency_ms: row.latencyMs,
      batch_id: row.batchId,
      request_count: row.requestCount,
    },
    request_tags: row.requestTags ?? [],
    end_user: row.endUser ?? '',
  };
}

const GROUP_FIELDS: Record<'team' | 'api_key' | 'user' | 'model' | 'day', { list: string; name: string; dimension: SpendReportDimension }> = {
  team: { list: 'teams', name: 'team_name', dimension: 'team' },
  api_key: { list: 'api_keys', name: 'api_key', dimension: 'key' },
  user: { list: 'users', name: 'user_id', dimension: 'user' },
  model: { list: 'models', name: 'model', dimension: 'model' },
  day: { list: 'days', name: 'day', dimension: 'day' },
};

/** `[{group_by_day, <list>: [{<name>, total_spend, total_tokens, metadata: [{model, spend, total_tokens}]}]}]`. */
function reportView(cells: readonly SpendReportCell[], groupBy: keyof typeof GROUP_FIELDS) {
  const fields = GROUP_FIELDS[groupBy];
  const days = new Map<string, Map<string | null, { spend: number; tokens: number; requests: number; models: { model: string; spend: number; total_tokens: number; api_requests: number }[] }>>();
  for (const cell of cells) {
    const groups = days.get(cell.day) ?? new Map();
    days.set(cell.day, groups);
    const entry = groups.get(cell.group) ?? { spend: 0, tokens: 0, requests: 0, models: [] };
    groups.set(cell.group, entry);
    entry.spend += cell.spend;
    entry.tokens += cell.totalTokens;
    entry.requests += cell.requests;
    entry.models.push({ model: cell.modelGroup, spend: cell.spend, total_tokens: cell.totalTokens, api_requests: cell.requests });
  }
  return [...days].map(([day, groups]) => ({
    group_by_day: day,
    [fields.list]: [...groups].map(([group, entry]) => ({
      [fields.name]: group,
      total_spend: entry.spend,
      total_tokens: entry.tokens,
      api_requests: entry.requests,
      metadata: entry.models,
    })),
  }));
}

export const spendRoutes: RouteModule = {
  name: 'spend',
  register(app, services) {
    const store = services.spendLogs;
    if (store === undefined) return;
    const logs = async (request: FastifyRequest, paged: boolean) => {
      const query = parseQuery(logsQuery, request.query);
      const filter = await filterOf(services, principalOf(request), query);
      const pageSize = query.page_size ?? (paged ? 50 : 100);
      if (!paged && query.page === undefined) {
        const page = await store.list(filter, { limit: pageSize });
        return page.rows.map(spendLogView);
      }
      const page = query.page ?? 1;
      const [rows, total] = await Promise.all([store.list(filter, { limit: pageSize, offset: (page - 1) * pageSize }), store.count(filter)]);
      return { data: rows.rows.map(spendLogView), total, page, page_size: pageSize, total_pages: Math.ceil(total / pageSize) };
    };
    app.get('/spend/logs', (request) => logs(request, false));
    app.get('/spend/logs/v2', (request) => logs(request, true));
    app.get('/global/spend/report', async (request) => {
      const query = parseQuery(reportQuery, request.query);
      const groupBy = query.group_by ?? 'team';
      const filter = await filterOf(services, principalOf(request), query);
      return reportView(await store.report(GROUP_FIELDS[groupBy].dimension, filter), groupBy);
    });
    app.get('/global/spend', async (request) => {
      const filter = await filterOf(services, principalOf(request), parseQuery(topQuery, request.query));
      // LiteLLM answers its proxy budget beside the spend (`litellm_settings.max_budget`).
      return { spend: await store.totalSpend(filter), max_budget: services.config.proxyBudget?.maxBudget ?? null };
    });
    app.get('/global/spend/keys', async (request) => {
      const query = parseQuery(topQuery, request.query);
      const top = await store.topSpenders('key', await filterOf(services, principalOf(request), query), query.limit ?? 5);
      const keys = await Promise.all(top.map(({ group }) => (group === null ? undefined : services.keys.find(group))));
      return top.map(({ group, spend }, index) => ({ api_key: group, total_spend: spend, key_alias: keys[index]?.keyAlias ?? null }));
    });
    // LiteLLM's `/spend/tags`: `[{individual_request_tag, log_count, total_spend}]`, most spent first.
    app.get('/spend/tags', async (request) => {
      const query = parseQuery(reportQuery.omit({ group_by: true }), request.query);
      const byTag = await store.spendByTag(await filterOf(services, principalOf(request), query));
      return byTag.map(({ tag, requests, spend }) => ({ individual_request_tag: tag, log_count: requests, total_spend: spend }));
    });
    app.get('/global/spend/models', async (request) => {
      const query = parseQuery(topQuery, request.query);
      const top = await store.topSpenders('model', await filterOf(services, principalOf(request), query), query.limit ?? 5);
      return top.map(({ group, spend }) => ({ model: group, total_spend: spend }));
    });
  },
};
