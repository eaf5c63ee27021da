/**
 * Simulator of IBM watsonx.ai (`https://<region>.ml.cloud.ibm.com`) and of IBM Cloud IAM's token
 * endpoint, for Portico's tests: a REMOTE service double written from IBM's public references
 * (https://cloud.ibm.com/apidocs/watsonx-ai: text chat, chat stream, embeddings; and
 * https://cloud.ibm.com/docs/account?topic=account-iamtoken_from_apikey), not from Portico.
 * Proven by IBM's official SDK (`@ibm-cloud/watsonx-ai`, with `ibm-cloud-sdk-core`'s
 * `IamAuthenticator`) in watsonx-simulator.test.ts.
 *
 * ```ts
 * const sim = await startWatsonxSimulator();
 * // service URL: sim.url; IAM token URL: sim.iamUrl; API key: WATSONX_SIMULATOR_API_KEY; project: WATSONX_SIMULATOR_PROJECT_ID
 * ```
 *
 * - `POST /identity/token` (form: `grant_type=urn:ibm:params:oauth:grant-type:apikey`, `apikey`):
 *   `{access_token, refresh_token, token_type, expires_in, expiration}`; a wrong key is 400
 *   `BXNIM0415E`. `sim.tokensIssued` counts the exchanges;
 * - `POST /ml/v1/text/chat`, `/ml/v1/text/chat_stream` (`id:` / `event: message` / `data:` events,
 *   usage on the last), `/ml/v1/deployments/{id}/text/chat(_stream)`, `POST /ml/v1/text/embeddings`;
 *   each needs `?version=YYYY-MM-DD` (400 otherwise), a bearer token IAM issued (401), and, but for
 *   a deployment, `model_id` and a `project_id` or `space_id` (400);
 * - the fake model (common/fake-model.ts) echoes the last user text; `FAIL` is a 400, `FAIL:<status>`
 *   that status; with tools, `use tool` makes a tool call. Errors are
 *   `{"errors": [{"code", "message", "more_info"}], "trace", "status_code"}`.
 */
import { randomHex } from './common/ids.ts';
import { countTokens, embeddingVector, requestedFailureStatus, streamPieces, textOf, toolArguments, TOOL_TRIGGER } from './common/fake-model.ts';
import { bearerToken, sseFrame, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';

export type { BaseSimulator } from './common/simulator-server.ts';

export const WATSONX_SIMULATOR_API_KEY = 'wx-simulator-api-key-0123456789';
export const WATSONX_SIMULATOR_PROJECT_ID = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const EMBEDDING_DIMENSIONS = 384;

export interface WatsonxSimulator extends BaseSimulator {
  /** The service URL (`https://us-south.ml.cloud.ibm.com` in life). */
  url: string;
  /** IBM Cloud IAM's token endpoint. */
  iamUrl: string;
  /** How many tokens IAM issued. */
  tokensIssued(): number;
  /** Makes every token issued so far invalid (a revoked or expired token: the next call is a 401). */
  revokeTokens(): void;
}

type Json = Record<string, unknown>;

function wxError(status: number, code: string, message: string): SimReply {
  return { status, json: { errors: [{ code, message, more_info: 'https://cloud.ibm.com/apidocs/watsonx-ai' }], trace: randomHex(32), status_code: status } };
}

export async function startWatsonxSimulator(options: { port?: number; tokenLifetimeSeconds?: number } = {}): Promise<WatsonxSimulator> {
  const tokens = new Set<string>();
  let issued = 0;
  const lifetime = options.tokenLifetimeSeconds ?? 3600;

  const iam = (req: SimRequest): SimReply => {
    const form = new URLSearchParams(req.body.toString('utf8'));
    if (form.get('grant_type') !== 'urn:ibm:params:oauth:grant-type:apikey') {
      return { status: 400, json: { errorCode: 'BXNIM0109E', errorMessage: 'Property missing or empty. Operation not allowed.', context: { requestId: randomHex(16) } } };
    }
    if (form.get('apikey') !== WATSONX_SIMULATOR_API_KEY) {
      return { status: 400, json: { errorCode: 'BXNIM0415E', errorMessage: 'Provided API key could not be found.', context: { requestId: randomHex(16) } } };
    }
    const now = Math.floor(Date.now() / 1000);
    // IAM's access tokens are JWTs (the SDKs read their `exp`); this one's signature is not checked by anyone.
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ kid: 'simulator', alg: 'RS256' })}.${part({ iam_id: 'iam-ServiceId-simulator', sub: 'ServiceId-simulator', iat: now, exp: now + lifetime, jti: randomHex(16) })}.${Buffer.from(randomHex(32), 'hex').toString('base64url')}`;
    tokens.add(token);
    issued += 1;
    return { status: 200, json: { access_token: token, refresh_token: 'not_supported', token_type: 'Bearer', expires_in: lifetime, expiration: now + lifetime, scope: 'ibm openid' } };
  };

  /** The checks every watsonx.ai call makes; undefined when it may proceed. */
  const refused = (req: SimRequest, deployment: boolean): SimReply | undefined => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(req.query.version ?? '')) return wxError(400, 'invalid_request_entity', "Missing query parameter 'version'");
    const token = bearerToken(req);
    if (token === undefined || !tokens.has(token)) return wxError(401, 'authentication_token_not_valid', 'Failed to authenticate the request due to invalid token: Failed to parse and verify token');
    if (typeof req.json !== 'object' || req.json === null) return wxError(400, 'json_type_error', 'Json document validation error: the body is not a JSON object');
    const body = req.json as Json;
    if (!deployment) {
      if (typeof body.model_id !== 'string') return wxError(400, 'json_validation_error', "Json document validation error: 'model_id' is required");
      if (typeof body.project_id !== 'string' && typeof body.space_id !== 'string') return wxError(400, 'invalid_input_argument', 'Either space_id or project_id has to be provided');
    }
    return undefined;
  };

  const chatAnswer = (body: Json, model: string): { status: number; json: Json } | SimReply => {
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const text = textOf(lastUser?.content);
    const failure = requestedFailureStatus(text);
    if (failure !== null) return wxError(failure, failure === 400 ? 'invalid_input_argument' : 'internal_error', `The model refused the request (${text.trim()}).`);
    const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
    const toolCall = tools.length > 0 && TOOL_TRIGGER.test(text) ? (tools[0]!.function as Json) : undefined;
    const promptTokens = messages.reduce((sum, message) => sum + countTokens(textOf(message.content)), 0) + 3;
    const completionTokens = countTokens(text);
    const message: Json = toolCall
      ? { role: 'assistant', content: '', tool_calls: [{ id: `chatcmpl-tool-${randomHex(16)}`, type: 'function', function: { name: toolCall.name, arguments: JSON.stringify(toolArguments(toolCall.parameters, text)) } }] }
      : { role: 'assistant', content: text };
    return {
      status: 200,
      json: {
        id: `chatcmpl-${randomHex(24)}`,
        object: 'chat.completion',
        model_id: model,
        model,
        choices: [{ index: 0, message, finish_reason: toolCall ? 'tool_calls' : 'stop' }],
        created: Math.floor(Date.now() / 1000),
        model_version: '1.0.0',
        created_at: new Date().toISOString(),
        usage: { completion_tokens: completionTokens, prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens },
      },
    };
  };

  const chat = (req: SimRequest, params: string[], stream: boolean): SimReply => {
    const deployment = params[0] !== undefined;
    const problem = refused(req, deployment);
    if (problem !== undefined) return problem;
    const body = req.json as Json;
    const model = deployment ? decodeURIComponent(params[0]!) : String(body.model_id);
    const answer = chatAnswer(body, model);
    if (answer.status !== 200 || !stream) return answer;
    const full = (answer as { json: Json }).json;
    const choice = (full.choices as Json[])[0]!;
    const message = choice.message as Json;
    const base = { id: full.id, object: 'chat.completion.chunk', model_id: model, model, created: full.created, model_version: '1.0.0', created_at: full.created_at };
    const chunks: Json[] = [{ ...base, choices: [{ index: 0, finish_reason: null, delta: { role: 'assistant', content: '' } }] }];
    if (Array.isArray(message.tool_calls)) chunks.push({ ...base, choices: [{ index: 0, finish_reason: null, delta: { tool_calls: (message.tool_calls as Json[]).map((call, index) => ({ index, ...call })) } }] });
    else for (const piece of streamPieces(String(message.content))) chunks.push({ ...base, choices: [{ index: 0, finish_reason: null, delta: { content: piece } }] });
    chunks.push({ ...base, choices: [{ index: 0, finish_reason: choice.finish_reason, delta: {} }], usage: full.usage });
    return { status: 200, sse: chunks.map((chunk, index) => `id: ${index + 1}\n${sseFrame(JSON.stringify(chunk), 'message')}`) };
  };

  const embeddings = (req: SimRequest): SimReply => {
    const problem = refused(req, false);
    if (problem !== undefined) return problem;
    const body = req.json as Json;
    if (!Array.isArray(body.inputs) || body.inputs.some((input) => typeof input !== 'string')) return wxError(400, 'json_validation_error', "Json document validation error: 'inputs' must be a list of strings");
    const inputs = body.inputs as string[];
    return {
      status: 200,
      json: {
        model_id: body.model_id,
        results: inputs.map((input) => ({ embedding: embeddingVector(input, EMBEDDING_DIMENSIONS) })),
        created_at: new Date().toISOString(),
        input_token_count: inputs.reduce((sum, input) => sum + countTokens(input), 0),
      },
    };
  };

  const server = await startSimulatorServer({
    port: options.port,
    routes: [
      { method: 'POST', path: /^\/identity\/token$/, handle: iam },
      { method: 'POST', path: /^\/ml\/v1\/text\/chat$/, handle: (req) => chat(req, [], false) },
      { method: 'POST', path: /^\/ml\/v1\/text\/chat_stream$/, handle: (req) => chat(req, [], true) },
      { method: 'POST', path: /^\/ml\/v1\/deployments\/([^/]+)\/text\/chat$/, handle: (req, params) => chat(req, params, false) },
      { method: 'POST', path: /^\/ml\/v1\/deployments\/([^/]+)\/text\/chat_stream$/, handle: (req, params) => chat(req, params, true) },
      { method: 'POST', path: /^\/ml\/v1\/text\/embeddings$/, handle: embeddings },
    ],
    notFound: (req) => wxError(404, 'not_found', `Route ${req.method} ${req.path} not found`),
    // Each route checks its own credentials (the token endpoint takes none).
    authenticate: () => null,
    failureBody: (status) => (wxError(status, status === 429 ? 'too_many_requests' : 'internal_error', status === 429 ? 'Rate limit exceeded' : 'Internal server error') as { json: unknown }).json,
    responseHeaders: () => ({ 'x-global-transaction-id': randomHex(24) }),
  });

  return {
    url: server.origin,
    iamUrl: `${server.origin}/identity/token`,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    tokensIssued: () => issued,
    revokeTokens: () => tokens.clear(),
    // watsonx.ai's batch API is not simulated: nothing to advance.
    advanceBatches: async () => undefined,
    close: () => server.close(),
  };
}
