/**
 * Lenient schemas of OpenAI's file and batch objects (WIRE.md §1.1, §1.2): only the fields
 * Portico reads, each tolerant of `null` or absence, so a new field or a provider variant
 * never breaks a call.
 */
import { z } from 'zod';

const timestamp = z.number().nullish();
const idOrNull = z.string().nullish();

export const fileWireSchema = z.looseObject({
  id: z.string(),
  bytes: z.number().nullish(),
  created_at: timestamp,
  filename: z.string().nullish(),
  purpose: z.string().nullish(),
  status: z.string().nullish(),
  status_details: z.string().nullish(),
  expires_at: timestamp,
});
export type FileWire = z.infer<typeof fileWireSchema>;

const batchErrorItemSchema = z.looseObject({
  code: z.string().nullish(),
  message: z.string().nullish(),
  param: z.string().nullish(),
  line: z.number().nullish(),
});

export const batchWireSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  output_file_id: idOrNull,
  error_file_id: idOrNull,
  created_at: timestamp,
  in_progress_at: timestamp,
  expires_at: timestamp,
  finalizing_at: timestamp,
  completed_at: timestamp,
  failed_at: timestamp,
  expired_at: timestamp,
  cancelling_at: timestamp,
  cancelled_at: timestamp,
  request_counts: z
    .looseObject({ total: z.number().nullish(), completed: z.number().nullish(), failed: z.number().nullish() })
    .nullish(),
  usage: z
    .looseObject({
      input_tokens: z.number().nullish(),
      input_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
      output_tokens: z.number().nullish(),
      output_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
      total_tokens: z.number().nullish(),
    })
    .nullish(),
  errors: z.looseObject({ data: z.array(batchErrorItemSchema).nullish() }).nullish(),
});
export type BatchWire = z.infer<typeof batchWireSchema>;
