/**
 * Bedrock batch inference: model invocation jobs on the control plane, from the `bedrock`
 * service model (docs/specs/bedrock.md §Batch inference): `POST /model-invocation-job`
 * (CreateModelInvocationJob), `GET /model-invocation-job/{jobIdentifier}`, `GET
 * /model-invocation-jobs` (with `nameContains`, `maxResults`, `nextToken`), `POST
 * /model-invocation-job/{jobIdentifier}/stop`.
 *
 * Jobs read and write REAL S3 objects through `@aws-sdk/client-s3` (the tests give an s3rver
 * emulator): the input `{recordId, modelInput}` JSONL at `inputDataConfig.s3InputDataConfig.s3Uri`,
 * the output `<outputUri>/<jobId>/<input name>.out` (`{recordId, modelInput, modelOutput}` or
 * `{..., error: {errorCode, errorMessage}}` per record) and `manifest.json.out`. A job of
 * `modelInvocationType: Converse` takes Converse requests as `modelInput` and answers Converse
 * responses; an InvokeModel job (the default) the model's native bodies.
 *
 * A job ENDS ON THE SECOND `advance()`: Submitted -> InProgress (the input is read and checked:
 * a missing object or fewer than 100 records fails it) -> Completed (PartiallyCompleted when a
 * record failed). Stop is asynchronous: Stopping, then Stopped on the next `advance()`, with no
 * output. `expire(id)` ends a live job Expired. A `clientRequestToken` seen before answers the
 * same job.
 *
 * `refusing`: the next creates are throttled as Bedrock's control plane throttles them, HTTP 429
 * with `x-amzn-ErrorType: ThrottlingException` (CreateModelInvocationJob's errors in bedrock.json),
 * making no job.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MessageContext } from '../anthropic/messages.ts';
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { converse, isRecord, validateConverse, type ConverseContext } from './converse.ts';
import { awsError, ERROR_STATUS } from './errors.ts';
import { invokeModel, type InvokeOutcome } from './invoke.ts';

type Json = Record<string, unknown>;

export const MIN_RECORDS = 100;

export interface S3Access {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SimulatedJob {
  id: string;
  resource: Json;
}

const LIVE = new Set(['Submitted', 'Validating', 'Scheduled', 'InProgress']);
const JOB_NAME = /^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/;
const ROLE_ARN = /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/;

export class ModelInvocationJobs {
  readonly jobs = new Map<string, SimulatedJob>();
  /** Creates still to refuse with ThrottlingException, and those refused so far. */
  refusing = 0;
  createRefusals = 0;
  readonly #s3: S3Client | undefined;
  readonly #claude: MessageContext;
  readonly #converseCtx: ConverseContext = { promptCache: new Set() };
  readonly #region: string;
  readonly #account: string;
  /** Records of jobs that did not end yet, read when they started. */
  readonly #inputs = new Map<string, Json[]>();

  constructor(options: { s3?: S3Access; region: string; account: string; claude: MessageContext }) {
    this.#s3 =
      options.s3 === undefined
        ? undefined
        : new S3Client({ region: options.region, endpoint: options.s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: options.s3.accessKeyId, secretAccessKey: options.s3.secretAccessKey } });
    this.#claude = options.claude;
    this.#region = options.region;
    this.#account = options.account;
  }

  routes(): SimRoute[] {
    return [
      { method: 'POST', path: /^\/model-invocation-job$/, handle: (req) => this.#create(req) },
      { method: 'GET', path: /^\/model-invocation-jobs$/, handle: (req) => this.#list(req) },
      { method: 'GET', path: /^\/model-invocation-job\/([^/]+)$/, handle: (_req, [id]) => this.#get(id) },
      { method: 'POST', path: /^\/model-invocation-job\/([^/]+)\/stop$/, handle: (_req, [id]) => this.#stop(id) },
    ];
  }

  /** Moves every live job one step (see the header). */
  async advance(): Promise<void> {
    for (const job of [...this.jobs.values()]) {
      const r = job.resource;
      if (r.status === 'Stopping') this.#end(job, 'Stopped');
      else if (r.status === 'Submitted') await this.#start(job);
      else if (r.status === 'InProgress') await this.#complete(job);
    }
  }

  expire(id: string): void {
    const job = this.jobs.get(id);
    if (job && LIVE.has(String(job.resource.status))) this.#end(job, 'Expired', 'The job did not finish within its timeout.');
  }

  #create(req: SimRequest): SimReply {
    if (this.refusing > 0) {
      this.refusing -= 1;
      this.createRefusals += 1;
      return awsError('ThrottlingException', 'Too many requests, please wait before trying again. You have exceeded the rate of CreateModelInvocationJob requests or the number of concurrent batch inference jobs.');
    }
    const body = req.json;
    if (!isRecord(body)) return awsError('ValidationException', 'The request body is not JSON.');
    for (const key of ['jobName', 'roleArn', 'modelId', 'inputDataConfig', 'outputDataConfig']) {
      if (body[key] === undefined) return awsError('ValidationException', `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`);
    }
    if (typeof body.jobName !== 'string' || !JOB_NAME.test(body.jobName)) return awsError('ValidationException', "Value at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern");
    if (typeof body.roleArn !== 'string' || !ROLE_ARN.test(body.roleArn)) return awsError('ValidationException', "Value at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern");
    const input = isRecord(body.inputDataConfig) && isRecord(body.inputDataConfig.s3InputDataConfig) ? body.inputDataConfig.s3InputDataConfig : undefined;
    const output = isRecord(body.outputDataConfig) && isRecord(body.outputDataConfig.s3OutputDataConfig) ? body.outputDataConfig.s3OutputDataConfig : undefined;
    if (typeof input?.s3Uri !== 'string' || !input.s3Uri.startsWith('s3://')) return awsError('ValidationException', 'inputDataConfig.s3InputDataConfig.s3Uri must be an S3 URI.');
    if (typeof output?.s3Uri !== 'string' || !output.s3Uri.startsWith('s3://')) return awsError('ValidationException', 'outputDataConfig.s3OutputDataConfig.s3Uri must be an S3 URI.');
    const invocationType = body.modelInvocationType ?? 'InvokeModel';
    if (invocationType !== 'InvokeModel' && invocationType !== 'Converse') return awsError('ValidationException', "Value at 'modelInvocationType' failed to satisfy constraint: Member must satisfy enum value set: [InvokeModel, Converse]");
    const hours = body.timeoutDurationInHours ?? 168;
    if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 24 || hours > 168) return awsError('ValidationException', "Value at 'timeoutDurationInHours' failed to satisfy constraint: Member must have value between 24 and 168");
    if (typeof body.clientRequestToken === 'string') {
      const same = [...this.jobs.values()].find((job) => job.resource.clientRequestToken === body.clientRequestToken);
      if (same) return { status: 200, json: { jobArn: same.resource.jobArn } };
    }
    if ([...this.jobs.values()].some((job) => job.resource.jobName === body.jobName)) return awsError('ConflictException', `A batch inference job with the name ${body.jobName} already exists.`);
    const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x').slice(0, 12);
    const now = new Date();
    const resource: Json = {
      jobArn: `arn:aws:bedrock:${this.#region}:${this.#account}:model-invocation-job/${id}`,
      jobName: body.jobName,
      modelId: body.modelId,
      ...(typeof body.clientRequestToken === 'string' && { clientRequestToken: body.clientRequestToken }),
      roleArn: body.roleArn,
      status: 'Submitted',
      submitTime: now.toISOString(),
      lastModifiedTime: now.toISOString(),
      inputDataConfig: { s3InputDataConfig: { s3InputFormat: input.s3InputFormat ?? 'JSONL', s3Uri: input.s3Uri } },
      outputDataConfig: { s3OutputDataConfig: { s3Uri: output.s3Uri, ...(typeof output.s3EncryptionKeyId === 'string' && { s3EncryptionKeyId: output.s3EncryptionKeyId }) } },
      timeoutDurationInHours: hours,
      modelInvocationType: invocationType,
      jobExpirationTime: new Date(now.getTime() + hours * 3_600_000).toISOString(),
    };
    this.jobs.set(id, { id, resource });
    return { status: 200, json: { jobArn: resource.jobArn } };
  }

  #find(identifier: string): SimulatedJob | undefined {
    return this.jobs.get(identifier.slice(identifier.lastIndexOf('/') + 1));
  }

  #get(identifier: string): SimReply {
    const job = this.#find(identifier);
    if (!job) return awsError('ResourceNotFoundException', `The specified batch inference job ${identifier} could not be found.`);
    return { status: 200, json: job.resource };
  }

  #list(req: SimRequest): SimReply {
    const max = Math.min(Number(req.query.maxResults ?? 100) || 100, 1000);
    // `nameContains`: the jobs whose name contains the text (ListModelInvocationJobs' filter).
    const name = req.query.nameContains;
    const all = [...this.jobs.values()].map((job) => job.resource).filter((job) => name === undefined || String(job.jobName).includes(name)).reverse();
    const start = req.query.nextToken !== undefined ? Number(req.query.nextToken) : 0;
    const page = all.slice(start, start + max);
    return { status: 200, json: { invocationJobSummaries: page, ...(start + max < all.length && { nextToken: String(start + max) }) } };
  }

  #stop(identifier: string): SimReply {
    const job = this.#find(identifier);
    if (!job) return awsError('ResourceNotFoundException', `The specified batch inference job ${identifier} could not be found.`);
    if (!LIVE.has(String(job.resource.status))) return awsError('ValidationException', `The batch inference job in status ${String(job.resource.status)} cannot be stopped.`);
    job.resource.status = 'Stopping';
    job.resource.lastModifiedTime = new Date().toISOString();
    this.#inputs.delete(job.id);
    return { status: 200, json: {} };
  }

  async #start(job: SimulatedJob): Promise<void> {
    const uri = String(((job.resource.inputDataConfig as Json).s3InputDataConfig as Json).s3Uri);
    let text: string;
    try {
      text = await this.#read(uri);
    } catch (error) {
      this.#end(job, 'Failed', `Unable to read the input file ${uri}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const records: Json[] = [];
    for (const [index, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        this.#end(job, 'Failed', `The input file has a line that is not JSON (line ${index + 1}).`);
        return;
      }
      if (!isRecord(record) || !isRecord(record.modelInput)) {
        this.#end(job, 'Failed', `Line ${index + 1} of the input file has no modelInput.`);
        return;
      }
      records.push({ recordId: typeof record.recordId === 'string' ? record.recordId : randomBytes(6).toString('hex').slice(0, 11).toUpperCase(), modelInput: record.modelInput });
    }
    if (records.length < MIN_RECORDS) {
      this.#end(job, 'Failed', `The number of records in the input (${records.length}) is less than the minimum of ${MIN_RECORDS} records per batch inference job.`);
      return;
    }
    this.#inputs.set(job.id, records);
    Object.assign(job.resource, { status: 'InProgress', lastModifiedTime: new Date().toISOString(), totalRecordCount: records.length, processedRecordCount: 0, successRecordCount: 0, errorRecordCount: 0 });
  }

  async #complete(job: SimulatedJob): Promise<void> {
    const records = this.#inputs.get(job.id) ?? [];
    this.#inputs.delete(job.id);
    const modelId = String(job.resource.modelId);
    const lines: string[] = [];
    let succeeded = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    for (const record of records) {
      const outcome = job.resource.modelInvocationType === 'Converse' ? this.#converse(modelId, record.modelInput as Json) : invokeModel(modelId, record.modelInput as Json, this.#claude);
      if ('failure' in outcome) {
        lines.push(JSON.stringify({ ...record, error: { errorCode: outcome.failure.status ?? ERROR_STATUS[outcome.failure.type] ?? 400, errorMessage: outcome.failure.message } }));
      } else {
        succeeded += 1;
        inputTokens += outcome.inputTokens;
        outputTokens += outcome.outputTokens;
        lines.push(JSON.stringify({ ...record, modelOutput: outcome.body }));
      }
    }
    const inputUri = String(((job.resource.inputDataConfig as Json).s3InputDataConfig as Json).s3Uri);
    const outputUri = String(((job.resource.outputDataConfig as Json).s3OutputDataConfig as Json).s3Uri).replace(/\/+$/, '');
    const inputName = inputUri.slice(inputUri.lastIndexOf('/') + 1);
    await this.#write(`${outputUri}/${job.id}/${inputName}.out`, lines.map((line) => `${line}\n`).join(''));
    const failed = records.length - succeeded;
    await this.#write(
      `${outputUri}/${job.id}/manifest.json.out`,
      JSON.stringify({ totalRecordCount: records.length, processedRecordCount: records.length, successRecordCount: succeeded, errorRecordCount: failed, inputTokenCount: inputTokens, outputTokenCount: outputTokens }),
    );
    Object.assign(job.resource, { processedRecordCount: records.length, successRecordCount: succeeded, errorRecordCount: failed });
    this.#end(job, failed > 0 ? 'PartiallyCompleted' : 'Completed');
  }

  /** A record of a Converse job: a Converse request, answered as the runtime answers it. */
  #converse(modelId: string, request: Json): InvokeOutcome {
    const invalid = validateConverse(modelId, request);
    if (invalid) return { failure: invalid };
    const outcome = converse(modelId, request, this.#converseCtx);
    if ('failure' in outcome) return { failure: outcome.failure };
    const usage = outcome.response.usage as Json;
    return { body: outcome.response, inputTokens: Number(usage.inputTokens ?? 0), outputTokens: Number(usage.outputTokens ?? 0) };
  }

  #end(job: SimulatedJob, status: string, message?: string): void {
    const now = new Date().toISOString();
    Object.assign(job.resource, { status, lastModifiedTime: now, endTime: now, ...(message !== undefined && { message }) });
    this.#inputs.delete(job.id);
  }

  async #read(uri: string): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    if (this.#s3 === undefined) throw new Error('the simulator has no S3');
    const answer = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return answer.Body!.transformToString();
  }

  async #write(uri: string, text: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    if (this.#s3 === undefined) throw new Error('the simulator has no S3');
    await this.#s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: 'application/jsonl' }));
  }
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (match === null) throw new Error(`not an S3 URI: ${uri}`);
  return { bucket: match[1], key: match[2] };
}
