/**
 * How Azure OpenAI's Batch differs from OpenAI's (WIRE.md §2.2, §2.4, §2.5): ids are
 * `batch_<uuid>`, output files `file-<uuid>`; every JSONL line's `body.model` must name an existing
 * deployment and all lines the same one; a `completion_window` other than `24h` fails the job;
 * output lines have no top-level `id` and a UUID `request_id`; both output and error files are
 * always written (a 0-byte error file when nothing failed); no `model`/`usage` on the Batch.
 */
import { randomHex, uuid } from '../common/ids.ts';
import type { BatchFlavor } from '../openai/batch-engine.ts';
import { modelMismatchErrors } from '../openai/batch-lines.ts';
import type { BatchLine } from '../openai/batch-lines.ts';
import type { InferenceContext } from '../openai/chat.ts';
import { executeEndpoint } from '../openai/inference.ts';
import type { BatchableEndpoint } from '../openai/inference.ts';
import { azureContentFilters } from './content-filter.ts';

// Azure's Batch API has no moderations or images endpoint.
const LABELS: Partial<Record<BatchableEndpoint, string>> = {
  '/chat/completions': 'Chat Completions',
  '/embeddings': 'Embeddings',
  '/responses': 'Responses',
  '/completions': 'Completions',
};

/** `/v1/chat/completions` and `/chat/completions` name the same Azure endpoint. */
export function withoutV1(path: string): string {
  return path.startsWith('/v1/') ? path.slice(3) : path;
}

export function azureBatchFlavor(deploymentExists: (name: string) => boolean, ctx: InferenceContext): BatchFlavor {
  return {
    newBatchId: () => `batch_${uuid()}`,
    newFileId: (kind) => (kind === 'upload' ? `file-${randomHex(32)}` : `file-${uuid()}`),
    newLineId: () => null,
    newRequestId: () => uuid(),
    reportsModelAndUsage: false,
    alwaysWritesBothFiles: true,
    defaultOutputTtl: null,
    lineRules: (endpoint) => ({
      urlMatches: (url) => withoutV1(url) === endpoint,
      urlMismatchCode: 'url_mismatch',
      endpointLabel: LABELS[endpoint] ?? endpoint,
      requiresMessages: endpoint === '/chat/completions',
      maxLines: 100_000,
      modelErrors: (lines: BatchLine[]) => {
        const unknown = lines.filter((l) => !deploymentExists(String(l.body.model)));
        if (unknown.length > 0) {
          return unknown.map((l) => ({
            code: 'model_not_found',
            message: `The model deployment '${String(l.body.model)}' specified in the input file was not found.`,
            param: 'body.model',
            line: l.line,
          }));
        }
        return modelMismatchErrors(
          lines,
          (first, other) => `The model deployment '${other}' does not match the deployment '${first}' of the first line. Every line of a batch must use the same deployment.`,
        );
      },
    }),
    preValidation: (batch) =>
      batch.completion_window === '24h'
        ? []
        : [
            {
              code: 'invalid_request',
              message: `The completion window '${batch.completion_window}' is not supported. Supported values are: '24h'.`,
              param: 'completion_window',
              line: null,
            },
          ],
    runLine: (endpoint, body) => {
      const result = executeEndpoint(endpoint, body, ctx);
      if (result.status === 200 && endpoint === '/chat/completions') return { status: 200, body: azureContentFilters.completion(result.body) };
      return result;
    },
    missingFileError: (fileId) => ({
      code: 'invalid_request',
      message: `The input file '${fileId}' could not be found.`,
      param: 'input_file_id',
      line: null,
    }),
  };
}
