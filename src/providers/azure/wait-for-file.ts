/**
 * Azure files start `pending` and a batch may only be created once its input file is
 * `processed` (WIRE.md §2.3: "client must poll GET /files/{id} until processed before creating
 * the batch"). Polls with a small, growing delay, bounded in time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamError, UpstreamTimeoutError } from '../../spec/errors.ts';
import type { CallOptions, FilesCapability } from '../../spec/provider.ts';
import { transportError } from '../http/transport-errors.ts';

export interface FileWaitSchedule {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Give up after this long. */
  timeoutMs: number;
}

export const DEFAULT_FILE_WAIT: FileWaitSchedule = Object.freeze({ firstDelayMs: 250, maxDelayMs: 2_000, timeoutMs: 120_000 });

export async function waitUntilFileProcessed(
  providerFileId: string,
  files: FilesCapability,
  options: CallOptions,
  schedule: FileWaitSchedule = DEFAULT_FILE_WAIT,
): Promise<void> {
  const deadline = Date.now() + schedule.timeoutMs;
  let delay = schedule.firstDelayMs;
  for (;;) {
    const file = await files.retrieve(providerFileId, options);
    if (file.status === 'processed') return;
    if (file.status === 'error') {
      throw new UpstreamError(
        400,
        {
          message: `Azure OpenAI could not process the batch input file${file.statusDetails ? `: ${file.statusDetails}` : '.'}`,
          type: 'invalid_request_error',
          param: 'input_file_id',
          code: 'invalid_file',
        },
        { isRetryable: false },
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new UpstreamTimeoutError(`Azure OpenAI had not processed the batch input file after ${Math.round(schedule.timeoutMs / 1000)} s.`);
    }
    try {
      await sleep(Math.min(delay, remaining), undefined, { signal: options.signal });
    } catch (error) {
      throw transportError(error, options.signal, 'waiting for the Azure OpenAI input file');
    }
    delay = Math.min(delay * 2, schedule.maxDelayMs);
  }
}
