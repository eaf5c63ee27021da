/**
 * The "model" behind every simulator: deterministic, so tests can predict answers.
 *
 * - The reply text is the last user message's text, unchanged (an echo).
 * - Tokens are counted as ceil(characters / 4).
 * - A user text of exactly `FAIL` makes the request fail with HTTP 400; `FAIL:<status>` (e.g.
 *   `FAIL:429`, `FAIL:500`) fails it with that status. This is how a test asks a single batch line
 *   to land in the error file, or a synchronous call to fail, without any out-of-band control.
 * - A user text containing `use tool` (case-insensitive), sent with tools, makes the model call
 *   the first tool; its arguments are built from the tool's JSON schema (see `toolArguments`).
 */
import { createHash } from 'node:crypto';

export const FAIL_MARKER = 'FAIL';
export const TOOL_TRIGGER = /use tool/i;

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** The HTTP status a user text asks for, or `null` when it asks for success. */
export function requestedFailureStatus(text: string): number | null {
  const t = text.trim();
  if (t === FAIL_MARKER) return 400;
  const m = /^FAIL:(\d{3})$/.exec(t);
  return m ? Number(m[1]) : null;
}

/** Text of a message content that is a string or an array of typed parts (`text`, `input_text`, `output_text`). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content) {
    if (part && typeof part === 'object') {
      const p = part as Record<string, unknown>;
      if (typeof p.text === 'string' && (p.type === undefined || /text$/.test(String(p.type)))) parts.push(p.text);
    }
  }
  return parts.join('\n');
}

/** Truncate an echo to a token budget; `truncated` tells whether the budget cut it. */
export function truncateToTokens(text: string, maxTokens: number | undefined): { text: string; truncated: boolean } {
  if (maxTokens === undefined || countTokens(text) <= maxTokens) return { text, truncated: false };
  return { text: text.slice(0, Math.max(0, maxTokens) * 4), truncated: true };
}

/** Split a text into a few pieces for streaming (at least one piece, several when long enough). */
export function streamPieces(text: string, pieces = 3): string[] {
  if (text.length === 0) return [''];
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * Deterministic tool-call arguments from a JSON schema: string properties get the user text,
 * numbers 1, booleans true, arrays [], objects {}.
 */
export function toolArguments(schema: unknown, userText: string): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props)) {
    const type = Array.isArray(prop?.type) ? prop.type[0] : prop?.type;
    if (type === 'number' || type === 'integer') out[name] = 1;
    else if (type === 'boolean') out[name] = true;
    else if (type === 'array') out[name] = [];
    else if (type === 'object') out[name] = {};
    else out[name] = userText;
  }
  return out;
}

/** A unit-length embedding vector derived from the text's SHA-256, so equal inputs embed equally. */
export function embeddingVector(text: string, dimensions: number): number[] {
  const out = new Array<number>(dimensions);
  let seed = createHash('sha256').update(text).digest();
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const j = i % 8;
    if (j === 0 && i > 0) seed = createHash('sha256').update(seed).digest();
    const v = seed.readInt32LE(j * 4) / 2 ** 31;
    out[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimensions; i++) out[i] = out[i] / norm;
  return out;
}

/** Float32 little-endian base64, as OpenAI answers `encoding_format: "base64"`. */
export function vectorToBase64(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}
