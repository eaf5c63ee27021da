/**
 * Simulator of Cloudflare Workers AI's REST API (`api.cloudflare.com/client/v4`) for Portico's
 * tests: a REMOTE service double written from Cloudflare's public reference
 * (https://developers.cloudflare.com/api/resources/ai/methods/run/ and the model pages of
 * https://developers.cloudflare.com/workers-ai/models/), not from Portico. Proven by Cloudflare's
 * official TypeScript SDK (`cloudflare`) in cloudflare-simulator.test.ts.
 *
 * ```ts
 * const sim = await startCloudflareSimulator();
 * // sim.url = http://127.0.0.1:PORT; the SDK's baseURL is `${sim.url}/client/v4`,
 * // LiteLLM's api_base `${sim.url}/client/v4/accounts/${sim.accountId}/ai/run/`
 * new Cloudflare({ apiToken: CLOUDFLARE_SIMULATOR_API_TOKEN, baseURL: `${sim.url}/client/v4` });
 * ```
 *
 * - `POST /client/v4/accounts/{account}/ai/run/{model}`: the model name keeps its slashes
 *   (`@cf/meta/llama-3.1-8b-instruct`), written as is or percent-encoded (the SDK sends `%2F`);
 *   text generation plain and streamed (`"stream": true`: `data: {"response": ...}` events,
 *   `usage` on the last, `data: [DONE]`), and text embeddings (cloudflare/generate.ts);
 * - auth: `Authorization: Bearer <token>`; a missing or wrong one is 401, code 10000;
 * - an account other than the simulator's is 404, code 7003 ("Could not route to ...");
 *   a model it does not serve is 400, code 5007 ("No such model ... or task");
 * - throttling: `failNext({status: 429})` answers code 3040 "No more data centers to forward the
 *   request to" (with `retry-after` when the test gives it), as does `rateLimitPerMinute`;
 * - every answer carries a `cf-ray` id.
 */
import { randomHex } from './common/ids.ts';
import { bearerToken, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';
import { cloudflareError, cloudflareErrorBody } from './cloudflare/errors.ts';
import { embed, generate, isRecord } from './cloudflare/generate.ts';
import { DEFAULT_MODELS, type SimulatedModels } from './cloudflare/models.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';

export const CLOUDFLARE_SIMULATOR_API_TOKEN = 'cf-simulator-token-0123456789abcdefghijklmn';
/** Cloudflare account ids are 32 hex digits. */
export const CLOUDFLARE_SIMULATOR_ACCOUNT_ID = '0123456789abcdef0123456789abcdef';

export interface CloudflareSimulatorOptions {
  apiToken?: string;
  accountId?: string;
  port?: number;
  models?: SimulatedModels;
  /** Whether text generation answers carry `usage` (default true; older models' answers have none). */
  reportUsage?: boolean;
  /** Model calls allowed per minute before 429, code 3040. */
  rateLimitPerMinute?: number;
}

export interface CloudflareSimulator extends BaseSimulator {
  readonly accountId: string;
  /** LiteLLM's `api_base` for this simulator: `${url}/client/v4/accounts/${accountId}/ai/run/`. */
  readonly runUrlPrefix: string;
}

const RUN_PATH = /^\/client\/v4\/accounts\/([^/]+)\/ai\/run\/(.+)$/;

export async function startCloudflareSimulator(options: CloudflareSimulatorOptions = {}): Promise<CloudflareSimulator> {
  const apiToken = options.apiToken ?? CLOUDFLARE_SIMULATOR_API_TOKEN;
  const accountId = options.accountId ?? CLOUDFLARE_SIMULATOR_ACCOUNT_ID;
  const models = options.models ?? DEFAULT_MODELS;
  const reportUsage = options.reportUsage ?? true;
  const calls: number[] = [];
  const throttled = (): SimReply | null => {
    if (options.rateLimitPerMinute === undefined) return null;
    const now = Date.now();
    while (calls.length > 0 && calls[0] < now - 60_000) calls.shift();
    if (calls.length >= options.rateLimitPerMinute) return cloudflareError(429);
    calls.push(now);
    return null;
  };

  const run = (req: SimRequest, [account, model]: string[]): SimReply => {
    if (account !== accountId) return cloudflareError(404, 7003, `Could not route to ${req.path}, perhaps your object identifier is invalid?`);
    const textModel = models.textGeneration.get(model);
    const dimensions = models.embeddings.get(model);
    if (textModel === undefined && dimensions === undefined) return cloudflareError(400, 5007, `No such model ${model} or task`);
    if (req.jsonError || !isRecord(req.json)) return cloudflareError(400, 3003, 'Request is missing headers or body: body is not JSON');
    const limited = throttled();
    if (limited !== null) return limited;
    if (dimensions !== undefined) return embed(req.json, dimensions);
    return generate(req.json, { vision: textModel!.vision, reportUsage });
  };

  const server = await startSimulatorServer({
    port: options.port,
    routes: [{ method: 'POST', path: RUN_PATH, handle: run }],
    notFound: (req) => cloudflareError(404, 7003, `Could not route to ${req.path}, perhaps your object identifier is invalid?`),
    authenticate: (req) => (bearerToken(req) === apiToken ? null : cloudflareError(401)),
    failureBody: (status) => cloudflareErrorBody(status),
    responseHeaders: () => ({ 'cf-ray': `${randomHex(16)}-SJC`, server: 'cloudflare' }),
  });

  return {
    url: server.origin,
    accountId,
    runUrlPrefix: `${server.origin}/client/v4/accounts/${accountId}/ai/run/`,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    async advanceBatches() {
      // Workers AI's async batch API (`queueRequest`) is not simulated: batches run on Portico's engine.
    },
    close: () => server.close(),
  };
}
