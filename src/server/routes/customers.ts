/**
 * LiteLLM's customers (end users: https://docs.litellm.ai/docs/proxy/customers), master key only:
 * `/customer/new`, `/customer/info`, `/customer/update`, `/customer/delete`, `/customer/block`,
 * `/customer/unblock`, `/customer/list`, and their older `/end_user/*` names. A customer is who a
 * request is for (its `user` field, or LiteLLM's end-user headers); blocked, its requests are
 * refused; with a `max_budget`, they are refused once its spend (the ledger's rows for it, over
 * each `budget_duration` period since its creation) reaches it (`server/end-user-limits.ts`).
 * Not carried over: LiteLLM's shared budgets (`budget_id`), `allowed_model_region`,
 * `default_model`, and the limits LiteLLM itself marks not implemented (rpm, tpm, ...): sent, they
 * are refused with a 400 naming them rather than ignored.
 */
import { z } from 'zod';
import { parseDurationMs } from '../../auth/duration.ts';
import { ConflictError, NotFoundError } from '../../spec/errors.ts';
import type { EndUserRecord } from '../../storage/end-user-store.ts';
import { periodStart } from '../end-user-limits.ts';
import { parseInput, parseQuery } from '../parse-input.ts';
import type { AppServices, RouteModule } from '../services.ts';

const id = z.string().min(1).max(256);
const duration = z.string().refine((text) => parseDurationMs(text) !== undefined, 'must be a duration such as "30s", "30m", "1h", "30d"');

const customerFields = {
  alias: z.string().max(256).nullish(),
  blocked: z.boolean().optional(),
  max_budget: z.number().nonnegative().nullish(),
  budget_duration: duration.nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
};

const newCustomerBody = z.strictObject({ user_id: id, ...customerFields });
const updateCustomerBody = z.strictObject({ user_id: id, ...customerFields });
const customerIdsBody = z.strictObject({ user_ids: z.array(id).min(1).max(1000) });
const infoQuery = z.looseObject({ end_user_id: id });
const listQuery = z.looseObject({ after: id.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });

/** LiteLLM's `LiteLLM_EndUserTable` view: the budget as its `litellm_budget_table`, the spend of the current period. */
function customerView(customer: EndUserRecord, spend: number, nowMs: number) {
  const from = periodStart(customer, nowMs);
  const durationMs = customer.budgetDuration === null ? undefined : parseDurationMs(customer.budgetDuration);
  const budget = customer.maxBudget !== null || customer.budgetDuration !== null;
  return {
    user_id: customer.userId,
    alias: customer.alias,
    spend,
    blocked: customer.blocked,
    allowed_model_region: null,
    default_model: null,
    budget_id: null,
    litellm_budget_table: budget
      ? {
          max_budget: customer.maxBudget,
          budget_duration: customer.budgetDuration,
          budget_reset_at: from === undefined || durationMs === undefined ? null : new Date(from * 1000 + durationMs).toISOString(),
        }
      : null,
    metadata: customer.metadata,
    created_at: new Date(customer.createdAt * 1000).toISOString(),
  };
}

export const customerRoutes: RouteModule = {
  name: 'customers',
  register(app, services: AppServices) {
    const customers = services.endUsers;
    const limits = services.endUserLimits;
    if (customers === undefined || limits === undefined) return;
    const master = { config: { auth: 'master' as const } };
    const view = async (customer: EndUserRecord) => customerView(customer, await limits.spendOf(customer.userId, customer), Date.now());
    const notFound = (userId: string, param: string) => new NotFoundError(`End User Id=${userId.slice(0, 256)} does not exist in db`, { param, code: 'end_user_not_found' });

    for (const prefix of ['/customer', '/end_user']) {
      app.post(`${prefix}/new`, master, async (request) => {
        const body = parseInput(newCustomerBody, request.body);
        const created = await customers.insert({
          userId: body.user_id,
          alias: body.alias ?? null,
          blocked: body.blocked ?? false,
          maxBudget: body.max_budget ?? null,
          budgetDuration: body.budget_duration ?? null,
          metadata: body.metadata ?? {},
        });
        if (created === undefined) throw new ConflictError(`Customer already exists, passed user_id=${body.user_id}. Please pass a new user_id.`, { param: 'user_id', code: 'end_user_exists' });
        limits.forget([created.userId]);
        return view(created);
      });

      app.get(`${prefix}/info`, master, async (request) => {
        const { end_user_id: userId } = parseQuery(infoQuery, request.query);
        const customer = await customers.find(userId);
        if (customer === undefined) throw notFound(userId, 'end_user_id');
        return view(customer);
      });

      app.post(`${prefix}/update`, master, async (request) => {
        const body = parseInput(updateCustomerBody, request.body);
        const updated = await customers.update(body.user_id, {
          ...(body.alias !== undefined && { alias: body.alias }),
          ...(body.blocked !== undefined && { blocked: body.blocked }),
          ...(body.max_budget !== undefined && { maxBudget: body.max_budget }),
          ...(body.budget_duration !== undefined && { budgetDuration: body.budget_duration }),
          ...(body.metadata !== undefined && body.metadata !== null && { metadata: body.metadata }),
        });
        if (updated === undefined) throw notFound(body.user_id, 'user_id');
        limits.forget([updated.userId]);
        return view(updated);
      });

      app.post(`${prefix}/delete`, master, async (request) => {
        const { user_ids: userIds } = parseInput(customerIdsBody, request.body);
        const existing = new Set((await customers.findMany(userIds)).map((customer) => customer.userId));
        const missing = userIds.filter((userId) => !existing.has(userId));
        if (missing.length > 0) throw new NotFoundError(`End User Id(s)=${missing.join(', ').slice(0, 512)} do not exist in db`, { param: 'user_ids', code: 'end_user_not_found' });
        const deleted = await customers.delete(userIds);
        limits.forget(userIds);
        return { deleted_customers: deleted, message: `Successfully deleted customers with ids: ${JSON.stringify(userIds)}` };
      });

      for (const [action, blocked] of [['block', true], ['unblock', false]] as const) {
        app.post(`${prefix}/${action}`, master, async (request) => {
          const { user_ids: userIds } = parseInput(customerIdsBody, request.body);
          const changed = await customers.setBlocked(userIds, blocked);
          limits.forget(userIds);
          return { blocked_users: await Promise.all(changed.map(view)) };
        });
      }

      app.get(`${prefix}/list`, master, async (request) => {
        const query = parseQuery(listQuery, request.query);
        const page = await customers.list({ limit: query.limit ?? 100, ...(query.after !== undefined && { after: query.after }) });
        return Promise.all(page.map(view));
      });
    }
  },
};
