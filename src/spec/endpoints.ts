/**
 * The one endpoint table: every OpenAI endpoint Portico sends to a model, with the client method
 * that runs it, whether it streams, whether a key's `rpm_limit` / `tpm_limit` counts it, and
 * whether a batch line may target it. The live routes (`server/routes/inference.ts`), the key
 * rate-limit hook (`server/rate-limit-hook.ts`), the batch input checks (`managed/jsonl/`,
 * `managed/batches/batch-request.ts`) and the emulated line runner
 * (`managed/batches/executors/emulated-lines.ts`) all read it: a new endpoint is one entry here.
 */
import { z } from 'zod';
import { CapabilityUnsupportedError, InvalidRequestError } from './errors.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse, UpstreamStream } from './provider.ts';
import { chatRequestOfResponses, responseOfChatCompletion, responsesEventsOf } from './responses-bridge.ts';

type Body = Record<string, unknown>;

/** The client's answer, or undefined when the client has no such method (a capability it lacks). */
export type EndpointCall = (client: ProviderClient, body: Body, options: CallOptions) => Promise<UpstreamJsonResponse> | undefined;
export type EndpointStream = (client: ProviderClient, body: Body, options: CallOptions) => Promise<UpstreamStream> | undefined;

/** The fields every model endpoint's body has; the rest goes upstream untouched. */
export type ModelRequestBody = { model: string; stream?: boolean | null };

export interface Endpoint {
  /** The path with `/v1` (`/v1/chat/completions`): a batch line's `url`, a batch's `endpoint`. */
  readonly url: string;
  /** The path without `/v1`; Portico serves both (`server/routes/paths.ts`). */
  readonly path: string;
  /** Further paths the live route answers at, as written (LiteLLM serves rerank at `/v2/rerank` too). */
  readonly extraPaths?: readonly string[];
  /** Only the fields Portico needs are validated. Absent: not served as a live route. */
  readonly body?: z.ZodType<ModelRequestBody>;
  readonly call: EndpointCall;
  /** Absent when the endpoint has no streaming form. */
  readonly stream?: EndpointStream;
  /** Counted by a key's `rpm_limit` / `tpm_limit` (live routes only). */
  readonly rateLimited: boolean;
  /** Accepted as a batch's `endpoint` and a batch line's `url`. */
  readonly batchable: boolean;
  /**
   * Its answers are objects the upstream stores and later calls name by id (the Responses API):
   * the live route gives them the gateway's ids and sends follow-ups where they are stored.
   */
  readonly storesAnswers?: boolean;
  /** Its requests may name the caller's files by id (a chat `file` part, a Responses `input_file`): sent inline. */
  readonly namesFiles?: boolean;
}

const model = z.string().min(1);
const stream = z.boolean().nullish();

/** In the order OpenAI lists the batch endpoints (its error messages name them in this order). */
export const ENDPOINTS: readonly Endpoint[] = Object.freeze([
  {
    url: '/v1/responses',
    path: '/responses',
    // `input` may be absent (a stored prompt, `previous_response_id`), else a string or a list of items.
    body: z.looseObject({ model, input: z.union([z.string(), z.array(z.unknown())]).optional(), stream }),
    // A provider without a Responses API of its own answers it through its chat (`responses-bridge.ts`).
    call: (client, body, options) => (client.responses !== undefined ? client.responses(body, options) : bridgedResponses(client, body, options)),
    stream: (client, body, options) => (client.responsesStream !== undefined ? client.responsesStream(body, options) : bridgedResponsesStream(client, body, options)),
    rateLimited: true,
    batchable: true,
    storesAnswers: true,
    namesFiles: true,
  },
  {
    url: '/v1/chat/completions',
    path: '/chat/completions',
    body: z.looseObject({ model, messages: z.array(z.unknown()), stream }),
    call: (client, body, options) => client.chatCompletions(body, options),
    stream: (client, body, options) => client.chatCompletionsStream(body, options),
    rateLimited: true,
    batchable: true,
    namesFiles: true,
  },
  {
    url: '/v1/embeddings',
    path: '/embeddings',
    body: z.looseObject({ model, input: z.union([z.string(), z.array(z.unknown())]) }),
    call: (client, body, options) => client.embeddings?.(body, options),
    rateLimited: true,
    batchable: true,
  },
  {
    // Legacy completions: OpenAI-shaped upstreams (OpenAI, Azure, vLLM and other OpenAI-compatible
    // servers) pass them through; a provider without them answers 400, live or as a batch line.
    url: '/v1/completions',
    path: '/completions',
    body: z.looseObject({ model, prompt: z.union([z.string(), z.array(z.unknown())]), stream }),
    call: (client, body, options) => client.completions?.(body, options),
    stream: (client, body, options) => client.completionsStream?.(body, options),
    rateLimited: true,
    batchable: true,
  },
  {
    // OpenAI's moderations: OpenAI and the OpenAI-compatible servers that have them (Azure OpenAI
    // has none: a 400). `model` names the model group, as on every route.
    url: '/v1/moderations',
    path: '/moderations',
    body: z.looseObject({ model, input: z.union([z.string(), z.array(z.unknown())]) }),
    call: (client, body, options) => client.moderations?.(body, options),
    rateLimited: true,
    batchable: true,
  },
  {
    // OpenAI's image generation (OpenAI, Azure OpenAI, OpenAI-compatible servers), answered as
    // JSON; gpt-image-1's streamed partial images are not relayed (a 400).
    url: '/v1/images/generations',
    path: '/images/generations',
    body: z.looseObject({ model, prompt: z.string() }),
    call: (client, body, options) =>
      body.stream === true
        ? Promise.reject(new InvalidRequestError('Streamed image generation is not supported by this gateway; leave out `stream`.', { param: 'stream', code: 'unsupported_parameter' }))
        : client.imageGenerations?.(body, options),
    rateLimited: true,
    batchable: true,
  },
  {
    // LiteLLM's rerank, Cohere's request and answer (`spec/rerank.ts`), also at Cohere's own
    // `/v2/rerank` as LiteLLM serves it (Cohere's SDK pointed at Portico calls that path). Not
    // batchable: OpenAI's Batch API has no rerank endpoint.
    url: '/v1/rerank',
    path: '/rerank',
    extraPaths: ['/v2/rerank'],
    body: z.looseObject({ model, query: z.string(), documents: z.array(z.union([z.string(), z.looseObject({})])) }),
    call: (client, body, options) => client.rerank?.(body, options),
    rateLimited: true,
    batchable: false,
  },
] satisfies Endpoint[]);

/** A Responses request through the deployment's chat: the answer as a Response. */
async function bridgedResponses(client: ProviderClient, body: Body, options: CallOptions): Promise<UpstreamJsonResponse> {
  const { chat, warnings } = chatRequestOfResponses(body);
  const answer = await client.chatCompletions(chat, options);
  return {
    status: answer.status,
    body: responseOfChatCompletion(answer.body, body, String(body.model)),
    ...(answer.upstreamRequestId !== undefined && { upstreamRequestId: answer.upstreamRequestId }),
    ...(answer.droppedParams !== undefined && { droppedParams: answer.droppedParams }),
    warnings: [...warnings, ...(answer.warnings ?? [])],
  };
}

async function bridgedResponsesStream(client: ProviderClient, body: Body, options: CallOptions): Promise<UpstreamStream> {
  const { chat, warnings } = chatRequestOfResponses({ ...body, stream: true });
  const stream = await client.chatCompletionsStream(chat, options);
  return {
    status: stream.status,
    body: responsesEventsOf(stream.body, body, String(body.model)),
    ...(stream.upstreamRequestId !== undefined && { upstreamRequestId: stream.upstreamRequestId }),
    ...(stream.droppedParams !== undefined && { droppedParams: stream.droppedParams }),
    warnings: [...warnings, ...(stream.warnings ?? [])],
  };
}

/** The endpoints served as live routes (`POST /v1/...` and without `/v1`). */
export const ROUTE_ENDPOINTS: readonly (Endpoint & { body: z.ZodType<ModelRequestBody> })[] = ENDPOINTS.filter(
  (endpoint): endpoint is Endpoint & { body: z.ZodType<ModelRequestBody> } => endpoint.body !== undefined,
);

/** What a batch's `endpoint` and a batch line's `url` may be, `/v1/...`. */
export const BATCH_ENDPOINTS: readonly string[] = ENDPOINTS.filter((endpoint) => endpoint.batchable).map((endpoint) => endpoint.url);

const BY_URL: ReadonlyMap<string, Endpoint> = new Map(ENDPOINTS.map((endpoint) => [endpoint.url, endpoint]));

/** The entry of a `/v1/...` url; undefined for one Portico does not know. */
export function endpointOf(url: string): Endpoint | undefined {
  return BY_URL.get(url);
}

/** The 400 for a deployment whose client lacks the endpoint's method. */
export function unsupportedEndpoint(client: ProviderClient, url: string, options: { param?: string } = {}): never {
  throw new CapabilityUnsupportedError(
    `The deployment \`${client.deployment.id}\` of model \`${client.deployment.modelGroup}\` does not support ${url}.`,
    options,
  );
}
