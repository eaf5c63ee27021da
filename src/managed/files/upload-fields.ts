/**
 * The form fields of `POST /v1/files`, validated as OpenAI does (WIRE.md §1.1), plus LiteLLM's
 * `target_model_names`. `expires_after` arrives in bracket form from the SDKs
 * (`expires_after[anchor]`) and in dot form from Azure's docs (`expires_after.anchor`): both count.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { FILE_UPLOAD_PURPOSES, type FileUploadPurpose } from '../../spec/openai-objects.ts';

export interface UploadFields {
  purpose: FileUploadPurpose;
  /** Seconds after creation at which the file expires, when the client asked. */
  expiresAfterSeconds: number | null;
  /** Model groups to place copies on now (LiteLLM's `target_model_names`); empty = place later. */
  targetModelGroups: string[];
}

const MIN_EXPIRY_SECONDS = 3600;
const MAX_EXPIRY_SECONDS = 2_592_000;

export function parseUploadFields(fields: Record<string, string>): UploadFields {
  const purpose = fields.purpose;
  if (purpose === undefined || purpose === '') {
    throw new InvalidRequestError("Missing required parameter: 'purpose'.", { param: 'purpose', code: 'missing_required_parameter' });
  }
  if (!(FILE_UPLOAD_PURPOSES as readonly string[]).includes(purpose)) {
    throw new InvalidRequestError(
      `'${purpose.slice(0, 64)}' is not one of [${FILE_UPLOAD_PURPOSES.map((p) => `'${p}'`).join(', ')}] - 'purpose'`,
      { param: 'purpose' },
    );
  }
  return {
    purpose: purpose as FileUploadPurpose,
    expiresAfterSeconds: parseExpiresAfter(fields),
    targetModelGroups: parseTargetModelNames(fields.target_model_names),
  };
}

function parseExpiresAfter(fields: Record<string, string>): number | null {
  const anchor = fields['expires_after[anchor]'] ?? fields['expires_after.anchor'];
  const seconds = fields['expires_after[seconds]'] ?? fields['expires_after.seconds'];
  if (anchor === undefined && seconds === undefined) return null;
  if (anchor !== 'created_at') {
    throw new InvalidRequestError(`Invalid value for 'expires_after.anchor': expected 'created_at'.`, { param: 'expires_after.anchor', code: 'invalid_value' });
  }
  const value = Number(seconds);
  if (seconds === undefined || !Number.isInteger(value) || value < MIN_EXPIRY_SECONDS || value > MAX_EXPIRY_SECONDS) {
    throw new InvalidRequestError(
      `Invalid value for 'expires_after.seconds': expected an integer between ${MIN_EXPIRY_SECONDS} and ${MAX_EXPIRY_SECONDS}.`,
      { param: 'expires_after.seconds', code: 'invalid_value' },
    );
  }
  return value;
}

/** `target_model_names`: a comma list (LiteLLM) or a JSON array. */
export function parseTargetModelNames(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  let names: unknown = raw.split(',');
  if (raw.trim().startsWith('[')) {
    try {
      names = JSON.parse(raw);
    } catch {
      throw new InvalidRequestError("Invalid value for 'target_model_names': expected a comma-separated list.", { param: 'target_model_names' });
    }
  }
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw new InvalidRequestError("Invalid value for 'target_model_names': expected a comma-separated list.", { param: 'target_model_names' });
  }
  return [...new Set((names as string[]).map((n) => n.trim()).filter((n) => n !== ''))];
}
