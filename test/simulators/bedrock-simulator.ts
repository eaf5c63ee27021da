/**
 * Simulator of Amazon Bedrock for Portico's tests: a REMOTE service double written from the AWS
 * SDK's public service models (`bedrock-runtime.json`, `bedrock.json` in aws/aws-sdk-js-v3's
 * codegen/sdk-codegen/aws-models; the parts used are copied in docs/specs/bedrock.md) and AWS's
 * documentation, not from Portico. One origin serves what a Bedrock deployment talks to:
 *
 * - the runtime (bedrock/converse.ts, bedrock/invoke.ts): `POST /model/{modelId}/converse`,
 *   `/converse-stream` (answered in AWS event-stream framing, `application/vnd.amazon.eventstream`,
 *   encoded with `@smithy/eventstream-codec`), `/invoke` (Titan and Cohere embeddings, Claude), `/invoke-with-response-stream` (Claude: Anthropic's
 *   events as `chunk` events);
 * - the control plane (bedrock/jobs.ts): model invocation jobs over real S3 (s3rver, given);
 * - STS (bedrock/credentials.ts): `POST /` AssumeRole, issuing session credentials;
 * - IAM: every request must carry a valid SigV4 signature (service `bedrock`, or `sts` for STS,
 *   in the simulator's region) by a key it knows; a bad one is a 403 as AWS answers it.
 *
 * ```ts
 * const sim = await startBedrockSimulator({ s3: emulator });
 * const { accessKeyId, secretAccessKey } = sim.accessKey; // a long-term key pair
 * ```
 * Proven by `@aws-sdk/client-bedrock-runtime`, `@aws-sdk/client-bedrock` and STS in
 * bedrock-simulator.test.ts. Throttling: `failNext({status: 429})` answers ThrottlingException;
 * `refuseBatchCreates(n)` throttles the next n job creates (bedrock/jobs.ts).
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { randomUUID } from 'node:crypto';
import { everyStep, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest, type SimRoute } from './common/simulator-server.ts';
import { messageStreamEvents, type MessageContext } from './anthropic/messages.ts';
import { converse, isRecord, streamEvents, validateConverse, type ConverseContext } from './bedrock/converse.ts';
import { SimulatedIam, SIMULATOR_ACCOUNT } from './bedrock/credentials.ts';
import { awsError, awsErrorBody } from './bedrock/errors.ts';
import { invokeModel } from './bedrock/invoke.ts';
import { ModelInvocationJobs, type S3Access, type SimulatedJob } from './bedrock/jobs.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';
export { SIMULATOR_ACCOUNT } from './bedrock/credentials.ts';

export const BEDROCK_SIMULATOR_REGION = 'us-east-1';
/** A role the simulator's STS lets any known key assume. */
export const BEDROCK_SIMULATOR_ROLE = `arn:aws:iam::${SIMULATOR_ACCOUNT}:role/portico-bedrock`;
/** A service role for batch jobs. */
export const BEDROCK_BATCH_ROLE = `arn:aws:iam::${SIMULATOR_ACCOUNT}:role/service-role/portico-batch`;

export interface BedrockSimulatorOptions {
  port?: number;
  region?: string;
  /** Where batch jobs read and write their objects. */
  s3?: S3Access;
  batchStepMs?: number;
}

export interface BedrockSimulator extends BaseSimulator {
  region: string;
  /** A long-term key pair the simulator knows. */
  accessKey: { accessKeyId: string; secretAccessKey: string };
  iam: SimulatedIam;
  jobs: Map<string, SimulatedJob>;
  /** Ends a live job Expired (its 12-character id). */
  expireJob(id: string): void;
  /** Answers the next `count` CreateModelInvocationJob calls 429 ThrottlingException (no job made). */
  refuseBatchCreates(count: number): void;
  /** Job creates refused so far. */
  readonly batchCreateRefusals: number;
}

const MODEL = '^\\/model\\/([^/]+)';

export async function startBedrockSimulator(options: BedrockSimulatorOptions = {}): Promise<BedrockSimulator> {
  const region = options.region ?? BEDROCK_SIMULATOR_REGION;
  const iam = new SimulatedIam();
  const accessKey = iam.createAccessKey();
  const converseCtx: ConverseContext = { promptCache: new Set() };
  const claudeCtx: MessageContext = { modelError: () => null, promptCache: new Set(), serviceTier: 'batch' };
  const jobs = new ModelInvocationJobs({ s3: options.s3, region, account: SIMULATOR_ACCOUNT, claude: claudeCtx });
  const codec = new EventStreamCodec(toUtf8, fromUtf8);

  /** Every route verifies the caller's signature first. */
  const signed = (service: string, route: SimRoute): SimRoute => ({
    ...route,
    handle: async (req, params) => {
      const verified = await iam.verify(req, { region, service });
      return 'refusal' in verified ? verified.refusal : route.handle(req, params);
    },
  });

  const eventFrame = (eventType: string, payload: Record<string, unknown>): Uint8Array =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: eventType },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      // Bedrock pads each payload with a `p` field of varying length.
      body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123'.slice(0, 1 + (eventType.length % 20)) })),
    });

  function converseRoute(req: SimRequest, modelId: string, stream: boolean): SimReply {
    if (req.jsonError || !isRecord(req.json)) return awsError('ValidationException', 'Malformed input request, please reformat your input and try again.');
    const invalid = validateConverse(modelId, req.json);
    if (invalid) return awsError(invalid.type, invalid.message, invalid.status);
    const outcome = converse(modelId, req.json, converseCtx);
    if ('failure' in outcome) return awsError(outcome.failure.type, outcome.failure.message, outcome.failure.status);
    if (!stream) return { status: 200, json: outcome.response };
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.amazon.eventstream' },
      frames: streamEvents(outcome.response).map(([type, payload]) => eventFrame(type, payload)),
    };
  }

  /**
   * `invoke-with-response-stream` for Claude: Anthropic's stream events, each as a `chunk` event
   * whose payload's `bytes` are the event's JSON in base64
   * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html).
   */
  function invokeStreamRoute(req: SimRequest, modelId: string): SimReply {
    if (req.jsonError || !isRecord(req.json)) return awsError('ValidationException', 'Malformed input request, please reformat your input and try again.');
    if (!modelId.includes('anthropic.claude-')) return awsError('ValidationException', 'The model is unsupported for streaming.');
    const outcome = invokeModel(modelId, req.json, { ...claudeCtx, serviceTier: 'standard' });
    if ('failure' in outcome) return awsError(outcome.failure.type, outcome.failure.message, outcome.failure.status);
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.amazon.eventstream' },
      frames: messageStreamEvents(outcome.body).map((event) => eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event.data)).toString('base64') })),
    };
  }

  function invokeRoute(req: SimRequest, modelId: string): SimReply {
    if (req.jsonError || !isRecord(req.json)) return awsError('ValidationException', 'Malformed input request, please reformat your input and try again.');
    const outcome = invokeModel(modelId, req.json, { ...claudeCtx, serviceTier: 'standard' });
    if ('failure' in outcome) return awsError(outcome.failure.type, outcome.failure.message, outcome.failure.status);
    return {
      status: 200,
      json: outcome.body,
      headers: { 'x-amzn-bedrock-input-token-count': String(outcome.inputTokens), 'x-amzn-bedrock-output-token-count': String(outcome.outputTokens) },
    };
  }

  const server = await startSimulatorServer({
    port: options.port,
    routes: [
      signed('bedrock', { method: 'POST', path: new RegExp(`${MODEL}\\/converse$`), handle: (req, [m]) => converseRoute(req, m, false) }),
      signed('bedrock', { method: 'POST', path: new RegExp(`${MODEL}\\/converse-stream$`), handle: (req, [m]) => converseRoute(req, m, true) }),
      signed('bedrock', { method: 'POST', path: new RegExp(`${MODEL}\\/invoke$`), handle: (req, [m]) => invokeRoute(req, m) }),
      signed('bedrock', { method: 'POST', path: new RegExp(`${MODEL}\\/invoke-with-response-stream$`), handle: (req, [m]) => invokeStreamRoute(req, m) }),
      ...jobs.routes().map((route) => signed('bedrock', route)),
      signed('sts', { method: 'POST', path: /^\/$/, handle: (req) => iam.assumeRole(req) }),
    ],
    notFound: () => awsError('UnknownOperationException', 'The requested operation is not recognized by the service.', 404),
    authenticate: () => null,
    failureBody: (status) => awsErrorBody(status),
    responseHeaders: () => ({ 'x-amzn-requestid': randomUUID() }),
  });
  const stopSteps = everyStep(options.batchStepMs, () => jobs.advance());

  return {
    url: server.origin,
    region,
    accessKey,
    iam,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    jobs: jobs.jobs,
    expireJob: (id) => jobs.expire(id),
    refuseBatchCreates: (count) => {
      jobs.refusing = count;
    },
    get batchCreateRefusals() {
      return jobs.createRefusals;
    },
    advanceBatches: () => jobs.advance(),
    async close() {
      stopSteps();
      await server.close();
    },
  };
}
