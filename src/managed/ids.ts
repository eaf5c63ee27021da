/**
 * Gateway-owned ids. Opaque: they carry no routing data (LiteLLM's base64 ids leak the provider
 * id and break when decoded), are URL-safe, and stay far below the 64 characters that OpenAI's
 * Responses API accepts for a file id.
 *
 * The 24 characters are 9 of creation time (milliseconds, base 36, fixed width) and 15 random
 * (about 89 bits: unguessable). The time prefix makes ids of one second sort in creation order,
 * so lists are newest first even within a second (they sort by created_at, then id). Base 36 in
 * lowercase sorts the same under byte order and under PostgreSQL's usual collations.
 */
import { randomByte } from '../spec/random-pool.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomBase62(length: number): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

function timeOrdered(): string {
  return Date.now().toString(36).padStart(9, '0') + randomBase62(15);
}

export const newFileId = (): string => `file-${timeOrdered()}`;
export const newBatchId = (): string => `batch_${timeOrdered()}`;
export const newFileCopyId = (): string => `fcp_${randomBase62(20)}`;
export const newBatchRequestId = (): string => `batch_req_${randomBase62(24)}`;
export const newUploadId = (): string => `upload_${timeOrdered()}`;
export const newUploadPartId = (): string => `part_${randomBase62(24)}`;

const FILE_ID = /^file-[A-Za-z0-9]{24}$/;
const BATCH_ID = /^batch_[A-Za-z0-9]{24}$/;
const UPLOAD_ID = /^upload_[A-Za-z0-9]{24}$/;

/**
 * Whether a client-supplied string can be one of our ids. Anything else (a raw provider id, a
 * path traversal, 5,000 characters) is simply "not found" without touching the database.
 */
export const isFileId = (value: string): boolean => FILE_ID.test(value);
export const isBatchId = (value: string): boolean => BATCH_ID.test(value);
export const isUploadId = (value: string): boolean => UPLOAD_ID.test(value);
