/** A stored file as the client sees it: OpenAI's `OpenAIFile`, with our id only. */
import type { FilePurpose, OpenAIFile } from '../../spec/openai-objects.ts';
import type { FileRecord } from '../../storage/file-store.ts';

export function toOpenAIFile(file: FileRecord): OpenAIFile {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: file.createdAt,
    expires_at: file.expiresAt,
    filename: file.filename,
    purpose: file.purpose as FilePurpose,
    status: file.status,
    status_details: file.statusDetails,
  };
}
