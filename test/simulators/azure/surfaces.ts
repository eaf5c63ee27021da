/**
 * Azure's two data-plane surfaces over the same resource (WIRE.md §2.1): classic
 * `/openai/files|batches?api-version=...` and v1 `/openai/v1/files|batches`. They share files and
 * batches, and differ in envelopes, status codes and initial file status.
 */
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import type { FileStore, SimulatedFile } from '../openai/file-store.ts';
import { fileWire } from '../openai/file-store.ts';
import type { BatchEngine, SimulatedBatch } from '../openai/batch-engine.ts';
import { cursorListEnvelope, filesRoutes } from '../openai/files-api.ts';
import { batchesRoutes } from '../openai/batches-api.ts';
import type { OpenAIErrorFields } from '../openai/errors.ts';
import { azureError } from './errors.ts';
import type { AzureSurface } from './errors.ts';
import { withoutV1 } from './batch-flavor.ts';

type Json = Record<string, unknown>;

export type AzureFileProcessing = 'retrieve_or_advance' | 'advance' | 'immediate';

export interface AzureSurfaceDeps {
  store: FileStore;
  engine: BatchEngine;
  newUploadId(): string;
  fileProcessing: AzureFileProcessing;
  maxBatchFileBytes: number;
}

const CLASSIC_PURPOSES = ['fine-tune', 'assistants', 'batch', 'vision'] as const;
const V1_PURPOSES = ['fine-tune', 'assistants', 'batch', 'vision', 'user_data', 'evals'] as const;
/** Azure's expiry range is 14 to 30 days (WIRE.md §2.2). */
const EXPIRY = { min: 1_209_600, max: 2_592_000 };

const isPreview = (req: SimRequest) => /preview/.test(req.query['api-version'] ?? '');

/** pending -> running -> processed, one step per call. */
export function stepFileProcessing(file: SimulatedFile): void {
  if (file.status === 'pending') file.status = 'running';
  else if (file.status === 'running') file.status = 'processed';
}

/** Classic file objects omit `expires_at` and `status_details` unless set (authoring spec examples). */
function renderClassicFile(file: SimulatedFile): Json {
  const out: Json = { status: file.status, bytes: file.bytes, purpose: file.purpose, filename: file.filename, id: file.id, created_at: file.created_at, object: 'file' };
  if (file.expires_at !== null) out.expires_at = file.expires_at;
  if (file.status_details !== null) out.status_details = file.status_details;
  return out;
}

function renderBatch(batch: SimulatedBatch, phase: 'create' | 'read'): Json {
  const out = structuredClone(batch) as unknown as Json;
  // Quirks from Azure's docs: create answers `endpoint: ""`; file ids are "" while validating.
  out.endpoint = phase === 'create' ? '' : withoutV1(batch.endpoint);
  if (batch.status === 'validating') {
    out.output_file_id = '';
    out.error_file_id = '';
  }
  return out;
}

export function azureDataPlaneRoutes(surface: AzureSurface, deps: AzureSurfaceDeps): SimRoute[] {
  const prefix = surface === 'classic' ? '/openai' : '/openai/v1';
  const error = (status: number, fields: OpenAIErrorFields): SimReply => azureError(surface, status, fields);
  const startsPending = surface === 'classic' && deps.fileProcessing !== 'immediate';
  return [
    ...filesRoutes({
      prefix,
      store: deps.store,
      error,
      notFound: (id) => error(404, { message: `File with id '${id}' not found.`, code: 'notFound' }),
      newFileId: deps.newUploadId,
      uploadPurposes: surface === 'classic' ? CLASSIC_PURPOSES : V1_PURPOSES,
      expiresAfter: EXPIRY,
      maxBatchFileBytes: deps.maxBatchFileBytes,
      maxFileBytes: 512 * 1024 * 1024,
      defaultBatchFileTtl: null,
      initialStatus: () => (startsPending ? 'pending' : 'processed'),
      uploadAnswer: (req, file) =>
        surface === 'classic' && isPreview(req)
          ? { status: 201, headers: { location: `http://${req.headers.host}/openai/files/${file.id}` } }
          : { status: 200 },
      onRetrieve: deps.fileProcessing === 'retrieve_or_advance' ? stepFileProcessing : undefined,
      render: surface === 'classic' ? renderClassicFile : fileWire,
      // Classic 2024-10-21 `FileList` is `{data, object}` only; v1 has OpenAI's cursor envelope.
      listEnvelope: surface === 'classic' ? (data) => ({ data, object: 'list' }) : cursorListEnvelope,
      paginates: surface === 'v1',
    }),
    ...batchesRoutes({
      prefix,
      engine: deps.engine,
      error,
      notFound: (id) => error(404, { message: `Batch with id '${id}' not found.`, code: 'notFound' }),
      endpoints: {
        '/chat/completions': '/chat/completions',
        '/v1/chat/completions': '/chat/completions',
        '/embeddings': '/embeddings',
        '/v1/embeddings': '/embeddings',
        '/responses': '/responses',
        '/v1/responses': '/responses',
      },
      endpointsMessage: "'/chat/completions', '/embeddings' and '/responses'",
      checksCompletionWindow: false,
      outputExpiresAfter: EXPIRY,
      beforeCreate: (body) => {
        const file = deps.store.get(String(body.input_file_id));
        if (file && file.status !== 'processed') {
          return error(400, {
            message: `The input file '${file.id}' is not ready (status '${file.status}'). Wait until its status is 'processed' before creating a batch.`,
            param: 'input_file_id',
            code: 'invalidPayload',
          });
        }
        return null;
      },
      createAnswer: (req) =>
        surface === 'classic' && isPreview(req)
          ? { status: 201, headers: { 'deployment-enqueued-tokens': '0', 'deployment-maximum-enqueued-tokens': '5000000' } }
          : { status: 200 },
      render: renderBatch,
      listEnvelope: cursorListEnvelope,
    }),
  ];
}
