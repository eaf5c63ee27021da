/**
 * Stored responses as the gateway's own objects (`response-ids.ts`): a Responses answer from an
 * upstream that stores it leaves with a sealed id for its owner; a request naming one
 * (`previous_response_id`) goes to the deployments that can read it, with the upstream's id; and
 * `GET`/`DELETE /v1/responses/{id}`, its input items and `cancel` reach the deployment that
 * stored it. Another tenant's id, an upstream's raw id and a made-up one are all "not found".
 */
import type { Router } from '../../routing/router.ts';
import { InvalidRequestError, NotFoundError, UpstreamError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';
import type { CallOptions, Deployment, ProviderClient, StoredResponsesCapability, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { type OwnerTag, ResponseIds, type StoredResponseRef, ownerTagOf } from './response-ids.ts';
import { withResponseIdsInEvents } from './response-events.ts';

type Json = Record<string, unknown>;

/** A request that names a stored response: the upstream's id of it, and where the request may go. */
export interface ResolvedReference {
  /** The id as the client sent it. */
  readonly id: string;
  readonly upstreamId: string;
  /** The deployments of the requested model that can read the stored response. */
  readonly deployments: ReadonlySet<string>;
}

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

export class OwnedResponses {
  readonly #router: Pick<Router, 'deployment' | 'deploymentsOf' | 'clientFor' | 'sendTo'>;
  readonly #ids: ResponseIds;

  /** `secret`: `LITELLM_SALT_KEY`, else the master key (undefined in open mode). */
  constructor(router: Pick<Router, 'deployment' | 'deploymentsOf' | 'clientFor' | 'sendTo'>, secret: string | undefined) {
    this.#router = router;
    this.#ids = new ResponseIds(secret);
  }

  /**
   * `previous_response_id` of a Responses request for `modelGroup`: undefined when it names none;
   * else the upstream's id of it and the deployments that may answer it. A 400
   * `previous_response_not_found` when it is not one of the caller's, or when none of the model's
   * deployments can read it.
   */
  resolveReference(body: Json, principal: Principal, modelGroup: string): ResolvedReference | undefined {
    const previous = body.previous_response_id;
    if (typeof previous !== 'string') return undefined;
    const ref = this.#ids.open(previous, ownerTagOf(principal.owner), principal.isMaster);
    if (ref === undefined) throw previousNotFound(previous);
    const origin = this.#router.deployment(ref.deploymentId);
    if (origin === undefined) throw previousNotFound(previous, ' The deployment that stored it is no longer configured.');
    const reachable = this.#router.deploymentsOf(modelGroup).filter((deployment) => sameAccount(deployment, origin));
    if (reachable.length === 0) {
      throw previousNotFound(
        previous,
        ` It is stored by a deployment of model \`${origin.modelGroup}\`, which the deployments of model \`${modelGroup}\` cannot read: send the request to \`${origin.modelGroup}\`, or the conversation in \`input\`.`,
      );
    }
    return { id: previous, upstreamId: ref.upstreamId, deployments: new Set(reachable.map((deployment) => deployment.id)) };
  }

  /**
   * A Responses answer of `client` for `owner`: with the gateway's ids when its upstream stores
   * responses. The response it continued (`reference`) is named as the client named it.
   */
  ownAnswer(answer: UpstreamJsonResponse, client: ProviderClient, owner: string, reference?: ResolvedReference): UpstreamJsonResponse {
    if (client.storedResponses === undefined) return answer;
    return this.#owned(answer, client.deployment.id, ownerTagOf(owner), undefined, reference);
  }

  /** A streamed Responses answer of `client` for `owner`: the response objects in its events with the gateway's ids. */
  ownStream(stream: UpstreamStream, client: ProviderClient, owner: string, reference?: ResolvedReference): UpstreamStream {
    if (client.storedResponses === undefined) return stream;
    const tag = ownerTagOf(owner);
    const deploymentId = client.deployment.id;
    stream.body = withResponseIdsInEvents(stream.body, (response) => this.#ownedResponse(response, deploymentId, tag, undefined, reference));
    return stream;
  }

  retrieve(principal: Principal, id: string, query: URLSearchParams, options: CallOptions): Promise<UpstreamJsonResponse> {
    return this.#answer(principal, id, (stored, upstreamId, call) => stored.retrieve(upstreamId, query, call), options);
  }

  async retrieveStream(principal: Principal, id: string, query: URLSearchParams, options: CallOptions): Promise<UpstreamStream> {
    const ref = this.#located(principal, id);
    const stream = await this.#onDeployment(id, ref, (stored, call) => stored.retrieveStream(ref.upstreamId, query, call), options);
    stream.body = withResponseIdsInEvents(stream.body, (response) => this.#ownedResponse(response, ref.deploymentId, ref.owner, id));
    return stream;
  }

  delete(principal: Principal, id: string, options: CallOptions): Promise<UpstreamJsonResponse> {
    return this.#answer(principal, id, (stored, upstreamId, call) => stored.delete(upstreamId, call), options);
  }

  /** The input items of a stored response: passed through (their ids are the items', not the response's). */
  async inputItems(principal: Principal, id: string, query: URLSearchParams, options: CallOptions): Promise<UpstreamJsonResponse> {
    const ref = this.#located(principal, id);
    return this.#onDeployment(id, ref, (stored, call) => stored.inputItems(ref.upstreamId, query, call), options);
  }

  cancel(principal: Principal, id: string, options: CallOptions): Promise<UpstreamJsonResponse> {
    return this.#answer(principal, id, (stored, upstreamId, call) => stored.cancel(upstreamId, call), options);
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
    if (typeof previous === 'string') owned.previous_response_id = previous === reference?.upstreamId ? reference.id : this.#ids.seal({ deploymentId, upstreamId: previous }, owner);
    return owned;
  }
}
