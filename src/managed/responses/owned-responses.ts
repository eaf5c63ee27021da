/**
 * Stored responses as the gateway's own objects, on every provider:
 *
 * - From an upstream that stores them itself (OpenAI, Azure OpenAI, OpenAI-compatible servers
 *   with a Responses API), an answer leaves with a sealed id for its owner (`response-ids.ts`); a
 *   request naming one (`previous_response_id`) goes to the deployments that can read it, with the
 *   upstream's id; `GET`/`DELETE /v1/responses/{id}`, its input items and `cancel` reach the
 *   deployment that stored it.
 * - Answered through a provider's chat (the Responses bridge: Anthropic, Gemini, Bedrock, ...),
 *   the gateway keeps the response itself (`stored_responses`, unless `store: false`), as LiteLLM
 *   keeps such responses for its session management: a request continuing one is sent with the
 *   conversation so far (each earlier response's input and output items, oldest first) in its
 *   `input`, to any deployment of its model; the follow-up routes read the row.
 *
 * Another tenant's id, an upstream's raw id and a made-up one are all "not found".
 */
import type { Router } from '../../routing/router.ts';
import type { Logger } from '../../observability/logger.ts';
import { InvalidRequestError, NotFoundError, UpstreamError } from '../../spec/errors.ts';
import { canAccess, type Principal } from '../../spec/principal.ts';
import type { CallOptions, Deployment, ProviderClient, StoredResponsesCapability, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { unixSeconds } from '../../storage/row-mapping.ts';
import type { StoredResponseRecord, StoredResponseStore } from '../../storage/stored-response-store.ts';
import { randomBytes } from 'node:crypto';
import { type OwnerTag, ResponseIds, type StoredResponseRef, ownerTagOf } from './response-ids.ts';
import { type ResponseRewrite, withResponseIdsInEvents } from './response-events.ts';

type Json = Record<string, unknown>;

/** What a request that continues a stored response becomes. */
export type ResolvedReference =
  /** Stored upstream: sent with the upstream's id, only to the deployments that can read it. */
  | { readonly kind: 'upstream'; readonly id: string; readonly upstreamId: string; readonly deployments: ReadonlySet<string> }
  /** Stored by the gateway: sent with the conversation so far in `input`, to any deployment. */
  | { readonly kind: 'history'; readonly id: string; readonly items: readonly Json[] };

/** The request fields the gateway keeps with a response it stores. */
export interface ResponsesRequestFields {
  readonly input?: unknown;
  readonly store?: unknown;
}

/**
 * What a response id the gateway keeps may look like (the Responses bridge's `resp_` and 24 hex,
 * the mock provider's): anything else is looked up nowhere. Sealed ids (`response-ids.ts`) are
 * told apart first, by opening them.
 */
const KEPT_ID = /^resp_[A-Za-z0-9_-]{1,128}$/;
/** Responses walked back from a continued one: a longer chain is cut at its oldest end. */
const MAX_CHAIN = 100;
/** The input-items list's page size: OpenAI's default and most. */
const DEFAULT_ITEMS_LIMIT = 20;
const MAX_ITEMS_LIMIT = 100;

/** The Responses API's error for a `previous_response_id` it does not hold. */
function previousNotFound(id: string, why = ''): InvalidRequestError {
  return new InvalidRequestError(`Previous response with id '${id}' not found.${why}`, { param: 'previous_response_id', code: 'previous_response_not_found' });
}

function responseNotFound(id: string): NotFoundError {
  return new NotFoundError(`Response with id '${id}' not found.`);
}

/**
 * Whether two deployments reach the same upstream account, which holds the same stored responses:
 * the same provider, base URL and key (OpenAI's responses belong to the key's project, Azure's to
 * the resource). Different models of one account share them, as OpenAI's do.
 */
function sameAccount(a: Deployment, b: Deployment): boolean {
  return a.id === b.id || (a.providerName === b.providerName && a.apiBase === b.apiBase && a.apiKey === b.apiKey);
}

/** A request's `input` as the items the input-items list shows: a string is one user message; items get ids. */
function inputItemsOf(input: unknown): Json[] {
  const items: unknown[] = typeof input === 'string' ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }] : Array.isArray(input) ? input : [];
  return items.map((item) => {
    const object = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Json) : {};
    const type = object.type ?? 'message';
    const content = type === 'message' && typeof object.content === 'string' ? [{ type: 'input_text', text: object.content }] : object.content;
    return { id: typeof object.id === 'string' ? object.id : `msg_${randomBytes(12).toString('hex')}`, type, ...object, ...(content !== undefined && { content }), ...(type === 'message' && object.status === undefined && { status: 'completed' }) };
  });
}

export interface OwnedResponsesOptions {
  readonly router: Pick<Router, 'deployment' | 'deploymentsOf' | 'clientFor' | 'sendTo'>;
  /** `LITELLM_SALT_KEY`, else the master key (undefined in open mode): what ids are sealed under. */
  readonly secret: string | undefined;
  /** Where the gateway keeps bridged responses (absent: it keeps none, and continuing one is a 400). */
  readonly store?: StoredResponseStore;
  readonly logger?: Logger;
}

export class OwnedResponses {
  readonly #router: OwnedResponsesOptions['router'];
  readonly #ids: ResponseIds;
  readonly #store: StoredResponseStore | undefined;
  readonly #logger: Logger | undefined;

  constructor(options: OwnedResponsesOptions) {
    this.#router = options.router;
    this.#ids = new ResponseIds(options.secret);
    this.#store = options.store;
    this.#logger = options.logger;
  }

  /**
   * `previous_response_id` of a Responses request for `modelGroup`: undefined when it names none;
   * else how the request continues it. A 400 `previous_response_not_found` when it is not one of
   * the caller's, or when none of the model's deployments can read it.
   */
  resolveReference(body: Json, principal: Principal, modelGroup: string): ResolvedReference | Promise<ResolvedReference> | undefined {
    const previous = body.previous_response_id;
    if (typeof previous !== 'string') return undefined;
    const ref = this.#ids.open(previous, ownerTagOf(principal.owner), principal.isMaster);
    if (ref === undefined) {
      if (this.#store !== undefined && KEPT_ID.test(previous)) return this.#history(previous, principal);
      throw previousNotFound(previous);
    }
    const origin = this.#router.deployment(ref.deploymentId);
    if (origin === undefined) throw previousNotFound(previous, ' The deployment that stored it is no longer configured.');
    const reachable = this.#router.deploymentsOf(modelGroup).filter((deployment) => sameAccount(deployment, origin));
    if (reachable.length === 0) {
      throw previousNotFound(
        previous,
        ` It is stored by a deployment of model \`${origin.modelGroup}\`, which the deployments of model \`${modelGroup}\` cannot read: send the request to \`${origin.modelGroup}\`, or the conversation in \`input\`.`,
      );
    }
    return { kind: 'upstream', id: previous, upstreamId: ref.upstreamId, deployments: new Set(reachable.map((deployment) => deployment.id)) };
  }

  /**
   * The upstream body of a request that continues a stored response (`resolveReference`): the
   * upstream's id of it, or, for one the gateway kept, the conversation so far ahead of the
   * request's own input.
   */
  continuing(body: Json, reference: ResolvedReference): Json {
    if (reference.kind === 'upstream') return { ...body, previous_response_id: reference.upstreamId };
    const { previous_response_id: _previous, ...rest } = body;
    const input = typeof body.input === 'string' ? [{ type: 'message', role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : [];
    return { ...rest, input: [...reference.items, ...input] };
  }

  /** The conversation up to and including the gateway-stored response `id`: its chain's input and output items, oldest first. */
  async #history(id: string, principal: Principal): Promise<ResolvedReference> {
    const chain: StoredResponseRecord[] = [];
    // Newest first; another owner's response (which no chain of the caller's should hold) ends it.
    for (const record of await (this.#store as StoredResponseStore).chainOf(id, MAX_CHAIN)) {
      if (!canAccess(principal, record.owner)) break;
      chain.push(record);
    }
    if (chain.length === 0) throw previousNotFound(id);
    const items = chain.reverse().flatMap((record) => [...record.inputItems, ...(Array.isArray(record.response.output) ? (record.response.output as Json[]) : [])]);
    return { kind: 'history', id, items };
  }


  /**
   * A Responses answer of `client` for `owner`: from an upstream that stores responses, with the
   * gateway's ids; through a provider's chat, kept by the gateway (unless `store: false`) before
   * the client sees it. The response it continued (`reference`) is named as the client named it.
   */
  async ownAnswer(answer: UpstreamJsonResponse, client: ProviderClient, owner: string, reference: ResolvedReference | undefined, request: ResponsesRequestFields): Promise<UpstreamJsonResponse> {
    if (client.storedResponses !== undefined) return this.#owned(answer, client.deployment.id, ownerTagOf(owner), undefined, reference);
    if (!this.#keepsBridged(client, request) || answer.status !== 200) return answer;
    const body = answer.body as Json;
    if (body === null || typeof body !== 'object' || typeof body.id !== 'string') return answer;
    const { rawBody: _bytes, ...rest } = answer;
    return { ...rest, body: await this.#keep(body, owner, reference, request) };
  }

  /** A streamed Responses answer, as `ownAnswer`: the response objects in its events rewritten; a bridged one kept when it ends. */
  ownStream(stream: UpstreamStream, client: ProviderClient, owner: string, reference: ResolvedReference | undefined, request: ResponsesRequestFields): UpstreamStream {
    let rewrite: ResponseRewrite;
    if (client.storedResponses !== undefined) {
      const tag = ownerTagOf(owner);
      const deploymentId = client.deployment.id;
      rewrite = (response) => this.#ownedResponse(response, deploymentId, tag, undefined, reference);
    } else if (this.#keepsBridged(client, request)) {
      // The finished response is stored before its last event goes out: a follow-up sent as soon
      // as the client has it finds it.
      rewrite = (response) =>
        response.status === 'completed' || response.status === 'incomplete' ? this.#keep(response, owner, reference, request) : { ...response, store: true, previous_response_id: reference?.id ?? null };
    } else {
      return stream;
    }
    stream.body = withResponseIdsInEvents(stream.body, rewrite);
    return stream;
  }

  /**
   * Whether the gateway keeps `client`'s Responses answers: its upstream keeps none (a provider
   * answered through its chat, the mock provider), `store` is not false, and there is a store.
   */
  #keepsBridged(client: ProviderClient, request: ResponsesRequestFields): boolean {
    return this.#store !== undefined && client.storedResponses === undefined && request.store !== false;
  }

  /**
   * Stores a bridged response. The model has answered by now: when the database cannot take it,
   * the answer still goes to the client, saying `store: false` (continuing it would be a 400), and
   * the log says why.
   */
  async #keep(response: Json, owner: string, reference: ResolvedReference | undefined, request: ResponsesRequestFields): Promise<Json> {
    const kept = { ...response, store: true, previous_response_id: reference?.id ?? null };
    try {
      await (this.#store as StoredResponseStore).insert({
        id: String(response.id),
        owner,
        previousResponseId: reference?.id ?? null,
        response: kept,
        inputItems: inputItemsOf(request.input),
        createdAt: unixSeconds(),
      });
    } catch (error) {
      this.#logger?.warn({ response_id: response.id, err: error instanceof Error ? error.message : String(error) }, 'a response answered through the provider\'s chat could not be stored; answered with store: false');
      return { ...kept, store: false };
    }
    return kept;
  }

  async retrieve(principal: Principal, id: string, query: URLSearchParams, options: CallOptions): Promise<UpstreamJsonResponse> {
    const kept = await this.#kept(principal, id);
    if (kept !== undefined) return { status: 200, body: kept.response };
    return this.#answer(principal, id, (stored, upstreamId, call) => stored.retrieve(upstreamId, query, call), options);
  }

  async retrieveStream(principal: Principal, id: string, query: URLSearchParams, options: CallOptions): Promise<UpstreamStream> {
    if ((await this.#kept(principal, id)) !== undefined) {
      throw new InvalidRequestError('Only responses created with background=true can be streamed again; this one was answered through the provider\'s chat.', { param: 'stream' });
    }
    const ref = this.#located(principal, id);
    const stream = await this.#onDeployment(id, ref, (stored, call) => stored.retrieveStream(ref.upstreamId, query, call), options);
    stream.body = withResponseIdsInEvents(stream.body, (response) => this.#ownedResponse(response, ref.deploymentId, ref.owner, id));
    return stream;
  }

  async delete(principal: Principal, id: string, options: CallOptions): Promise<UpstreamJsonResponse> {
    if ((await this.#kept(principal, id)) !== undefined) {
      if (!(await (this.#store as StoredResponseStore).delete(id))) throw responseNotFound(id);
      return { status: 200, body: { id, object: 'response', deleted: true } };
    }
    return this.#answer(principal, id, (stored, upstreamId, call) => stored.delete(upstreamId, call), options);
  }

  /** The input items of a stored response: passed through from an upstream (their ids are the items', not the response's), or listed from the row. */
  async inputItems(principal: Principal, id: string, query: URLSearchParams, options: CallOptions): Promise<UpstreamJsonResponse> {
    const kept = await this.#kept(principal, id);
    if (kept !== undefined) return { status: 200, body: itemsPage(kept.inputItems, query) };
    const ref = this.#located(principal, id);
    return this.#onDeployment(id, ref, (stored, call) => stored.inputItems(ref.upstreamId, query, call), options);
  }

  async cancel(principal: Principal, id: string, options: CallOptions): Promise<UpstreamJsonResponse> {
    if ((await this.#kept(principal, id)) !== undefined) throw new InvalidRequestError('Only responses created with background=true can be cancelled.');
    return this.#answer(principal, id, (stored, upstreamId, call) => stored.cancel(upstreamId, call), options);
  }

  /** The gateway's own stored response `id`, when it is one and the caller's (undefined for a sealed id: stored upstream). */
  async #kept(principal: Principal, id: string): Promise<StoredResponseRecord | undefined> {
    if (this.#store === undefined || !KEPT_ID.test(id) || this.#ids.open(id, ownerTagOf(principal.owner), true) !== undefined) return undefined;
    const record = await this.#store.find(id);
    if (record === undefined || !canAccess(principal, record.owner)) throw responseNotFound(id);
    return record;
  }

  async #answer(
    principal: Principal,
    id: string,
    operation: (stored: StoredResponsesCapability, upstreamId: string, call: CallOptions) => Promise<UpstreamJsonResponse>,
    options: CallOptions,
  ): Promise<UpstreamJsonResponse> {
    const ref = this.#located(principal, id);
    const answer = await this.#onDeployment(id, ref, (stored, call) => operation(stored, ref.upstreamId, call), options);
    // The id the client used goes back as it was: the master key reading a tenant's response gets that tenant's id.
    return this.#owned(answer, ref.deploymentId, ref.owner, id);
  }

  #located(principal: Principal, id: string): StoredResponseRef & { readonly owner: OwnerTag } {
    const ref = this.#ids.open(id, ownerTagOf(principal.owner), principal.isMaster);
    if (ref === undefined || this.#router.deployment(ref.deploymentId) === undefined) throw responseNotFound(id);
    if (this.#router.clientFor(ref.deploymentId).storedResponses === undefined) throw responseNotFound(id);
    return ref;
  }

  /** Runs `operation` on the deployment that stored the response; its 404 names the client's id, not the upstream's. */
  async #onDeployment<T>(id: string, ref: StoredResponseRef, operation: (stored: StoredResponsesCapability, call: CallOptions) => Promise<T>, options: CallOptions): Promise<T> {
    try {
      return await this.#router.sendTo(ref.deploymentId, (client, call) => operation(client.storedResponses as StoredResponsesCapability, call), options);
    } catch (error) {
      if (error instanceof UpstreamError && error.httpStatus === 404) throw responseNotFound(id);
      throw error;
    }
  }

  #owned(answer: UpstreamJsonResponse, deploymentId: string, owner: OwnerTag, id?: string, reference?: ResolvedReference): UpstreamJsonResponse {
    const body = answer.body;
    if (body === null || typeof body !== 'object' || typeof (body as Json).id !== 'string') return answer;
    // The upstream's bytes name its ids: the changed body is serialised instead.
    const { rawBody: _upstreamBytes, ...rest } = answer;
    return { ...rest, body: this.#ownedResponse(body as Json, deploymentId, owner, id, reference) };
  }

  /** A response object (or a deletion's answer) with the gateway's ids: its own, and the one it continued. */
  #ownedResponse(response: Json, deploymentId: string, owner: OwnerTag, id?: string, reference?: ResolvedReference): Json {
    const owned: Json = { ...response };
    if (typeof response.id === 'string') owned.id = id ?? this.#ids.seal({ deploymentId, upstreamId: response.id }, owner);
    const previous = response.previous_response_id;
    if (typeof previous === 'string') {
      owned.previous_response_id = reference?.kind === 'upstream' && previous === reference.upstreamId ? reference.id : this.#ids.seal({ deploymentId, upstreamId: previous }, owner);
    }
    return owned;
  }
}

/** One page of a gateway-stored response's input items, as OpenAI lists them (`order` desc by default, `after`, `limit`). */
function itemsPage(items: readonly Json[], query: URLSearchParams): Json {
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_ITEMS_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ITEMS_LIMIT) {
    throw new InvalidRequestError(`Invalid 'limit': expected an integer from 1 to ${MAX_ITEMS_LIMIT}.`, { param: 'limit', code: 'invalid_value' });
  }
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new InvalidRequestError("Invalid 'order': expected 'asc' or 'desc'.", { param: 'order', code: 'invalid_value' });
  let listed = order === 'asc' ? [...items] : [...items].reverse();
  const after = query.get('after');
  if (after !== null) {
    const at = listed.findIndex((item) => item.id === after);
    listed = at === -1 ? [] : listed.slice(at + 1);
  }
  const data = listed.slice(0, limit);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: listed.length > data.length };
}
