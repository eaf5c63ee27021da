/**
 * The Responses API's stored responses, as api.openai.com keeps them (public reference:
 * https://platform.openai.com/docs/api-reference/responses, and the `openai-openapi.yaml` paths
 * `/responses/{response_id}`, `/input_items`, `/cancel`): a response is stored unless `store:
 * false`; `previous_response_id` must name a stored one of this account (else 400
 * `previous_response_not_found`); `GET` answers it, `DELETE` removes it, `input_items` lists what
 * it was sent (newest first by default), `cancel` stops a `background` one.
 *
 * Background responses start `queued` and are `completed` from the first retrieval on (the fake
 * model answers at once); cancelling a finished one is a 400, as is cancelling a response that was
 * not created in the background.
 */
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { sseFrame } from '../common/simulator-server.ts';
import { randomHex } from '../common/ids.ts';
import type { InferenceContext } from './chat.ts';
import { openaiErrorBody } from './errors.ts';
import { responseEvents, responses } from './inference.ts';
import { isReply, jsonBody } from './inference-replies.ts';

type Json = Record<string, unknown>;

interface StoredResponse {
  /** The response as the API answers it now. */
  response: Json;
  /** The finished response a background one becomes. */
  finished: Json;
  inputItems: Json[];
}

function notFound(id: string): SimReply {
  return { status: 404, json: openaiErrorBody(404, { message: `Response with id '${id}' not found.` }) };
}

/** `input` as the items the API lists: a string is one user message. */
function inputItemsOf(input: unknown): Json[] {
  const items = typeof input === 'string' ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }] : Array.isArray(input) ? (input as Json[]) : [];
  return items.map((item) => ({ id: `msg_${randomHex(48)}`, status: 'completed', ...(item.type === undefined ? { type: 'message' } : {}), ...item }));
}

export class StoredResponses {
  readonly #byId = new Map<string, StoredResponse>();
  readonly #ctx: InferenceContext;

  constructor(ctx: InferenceContext) {
    this.#ctx = ctx;
  }

  /** The ids stored now (for tests that check what was kept). */
  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  routes(base: string): SimRoute[] {
    return [
      { method: 'POST', path: new RegExp(`^${base}/responses$`), handle: (req) => this.#create(req) },
      { method: 'GET', path: new RegExp(`^${base}/responses/([^/]+)$`), handle: (req, [id]) => this.#retrieve(req, decodeURIComponent(id!)) },
      { method: 'DELETE', path: new RegExp(`^${base}/responses/([^/]+)$`), handle: (_req, [id]) => this.#delete(decodeURIComponent(id!)) },
      { method: 'GET', path: new RegExp(`^${base}/responses/([^/]+)/input_items$`), handle: (req, [id]) => this.#inputItems(req, decodeURIComponent(id!)) },
      { method: 'POST', path: new RegExp(`^${base}/responses/([^/]+)/cancel$`), handle: (_req, [id]) => this.#cancel(decodeURIComponent(id!)) },
    ];
  }

  #create(req: SimRequest): SimReply {
    const parsed = jsonBody(req);
    if (isReply(parsed)) return parsed;
    const previous = parsed.previous_response_id;
    if (previous !== undefined && previous !== null && (typeof previous !== 'string' || !this.#byId.has(previous))) {
      return { status: 400, json: openaiErrorBody(400, { message: `Previous response with id '${String(previous)}' not found.`, param: 'previous_response_id', code: 'previous_response_not_found' }) };
    }
    const result = responses(parsed, this.#ctx);
    if (result.status !== 200) return { status: result.status, json: result.body };
    const finished = result.body as Json;
    const background = parsed.background === true;
    const response = background ? { ...finished, status: 'queued', background: true, output: [], usage: null } : finished;
    if (background) finished.background = true;
    if (parsed.store !== false) this.#byId.set(String(finished.id), { response, finished, inputItems: inputItemsOf(parsed.input) });
    if (parsed.stream === true && !background) return { status: 200, sse: responseEvents(finished).map((e) => sseFrame(JSON.stringify(e), String(e.type))) };
    return { status: 200, json: response };
  }

  #retrieve(req: SimRequest, id: string): SimReply {
    const stored = this.#byId.get(id);
    if (stored === undefined) return notFound(id);
    if (stored.response.status === 'queued') {
      // The fake model has answered by the time anyone looks.
      const answered = stored.response;
      stored.response = stored.finished;
      return { status: 200, json: answered };
    }
    if (req.query.stream === 'true') {
      const after = req.query.starting_after === undefined ? -1 : Number(req.query.starting_after);
      const events = responseEvents(stored.response).filter((e) => Number(e.sequence_number) > after);
      return { status: 200, sse: events.map((e) => sseFrame(JSON.stringify(e), String(e.type))) };
    }
    return { status: 200, json: stored.response };
  }

  #delete(id: string): SimReply {
    if (!this.#byId.delete(id)) return notFound(id);
    return { status: 200, json: { id, object: 'response', deleted: true } };
  }

  #inputItems(req: SimRequest, id: string): SimReply {
    const stored = this.#byId.get(id);
    if (stored === undefined) return notFound(id);
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return { status: 400, json: openaiErrorBody(400, { message: `Invalid 'limit': integer below minimum value. Expected a value >= 1, but got ${req.query.limit} instead.`, param: 'limit', code: 'integer_below_min_value' }) };
    }
    let items = req.query.order === 'asc' ? stored.inputItems : [...stored.inputItems].reverse();
    if (req.query.after !== undefined) {
      const at = items.findIndex((item) => item.id === req.query.after);
      items = at === -1 ? [] : items.slice(at + 1);
    }
    const page = items.slice(0, limit);
    return { status: 200, json: { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: items.length > page.length } };
  }

  #cancel(id: string): SimReply {
    const stored = this.#byId.get(id);
    if (stored === undefined) return notFound(id);
    if (stored.response.background !== true) return { status: 400, json: openaiErrorBody(400, { message: 'Only responses created with background=true can be cancelled.' }) };
    if (stored.response.status !== 'queued' && stored.response.status !== 'in_progress') {
      return { status: 400, json: openaiErrorBody(400, { message: `Cannot cancel a response with status '${String(stored.response.status)}'.` }) };
    }
    stored.response = { ...stored.response, status: 'cancelled' };
    stored.finished = stored.response;
    return { status: 200, json: stored.response };
  }
}
