/**
 * Simulator of Google Cloud's Vertex AI for Portico's tests: a REMOTE service double written from
 * Google's public REST references (copied in docs/specs/vertex-ai.md), not from Portico. One
 * origin serves what a Vertex deployment talks to:
 *
 * - OAuth 2.0 (`POST /token`, vertex/oauth.ts): service-account JWT assertions verified with the
 *   test key pair's public key, short-lived bearer tokens; every other route needs a valid one
 *   (401 UNAUTHENTICATED for a missing, unknown or expired token);
 * - Google's models, `/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent`,
 *   `:streamGenerateContent` (`?alt=sse`: one event per chunk, else a JSON array) and `:predict`
 *   (text embeddings), on the Gemini simulator's model (gemini/generate.ts);
 * - Anthropic's Claude, `.../publishers/anthropic/models/{m}:rawPredict` and `:streamRawPredict`:
 *   the Messages API body with `anthropic_version: "vertex-2023-10-16"` and no `model`
 *   (https://docs.anthropic.com/en/api/claude-on-vertex-ai), on the Anthropic simulator's model;
 * - batch prediction jobs (vertex/batch-jobs.ts) for Google's and Anthropic's models over Cloud
 *   Storage's JSON API (vertex/cloud-storage.ts).
 *
 * ```ts
 * const sim = await startVertexSimulator();
 * const key = sim.serviceAccountKey(); // token_uri = `${sim.url}/token`
 * ```
 * Proven by `@google/genai` (Vertex mode) and `@google-cloud/storage` in vertex-simulator.test.ts.
 * Throttling: `failNext({status: 429})` answers RESOURCE_EXHAUSTED; `refuseBatchCreates(n)` refuses
 * the next n job creates with it; `setJobQuota(n)` caps the batch
 * prediction jobs running at once (a create over it: 429 RESOURCE_EXHAUSTED, vertex/batch-jobs.ts). The project in paths must be
 * the simulator's (`project`, default `portico-test-project`), else 403 PERMISSION_DENIED.
 */
import { randomBase62 } from './common/ids.ts';
import { bearerToken, everyStep, sseFrame, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';
import { countTokens, embeddingVector } from './common/fake-model.ts';
import { anthropicErrorBody } from './anthropic/errors.ts';
import { messageStreamEvents, type MessageContext } from './anthropic/messages.ts';
import { googleError, googleErrorBody } from './gemini/errors.ts';
import { generate, isRecord, streamChunks, type GenerateContext } from './gemini/generate.ts';
import { BatchJobStore, type SimulatedJob } from './vertex/batch-jobs.ts';
import { answerClaudeRequest, VERTEX_ANTHROPIC_VERSION } from './vertex/claude-requests.ts';
import { CloudStorage, type StoredObject } from './vertex/cloud-storage.ts';
import { TokenAuthority, unauthenticated, type ServiceAccountKeyFile } from './vertex/oauth.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export type { ServiceAccountKeyFile } from './vertex/oauth.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';

export const VERTEX_SIMULATOR_PROJECT = 'portico-test-project';
export const VERTEX_SIMULATOR_ACCOUNT = 'portico-tests@portico-test-project.iam.gserviceaccount.com';
export { VERTEX_ANTHROPIC_VERSION };

export interface VertexSimulatorOptions {
  port?: number;
  project?: string;
  /** Seconds a token lives (Google: 3600). */
  tokenLifetimeSeconds?: number;
  /** The most batch prediction jobs the project runs at once (unlimited by default). */
  jobQuota?: number;
  /** Advance batch jobs every this many milliseconds. */
  batchStepMs?: number;
}

export interface VertexSimulator extends BaseSimulator {
  project: string;
  /** A service-account key file of the test account, `token_uri` on this simulator. */
  serviceAccountKey(): ServiceAccountKeyFile;
  /** Tokens issued so far. */
  readonly tokensIssued: number;
  /** Seconds a new token lives. */
  setTokenLifetime(seconds: number): void;
  /** Ends every issued token now. */
  expireTokens(): void;
  /** Ends one token now. */
  expireToken(token: string): void;
  /** Requests refused for a missing, unknown or expired token. */
  readonly rejectedTokens: number;
  jobs: Map<string, SimulatedJob>;
  objects: Map<string, StoredObject>;
  storage: CloudStorage;
  /** Ends a live job EXPIRED (its numeric id). */
  expireJob(id: string): void;
  /** The most batch prediction jobs the project runs at once; `undefined`: unlimited. */
  setJobQuota(quota: number | undefined): void;
  /** Job creates refused for the quota so far. */
  readonly quotaRefusals: number;
  /** Answers the next `count` job creates 429 RESOURCE_EXHAUSTED (no job made). */
  refuseBatchCreates(count: number): void;
  /** The same count as `quotaRefusals`, under the name every batch simulator gives it. */
  readonly batchCreateRefusals: number;
}

export async function startVertexSimulator(options: VertexSimulatorOptions = {}): Promise<VertexSimulator> {
  const project = options.project ?? VERTEX_SIMULATOR_PROJECT;
  const authority = new TokenAuthority({ clientEmail: VERTEX_SIMULATOR_ACCOUNT, tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600 });
  const geminiCtx: GenerateContext = { modelError: () => null, promptCache: new Set() };
  const claudeCtx: MessageContext = { modelError: () => null, promptCache: new Set(), serviceTier: 'standard' };
  const storage = new CloudStorage();
  const jobs = new BatchJobStore(storage, { gemini: geminiCtx, claude: claudeCtx });
  jobs.jobQuota = options.jobQuota;
  let rejectedTokens = 0;
  const checkProject = (p: string): SimReply | null => (p === project ? null : googleError(403, `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${p}' (or it may not exist).`));
  const models = '^\\/v1\\/projects\\/([^/]+)\\/locations\\/([^/]+)\\/publishers';

  const server = await startSimulatorServer({
    port: options.port,
    routes: [
      { method: 'POST', path: /^\/token$/, handle: (req) => authority.tokenRoute(req) },
      { method: 'POST', path: new RegExp(`${models}\\/google\\/models\\/([^/:]+):generateContent$`), handle: (req, [p, , m]) => checkProject(p) ?? generateRoute(req, m, geminiCtx) },
      { method: 'POST', path: new RegExp(`${models}\\/google\\/models\\/([^/:]+):streamGenerateContent$`), handle: (req, [p, , m]) => checkProject(p) ?? streamRoute(req, m, geminiCtx) },
      { method: 'POST', path: new RegExp(`${models}\\/google\\/models\\/([^/:]+):predict$`), handle: (req, [p]) => checkProject(p) ?? predictRoute(req) },
      { method: 'POST', path: new RegExp(`${models}\\/anthropic\\/models\\/([^/:]+):rawPredict$`), handle: (req, [p, , m]) => checkProject(p) ?? claudeRoute(req, m, claudeCtx, false) },
      { method: 'POST', path: new RegExp(`${models}\\/anthropic\\/models\\/([^/:]+):streamRawPredict$`), handle: (req, [p, , m]) => checkProject(p) ?? claudeRoute(req, m, claudeCtx, true) },
      ...jobs.routes(checkProject),
      ...storage.routes(),
    ],
    notFound: (req) => googleError(404, `The requested URL ${req.path} was not found on this server.`),
    authenticate: (req) => {
      if (req.path === '/token') return null;
      if (authority.check(bearerToken(req)) === null) return null;
      rejectedTokens += 1;
      return unauthenticated();
    },
    failureBody: (status) => googleErrorBody(status),
    responseHeaders: () => ({ 'x-goog-request-id': randomBase62(16), server: 'ESF' }),
  });
  storage.setOrigin(server.origin);
  const stopSteps = everyStep(options.batchStepMs, () => jobs.advance());

  return {
    url: server.origin,
    project,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    serviceAccountKey: () => authority.keyFile(project, `${server.origin}/token`),
    get tokensIssued() {
      return authority.issued;
    },
    get rejectedTokens() {
      return rejectedTokens;
    },
    setTokenLifetime: (seconds) => {
      authority.tokenLifetimeSeconds = seconds;
    },
    expireTokens: () => authority.expireAll(),
    expireToken: (token) => authority.expire(token),
    jobs: jobs.jobs,
    objects: storage.objects,
    storage,
    expireJob: (id) => jobs.expire(id),
    setJobQuota: (quota) => {
      jobs.jobQuota = quota;
    },
    get quotaRefusals() {
      return jobs.quotaRefusals;
    },
    refuseBatchCreates: (count) => {
      jobs.refusing = count;
    },
    get batchCreateRefusals() {
      return jobs.quotaRefusals;
    },
    async advanceBatches() {
      jobs.advance();
    },
    async close() {
      stopSteps();
      await server.close();
    },
  };
}

function parsedBody(req: SimRequest): { body: Record<string, unknown> } | { invalid: SimReply } {
  return req.jsonError || !isRecord(req.json) ? { invalid: googleError(400, 'Invalid JSON payload received.') } : { body: req.json };
}

function errorReply(error: Record<string, unknown>): SimReply {
  return { status: error.code as number, json: { error } };
}

function generateRoute(req: SimRequest, model: string, ctx: GenerateContext): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const outcome = generate(model, parsed.body, ctx);
  return 'error' in outcome ? errorReply(outcome.error) : { status: 200, json: outcome.response };
}

function streamRoute(req: SimRequest, model: string, ctx: GenerateContext): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const outcome = generate(model, parsed.body, ctx);
  if ('error' in outcome) return errorReply(outcome.error);
  const chunks = streamChunks(outcome.response);
  if (req.query.alt !== 'sse') return { status: 200, json: chunks };
  return { status: 200, sse: chunks.map((chunk) => sseFrame(JSON.stringify(chunk))) };
}

/** Text embeddings: `{instances: [{content}], parameters: {outputDimensionality}}`. */
function predictRoute(req: SimRequest): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const instances = parsed.body.instances;
  if (!Array.isArray(instances) || instances.length === 0) return googleError(400, 'instances must be a non-empty list.');
  if (instances.length > 250) return googleError(400, 'The maximum number of instances per request is 250.');
  const parameters = isRecord(parsed.body.parameters) ? parsed.body.parameters : {};
  const dimensions = typeof parameters.outputDimensionality === 'number' ? parameters.outputDimensionality : 768;
  const predictions = [];
  for (const [i, instance] of instances.entries()) {
    if (!isRecord(instance) || typeof instance.content !== 'string' || instance.content === '') return googleError(400, `instances[${i}].content must be a non-empty string.`);
    predictions.push({ embeddings: { statistics: { truncated: false, token_count: countTokens(instance.content) }, values: embeddingVector(instance.content, dimensions) } });
  }
  const characters = instances.reduce((n, instance) => n + String((instance as { content: string }).content).length, 0);
  return { status: 200, json: { predictions, metadata: { billableCharacterCount: characters } } };
}

/** Claude on Vertex: the Messages API body, the model from the URL, the version in the body. */
function claudeRoute(req: SimRequest, model: string, ctx: MessageContext, stream: boolean): SimReply {
  const json = req.jsonError ? undefined : req.json;
  if (isRecord(json) && stream !== (json.stream === true)) {
    return { status: 400, json: anthropicErrorBody(400, stream ? 'stream: streamRawPredict needs "stream": true' : 'stream: use streamRawPredict for "stream": true', `req_vrtx_${randomBase62(22)}`) };
  }
  const outcome = answerClaudeRequest(json, model, ctx, { batch: false });
  if ('error' in outcome) return { status: outcome.status, json: outcome.error };
  if (!stream) return { status: 200, json: outcome.message };
  return { status: 200, sse: messageStreamEvents(outcome.message).map((e) => sseFrame(JSON.stringify(e.data), e.event)) };
}
