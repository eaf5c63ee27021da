/**
 * Gateway-owned ids. Opaque and random: they carry no routing data (LiteLLM's base64 ids leak
 * the provider id and break when decoded), are URL-safe, and stay far below the 64 characters
 * that OpenAI's Responses API accepts for a file id.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 24 base62 characters: about 143 bits, unguessable. */
function randomBase62(length: number): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export const newFileId = (): string => `file-${randomBase62(24)}`;
export const newBatchId = (): string => `batch_${randomBase62(24)}`;
export const newFileCopyId = (): string => `fcp_${randomBase62(20)}`;
export const newBatchRequestId = (): string => `batch_req_${randomBase62(24)}`;

const FILE_ID = /^file-[A-Za-z0-9]{24}$/;
const BATCH_ID = /^batch_[A-Za-z0-9]{24}$/;

/**
 * Whether a client-supplied string can be one of our ids. Anything else (a raw provider id, a
 * path traversal, 5,000 characters) is simply "not found" without touching the database.
 */
export const isFileId = (value: string): boolean => FILE_ID.test(value);
export const isBatchId = (value: string): boolean => BATCH_ID.test(value);
